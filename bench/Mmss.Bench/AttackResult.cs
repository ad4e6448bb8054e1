namespace Mmss.Bench;

/// <summary>
/// One phase of the abuse scenario: the legitimate terminals' round trips while the attack ran, and what the attack got
/// back from the server (counted by the refusal it was answered with: a stream error, a SASL failure, an HTTP status).
/// </summary>
public sealed record AttackResult
{
    public string Attack { get; init; } = "";
    public double Seconds { get; init; }
    public long RoundTrips { get; init; }
    public double? P50Ms { get; init; }
    public double? P99Ms { get; init; }
    /// <summary>The legitimate terminals' failures: FAIL answers, answers not received within the timeout, lost connections.</summary>
    public long Errors { get; init; }
    public long Attempts { get; init; }
    /// <summary>Attempts by the answer they got: "resource-constraint", "not-authorized", "401", "accepted", …</summary>
    public Dictionary<string, long> Answers { get; init; } = [];
    /// <summary>The fast sender's stanzas answered per second (the rate it was held to).</summary>
    public double? AttackerStanzasPerSecond { get; init; }
}
