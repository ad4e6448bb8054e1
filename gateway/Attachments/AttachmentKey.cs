using System.Text;

namespace Mmss.Gateway.Attachments;

/// <summary>
/// One stored file: (sender UDN, message id, file name) as spec 7.4 names them. Each part is hex-encoded into the
/// storage path, so no name, however strange, can reach outside the message's own folder.
/// </summary>
public readonly record struct AttachmentKey(string UserId, string MessageId, string FileName)
{
    public string Path => $"{UserId}/{Encode(MessageId)}/{Encode(FileName)}";

    public string MessagePrefix => $"{UserId}/{Encode(MessageId)}/";

    private static string Encode(string value) => Convert.ToHexStringLower(Encoding.UTF8.GetBytes(value));
}

/// <summary>What a message id and a file name may be; a refusal says why.</summary>
public static class AttachmentNamesRules
{
    public const int MaxFileNameBytes = 255;
    public const int MaxMessageIdLength = 128;

    public static string? ValidateFileName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "a file name is required";
        if (Encoding.UTF8.GetByteCount(name) > MaxFileNameBytes) return $"file names have at most {MaxFileNameBytes} bytes";
        if (name.Any(char.IsControl)) return "file names must not contain control characters";
        if (name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..") return "file names must not be paths";
        if (name != name.Trim()) return "file names must not start or end with spaces";
        return null;
    }

    public static string? ValidateMessageId(string? id)
    {
        if (string.IsNullOrEmpty(id)) return "msgid is required";
        if (id.Length > MaxMessageIdLength) return $"msgid has at most {MaxMessageIdLength} characters";
        if (id.Any(char.IsControl)) return "msgid must not contain control characters";
        return null;
    }
}
