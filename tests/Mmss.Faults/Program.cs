using Mmss.Faults;
using Mmss.Integration.Tests.Cluster;
using Mmss.Integration.Tests.Infrastructure;

// Fault loops (issue 17; README "Reliability"): a steady MMS workload against the real MMSS while faults are
// injected, then the count per message id. Exit code 1 when anything was lost, doubled after its ACK, left pending
// or unanswered, or when a fault's own check failed.
var options = FaultOptions.Parse(args);
Console.WriteLine($"fault loops: {string.Join(", ", options.Faults)}; {options.Messages} MMS per loop at {options.Rate}/s, " +
                  $"{Population.UserCount} terminals, seed {options.Seed}");
var settings = FaultRun.Settings(options);
var results = new List<FaultCounts>();
foreach (var fault in options.Faults)
{
    var started = DateTime.UtcNow;
    FaultCounts counts;
    try
    {
        counts = fault switch
        {
            "kill" => await RunAsync(fault, await EmbeddedTarget.StartAsync(settings, null),
                (run, target, notes, failures) => KillLoop.RunAsync(run, target, options, notes, failures)),
            "half-open" => await RunAsync(fault, await EmbeddedTarget.StartAsync(settings, null),
                (run, _, notes, failures) => HalfOpenLoop.RunAsync(run, options, notes, failures)),
            "disk-full" => await RunDiskFullAsync(),
            "s3-down" => await RunS3DownAsync(),
            "mqtt-down" => await RunMqttDownAsync(),
            _ => await RunAsync(fault, await ClusterTarget.StartAsync(settings),
                (run, target, notes, failures) => ClusterLoop.RunAsync(run, target, options, notes, failures)),
        };
    }
    catch (Exception e)
    {
        counts = new FaultCounts { Fault = fault };
        counts.Failures.Add($"the loop did not complete: {e}");
    }
    counts.Notes.Add($"{(DateTime.UtcNow - started).TotalSeconds:0} s in all");
    counts.Print(Console.Out);
    results.Add(counts);
}

var failed = results.Count(r => !r.Passed);
// The format of dotnet test's summary line, which tests/run.sh counts: one loop, one test.
Console.WriteLine($"{(failed == 0 ? "Passed" : "Failed")}!  - Failed: {failed}, Passed: {results.Count - failed}, Skipped: 0, " +
                  $"Total: {results.Count} - fault loops (tests/Mmss.Faults)");
return failed == 0 ? 0 : 1;

async Task<FaultCounts> RunAsync<T>(string fault, T target, Func<FaultRun, T, List<string>, List<string>, Task> inject,
    AttachmentTraffic? attachments = null) where T : IMmssTarget
{
    await using var run = await FaultRun.StartAsync(fault, options, target, attachments);
    return await run.RunAsync((r, notes, failures) => inject(r, target, notes, failures));
}

async Task<FaultCounts> RunDiskFullAsync()
{
    await using var disk = await SmallDisk.MountAsync(options.DiskMegabytes);
    return await RunAsync("disk-full", await EmbeddedTarget.StartAsync(settings, Path.Combine(disk.Path, "data")),
        (run, target, notes, failures) => DiskFullLoop.RunAsync(run, target, options, disk, notes, failures));
}

async Task<FaultCounts> RunS3DownAsync()
{
    await using var s3 = new S3Server();
    await s3.StartAsync();
    var target = await ClusterTarget.StartAsync(new Dictionary<string, string>(settings)
    {
        ["Mmss__Attachments__Store"] = "S3",
        ["Mmss__Attachments__S3__Endpoint"] = s3.Endpoint,
        ["Mmss__Attachments__S3__Bucket"] = "mmss-faults",
        ["Mmss__Attachments__S3__AccessKey"] = S3Server.AccessKey,
        ["Mmss__Attachments__S3__SecretKey"] = S3Server.SecretKey,
    });
    using var attachments = new AttachmentTraffic(target.Cluster);
    return await RunAsync("s3-down", target,
        (run, _, notes, failures) => S3DownLoop.RunAsync(run, s3, attachments, options, notes, failures), attachments);
}

async Task<FaultCounts> RunMqttDownAsync()
{
    await using var broker = new MosquittoBroker();
    await broker.StartAsync();
    await using var subscriber = await EventSubscriber.StartAsync(broker.Port, $"mmss/{MmssCluster.Domain}/#");
    await using var witness = WitnessSubscriber.Start(broker.Port, $"mmss/{MmssCluster.Domain}/#");
    var target = await ClusterTarget.StartAsync(new Dictionary<string, string>(settings)
    {
        // The silos publish; gateways of a cluster have no broker settings.
        ["Mmss__Mqtt__Enabled"] = "true",
        ["Mmss__Mqtt__Server"] = $"127.0.0.1:{broker.Port}",
    });
    return await RunAsync("mqtt-down", target,
        (run, t, notes, failures) => MqttDownLoop.RunAsync(run, t.Cluster, broker, subscriber, witness, options, notes, failures));
}
