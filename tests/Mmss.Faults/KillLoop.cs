namespace Mmss.Faults;

/// <summary>kill -9 of the embedded server at random moments of the workload, each time started again on the same data directory.</summary>
public static class KillLoop
{
    public static async Task RunAsync(FaultRun run, EmbeddedTarget target, FaultOptions options, List<string> notes, List<string> failures)
    {
        var moments = run.RandomMoments(options.Kills);
        var restarts = new List<double>();
        foreach (var moment in moments)
        {
            await run.WaitForSentAsync(moment);
            restarts.Add(await target.KillAndRestartAsync());
        }
        if (restarts.Count > 0)
        {
            notes.Add($"{restarts.Count} kills -9 after {string.Join(", ", moments)} messages sent; back up in " +
                      $"{restarts.Min():0.0}–{restarts.Max():0.0} s (mean {restarts.Average():0.0} s)");
        }
        if (restarts.Count != options.Kills) failures.Add($"{restarts.Count} kills of {options.Kills}");
    }
}
