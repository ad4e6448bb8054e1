namespace Mmss.GrainInterfaces;

/// <summary>What became of a submitted MMS. A failure carries the FAIL ReturnCode owed to the originator at once.</summary>
[GenerateSerializer, Immutable]
public sealed record SubmitOutcome([property: Id(0)] bool Accepted, [property: Id(1)] int FailCode, [property: Id(2)] string Reason)
{
    public static SubmitOutcome Stored(string reason) => new(true, 0, reason);

    public static SubmitOutcome Failed(int code, string reason) => new(false, code, reason);
}
