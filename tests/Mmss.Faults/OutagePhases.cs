using System.Globalization;

namespace Mmss.Faults;

/// <summary>
/// A run around one outage of a dependency, split by the messages sent: before it went down, while it was down, after it
/// came back. Each phase's answers and their latency (submission to answer) say whether MMS kept flowing.
/// </summary>
public sealed class OutagePhases
{
    /// <summary>Messages sent when the dependency went down, and when it was back.</summary>
    public int DownAt { get; set; }
    public int UpAt { get; set; }
    /// <summary>Messages sent when the loop took stock: the ones after it are not described.</summary>
    public int EndAt { get; set; } = int.MaxValue;

    public DateTime DownTime { get; set; }
    public DateTime UpTime { get; set; }

    public TimeSpan Outage => UpTime - DownTime;

    public static int Sequence(string id) => int.Parse(id[(id.LastIndexOf('-') + 1)..], CultureInfo.InvariantCulture);

    /// <summary>"before", "during", "after", or "later" past <see cref="EndAt"/>.</summary>
    public string PhaseOf(string id) => Sequence(id) is var n && n < DownAt ? "before" : n < UpAt ? "during" : n < EndAt ? "after" : "later";

    public static readonly string[] Names = ["before", "during", "after"];

    /// <summary>Per phase: the answers by kind and the answer latency's median, 99th percentile and maximum.</summary>
    public string DescribeAnswers(Ledger ledger) => string.Join("; ", Names.Select(phase =>
    {
        var answers = ledger.AnswersOf(id => PhaseOf(id) == phase);
        var latencies = ledger.AnswerMilliseconds(id => PhaseOf(id) == phase);
        var kinds = string.Join(", ", answers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));
        return latencies.Count == 0
            ? $"{phase}: {kinds}"
            : $"{phase}: {kinds}, answered in p50 {Percentile(latencies, 0.50):0} ms, p99 {Percentile(latencies, 0.99):0} ms, max {latencies[^1]:0} ms";
    }));

    /// <summary>The answers' 99th percentile latency of a phase, in ms (0 when none).</summary>
    public double P99(Ledger ledger, string phase) => ledger.AnswerMilliseconds(id => PhaseOf(id) == phase) is { Count: > 0 } l ? Percentile(l, 0.99) : 0;

    /// <summary>
    /// A failure when the answers' p99 during the outage exceeds five times the one before and 5 s: MMS waiting on the
    /// dependency would take that long, whereas a busy shared machine alone gave p99s of 2–4 s in either phase.
    /// </summary>
    public string? LatencyBlowUp(Ledger ledger, string dependency)
    {
        var (before, during) = (P99(ledger, "before"), P99(ledger, "during"));
        return during > Math.Max(5000, 5 * before) ? $"answers' p99 rose from {before:0} ms to {during:0} ms while {dependency} was down" : null;
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
