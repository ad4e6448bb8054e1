namespace Mmss.Grains;

/// <summary>The attach property (spec 7.5.1): one file name, or several separated by commas (project decision).</summary>
public static class AttachmentNames
{
    public static IReadOnlyList<string> Parse(string? attach) =>
        string.IsNullOrWhiteSpace(attach)
            ? []
            : attach.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToArray();
}
