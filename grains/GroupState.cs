namespace Mmss.Grains;

[GenerateSerializer]
public sealed class GroupState
{
    [Id(0)] public string? Name { get; set; }

    [Id(1)] public List<string>? Members { get; set; }

    /// <summary>
    /// Every member is registered in its membership index. False in groups stored before the index existed, which
    /// register their members once (<see cref="GroupGrain.OnActivateAsync"/>).
    /// </summary>
    [Id(2)] public bool MembersIndexed { get; set; }
}
