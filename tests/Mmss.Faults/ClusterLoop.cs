namespace Mmss.Faults;

/// <summary>
/// Cluster faults at random moments of the workload, in turn: kill -9 of a gateway (its terminals log in again through
/// the other), kill -9 of a silo (its grains come back on the other), a PostgreSQL restart (immediate shutdown); each
/// process is started again at once, as an orchestrator would (PostgreSQL after --db-down seconds, if given).
/// </summary>
public static class ClusterLoop
{
    public static async Task RunAsync(FaultRun run, ClusterTarget target, FaultOptions options, List<string> notes, List<string> failures)
    {
        var cluster = target.Cluster;
        var moments = run.RandomMoments(options.ClusterFaults);
        var done = new List<string>();
        for (var i = 0; i < moments.Count; i++)
        {
            await run.WaitForSentAsync(moments[i]);
            var started = DateTime.UtcNow;
            string what;
            switch (i % 3)
            {
                case 0:
                    var gateway = cluster.Gateways[run.Random(cluster.Gateways.Count)];
                    await cluster.KillAsync(gateway);
                    await cluster.StartGatewayAsync(gateway);
                    what = $"kill -9 {gateway}";
                    break;
                case 1:
                    var silo = cluster.Silos[run.Random(cluster.Silos.Count)];
                    await cluster.KillAsync(silo);
                    await cluster.StartSiloAsync(silo);
                    what = $"kill -9 {silo}";
                    break;
                default:
                    await cluster.Postgres.ShutDownAsync(immediate: true);
                    if (options.DatabaseDownSeconds > 0) await Task.Delay(TimeSpan.FromSeconds(options.DatabaseDownSeconds));
                    await cluster.Postgres.StartAsync();
                    what = options.DatabaseDownSeconds > 0 ? $"PostgreSQL down for {options.DatabaseDownSeconds} s" : "PostgreSQL restart";
                    break;
            }
            done.Add($"{what} after {moments[i]} messages (back in {(DateTime.UtcNow - started).TotalSeconds:0.0} s)");
        }
        notes.Add(string.Join("; ", done));
        if (done.Count != options.ClusterFaults) failures.Add($"{done.Count} cluster faults of {options.ClusterFaults}");
    }
}
