using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Faults;

/// <summary>
/// The data directory on a small tmpfs, filled by a ballast file for the middle third of the workload (longer if the
/// first FAIL 9 answers take longer to come): new MMS must be refused with FAIL 9 (storage unavailable), the store must
/// stay whole (the server is killed and started again on it at the end), and MMS must be accepted again once the
/// ballast is gone.
/// </summary>
public static class DiskFullLoop
{
    public static async Task RunAsync(FaultRun run, EmbeddedTarget target, FaultOptions options, SmallDisk disk, List<string> notes, List<string> failures)
    {
        await run.WaitForSentAsync(options.Messages / 3);
        var filledAt = run.Ledger.SentCount;
        var bytes = await disk.FillAsync();
        await run.WaitForSentAsync(options.Messages * 2 / 3);
        // Full for long enough that refusals come back: the gateway tries a failed store again for StoreRetrySeconds first.
        await FaultRun.WaitAsync(() => run.Ledger.AnswersOf(_ => true).GetValueOrDefault("FAIL 9") >= RefusalsWanted, TimeSpan.FromSeconds(120));
        disk.Free();
        var freedAt = run.Ledger.SentCount;
        await run.WaitForSentAsync(options.Messages);
        var restart = await target.KillAndRestartAsync();
        var endedAt = run.Ledger.SentCount;

        // Messages sent while full, and after the ballast went (leaving the first few, in flight when it did), once answered.
        await FaultRun.WaitAsync(() => !run.Ledger.AnswersOf(id => Sequence(id) is var n && n >= filledAt && n < endedAt).ContainsKey("none"),
            TimeSpan.FromSeconds(options.SettleSeconds));
        var whileFull = run.Ledger.AnswersOf(id => Sequence(id) is var n && n >= filledAt && n < freedAt);
        var afterwards = run.Ledger.AnswersOf(id => Sequence(id) is var n && n >= freedAt + 10 && n < endedAt);
        notes.Add($"ballast of {bytes / (1024 * 1024)} MiB filled the {disk.Megabytes} MiB tmpfs after {filledAt} messages, " +
                  $"removed after {freedAt}; answers to the MMS sent while full: {Describe(whileFull)}; after: {Describe(afterwards)}; " +
                  $"then kill -9 and a start on the same store in {restart:0.0} s");
        if (whileFull.GetValueOrDefault("FAIL 9") == 0) failures.Add("no MMS was refused with FAIL 9 while the disk was full");
        if (afterwards.GetValueOrDefault("FAIL 9") > 0) failures.Add("MMS were still refused with FAIL 9 after the space came back");
        if (afterwards.GetValueOrDefault("ACK") == 0) failures.Add("no MMS was accepted after the space came back");
    }

    /// <summary>FAIL 9 answers to see before the space comes back.</summary>
    private const int RefusalsWanted = 20;

    private static int Sequence(string id) => int.Parse(id[(id.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    private static string Describe(Dictionary<string, int> answers) =>
        string.Join(", ", answers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value}"));
}
