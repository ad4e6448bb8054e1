namespace Mmss.Grains;

[GenerateSerializer]
public sealed class GroupState
{
    [Id(0)] public string? Name { get; set; }

    [Id(1)] public List<string>? Members { get; set; }
}
