using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mmss.Bench;

/// <summary>Side-by-side table (Markdown) and chart (SVG) of results from one run, each figure with its ratio to the best peer.</summary>
public static class Report
{
    public static void Write(IReadOnlyList<string> inputs, string markdownPath, string? svgPath)
    {
        var results = inputs.Select(f => JsonSerializer.Deserialize<BenchResult>(File.ReadAllText(f), JsonSerializerOptions.Web)!).ToList();
        var md = new StringBuilder();
        foreach (var scenario in results.Select(r => r.Scenario).Distinct())
        {
            var rows = results.Where(r => r.Scenario == scenario).ToList();
            md.AppendLine($"### {scenario}").AppendLine();
            var columns = Columns(rows);
            md.AppendLine("| server | " + string.Join(" | ", columns.Select(c => c.Name)) + " |");
            md.AppendLine("|---|" + string.Concat(columns.Select(_ => "---|")));
            foreach (var row in rows)
            {
                md.Append($"| {row.Label} |");
                foreach (var (name, value, higherIsBetter) in columns)
                {
                    var v = value(row);
                    var peers = rows.Where(r => IsPeer(r.Label)).Select(value).Where(x => x is not null).Select(x => x!.Value).ToList();
                    var best = peers.Count == 0 ? (double?)null : higherIsBetter ? peers.Max() : peers.Min();
                    var ratios = new List<string>();
                    if (IsMmss(row.Label) && v is not null && name != "connections")
                    {
                        if (best is > 0) ratios.Add($"{Ratio(v.Value, best.Value)}× best peer");
                        // Another deployment of the MMSS (the cluster) is also set against the embedded one.
                        if (row.Label != Embedded && rows.FirstOrDefault(r => r.Label == Embedded) is { } embedded && value(embedded) is > 0 and var e)
                            ratios.Add($"{Ratio(v.Value, e)}× {Embedded}");
                    }
                    var ratio = ratios.Count == 0 ? "" : $" ({string.Join("; ", ratios)})";
                    md.Append($" {Format(v)}{ratio}{VersusForwarder(rows, row, name, value, v)} |");
                }
                md.AppendLine();
            }
            md.AppendLine();
            var splits = rows.SelectMany(row => new[]
            {
                Split(row.Label, "server CPU ms per round trip", row.ServerCpuMsPerRoundTripByProcess),
                Split(row.Label, "CPU at rest (%)", row.IdleCpuPercentByProcess),
            }).OfType<string>().ToList();
            foreach (var line in splits) md.AppendLine(line);
            if (splits.Count > 0) md.AppendLine();
        }
        File.WriteAllText(markdownPath, md.ToString());
        if (svgPath is not null) File.WriteAllText(svgPath, Chart(results));
    }

    /// <summary>One line naming each process's share of a figure; none for a server of one process.</summary>
    private static string? Split(string label, string figure, Dictionary<string, double>? byProcess) =>
        byProcess is { Count: > 1 }
            ? $"{label}: {figure} by process: " + string.Join(", ", byProcess.Select(p => $"{p.Key} {Format(p.Value)}")) + "."
            : null;

    /// <summary>The embedded MMSS's label; other MMSS deployments are labelled "mmss-..." (mmss-cluster).</summary>
    private const string Embedded = "mmss";
    private const string Forwarder = "forwarder";

    private static bool IsMmss(string label) => label == Embedded || label.StartsWith(Embedded + "-", StringComparison.Ordinal);

    /// <summary>The other XMPP servers; the forwarder is the driver's ceiling, not a peer.</summary>
    private static bool IsPeer(string label) => !IsMmss(label) && label != Forwarder;

    private static string Ratio(double value, double baseline) => (value / baseline).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>The MMSS's latency next to the forwarder's (the driver's ceiling), as a difference in ms.</summary>
    private static string VersusForwarder(List<BenchResult> rows, BenchResult row, string name, Func<BenchResult, double?> value, double? v)
    {
        if (!IsMmss(row.Label) || v is null || !name.EndsWith(" ms", StringComparison.Ordinal)) return "";
        if (rows.FirstOrDefault(r => r.Label == Forwarder) is not { } forwarder || value(forwarder) is not { } baseline) return "";
        return $", +{(v.Value - baseline).ToString("0.0", CultureInfo.InvariantCulture)} ms vs forwarder";
    }

    private static List<(string Name, Func<BenchResult, double?> Value, bool HigherIsBetter)> Columns(List<BenchResult> rows)
    {
        var all = new List<(string, Func<BenchResult, double?>, bool)>
        {
            ("connections", r => r.Connections, true),
            ("round trips/s", r => r.RoundTripsPerSecond, true),
            ("p50 ms", r => r.P50Ms, false),
            ("p99 ms", r => r.P99Ms, false),
            ("p99.9 ms", r => r.P999Ms, false),
            ("server CPU ms per round trip", r => r.ServerCpuMsPerRoundTrip, false),
            ("logins/s", r => r.LoginsPerSecond, true),
            ("login p50 ms", r => r.LoginP50Ms, false),
            ("login p99 ms", r => r.LoginP99Ms, false),
            ("memory per connection (KiB)", r => r.RssPerConnectionBytes / 1024, false),
            ("CPU at rest (%)", r => r.IdleCpuPercent, false),
            ("last copy p50 ms", r => r.GroupLastDeliveryP50Ms, false),
            ("last copy max ms", r => r.GroupLastDeliveryMaxMs, false),
            ("aggregated ACK p50 ms", r => r.GroupAckP50Ms, false),
            ("aggregated ACK max ms", r => r.GroupAckMaxMs, false),
            ("upload MB/s", r => r.UploadMegabytesPerSecond, true),
            ("download MB/s", r => r.DownloadMegabytesPerSecond, true),
        };
        return all.Where(c => rows.Any(r => c.Item2(r) is not null)).ToList();
    }

    private static string Format(double? value) => value switch
    {
        null => "–",
        >= 100 => value.Value.ToString("0", CultureInfo.InvariantCulture),
        < 0.1 and > 0 => value.Value.ToString("0.000", CultureInfo.InvariantCulture),
        _ => value.Value == Math.Floor(value.Value)
            ? value.Value.ToString("0", CultureInfo.InvariantCulture)
            : value.Value.ToString("0.00", CultureInfo.InvariantCulture),
    };

    /// <summary>Bars of round trips/s and p50/p99 latency per server, for each round-trip scenario.</summary>
    private static string Chart(List<BenchResult> results)
    {
        var roundTrips = results.Where(r => r.RoundTripsPerSecond is not null).ToList();
        const int width = 900, rowHeight = 26, left = 230;
        var height = 60 + roundTrips.Count * rowHeight * 2 + 60;
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='12'>");
        svg.Append("<text x='10' y='20' font-size='15'>Round trips per second (bars) and p50/p99 latency in ms (labels)</text>");
        var max = roundTrips.Select(r => r.RoundTripsPerSecond!.Value).DefaultIfEmpty(1).Max();
        var y = 40;
        foreach (var r in roundTrips)
        {
            var barWidth = (int)((width - left - 170) * r.RoundTripsPerSecond!.Value / max);
            var color = r.Label switch { Embedded => "#2b7bb9", Forwarder => "#999999", _ when IsMmss(r.Label) => "#7fb8e0", _ => "#e08a2b" };
            svg.Append($"<text x='10' y='{y + 16}'>{r.Label} {r.Scenario} n={r.Connections}</text>");
            svg.Append($"<rect x='{left}' y='{y}' width='{Math.Max(1, barWidth)}' height='{rowHeight - 6}' fill='{color}'/>");
            svg.Append($"<text x='{left + barWidth + 6}' y='{y + 16}'>{Format(r.RoundTripsPerSecond)}/s · p50 {Format(r.P50Ms)} · p99 {Format(r.P99Ms)}</text>");
            y += rowHeight;
        }
        svg.Append("</svg>");
        return svg.ToString();
    }
}
