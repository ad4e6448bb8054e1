namespace Mmss.Faults;

/// <summary>
/// A terminal's link cut without a close at random moments: the server must notice by its XEP-0199 ping (closing the
/// session within idle + ping timeout), keep what it could not deliver, and give it at the next login.
/// </summary>
public static class HalfOpenLoop
{
    public static async Task RunAsync(FaultRun run, FaultOptions options, List<string> notes, List<string> failures)
    {
        var moments = run.RandomMoments(options.Cuts);
        // The keepalive sweep runs every quarter of the ping timeout at most; a loaded machine gets some slack.
        var limit = TimeSpan.FromSeconds(options.IdleSecondsBeforePing + options.PingTimeoutSeconds + 10);
        var noticed = new List<double>();
        foreach (var moment in moments)
        {
            await run.WaitForSentAsync(moment);
            var terminal = run.Terminals[run.Random(run.Terminals.Length)];
            await FaultRun.WaitAsync(() => terminal.IsLoggedIn, TimeSpan.FromSeconds(60), $"{terminal.User} to be logged in");
            var took = await terminal.Proxy.CutAsync(limit);
            if (took is { } seconds) noticed.Add(seconds.TotalSeconds);
            else failures.Add($"the server did not close the half-open session of {terminal.User} within {limit.TotalSeconds:0} s");
        }
        if (noticed.Count > 0)
        {
            notes.Add($"{options.Cuts} links cut without a close after {string.Join(", ", moments)} messages sent; the server closed the dead " +
                      $"session after {noticed.Min():0.0}–{noticed.Max():0.0} s (idle {options.IdleSecondsBeforePing} s + ping timeout " +
                      $"{options.PingTimeoutSeconds} s)");
        }
    }
}
