namespace Mmss.Bench;

/// <summary>One scenario's figures against one server; written as JSON, read back by the report.</summary>
public sealed record BenchResult
{
    public string Label { get; init; } = "";
    public string Scenario { get; init; } = "";
    public int Connections { get; init; }
    public int Window { get; init; }
    public double Seconds { get; init; }
    public double? RoundTripsPerSecond { get; init; }
    public double? P50Ms { get; init; }
    public double? P99Ms { get; init; }
    public double? P999Ms { get; init; }
    public double? ServerCpuMsPerRoundTrip { get; init; }
    /// <summary>The same per server process given (its descendants included), e.g. Mmss.Gateway, Mmss.Silo, postgres.</summary>
    public Dictionary<string, double>? ServerCpuMsPerRoundTripByProcess { get; init; }
    public double? LoginsPerSecond { get; init; }
    public double? LoginP50Ms { get; init; }
    public double? LoginP99Ms { get; init; }
    public double? RssPerConnectionBytes { get; init; }
    public double? IdleCpuPercent { get; init; }
    /// <summary>The same per server process given (its descendants included): which process a cluster's CPU at rest is in.</summary>
    public Dictionary<string, double>? IdleCpuPercentByProcess { get; init; }
    public double? GroupLastDeliveryP50Ms { get; init; }
    public double? GroupLastDeliveryMaxMs { get; init; }
    public double? GroupAckP50Ms { get; init; }
    public double? GroupAckMaxMs { get; init; }
    public double? UploadMegabytesPerSecond { get; init; }
    public double? DownloadMegabytesPerSecond { get; init; }
    /// <summary>The abuse scenario: the quiet baseline first, then one entry per attack.</summary>
    public List<AttackResult>? Attacks { get; init; }
}
