using Mmss.Bench;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>The load tool, run for a second with a handful of connections, so that it cannot rot.</summary>
[Collection(ServerCollection.Name)]
public class Bench_Smoke_Tests(ServerFixture fixture)
{
    private async Task<BenchResult> RunAsync(params string[] scenario)
    {
        for (var i = 0; i < 4; i++) await fixture.Server.ProvisionUserAsync($"smoke{i}", "pw");
        string[] common = ["--port", fixture.Server.C2sPort.ToString(), "--domain", EmbeddedServer.Domain, "--users", "smoke", "--tls", "true",
            "--seconds", "1", "--warmup", "0.5", "-n", "4", "--server-pid", fixture.Server.ProcessId!.Value.ToString(), "--label", "mmss"];
        // The scenario's own options come last, so that they win over the common ones.
        return await new Scenarios(BenchOptions.Parse([.. common, .. scenario])).RunAsync();
    }

    [Fact]
    public async Task Round_trip_scenario_measures_mms_and_ack_round_trips()
    {
        var result = await RunAsync("--scenario", "roundtrip", "-w", "2");
        Assert.True(result.RoundTripsPerSecond > 0, "no round trip completed");
        Assert.True(result.P50Ms > 0);
        Assert.NotNull(result.ServerCpuMsPerRoundTrip);
    }

    [Fact]
    public async Task Login_and_idle_scenarios_report_their_figures()
    {
        var logins = await RunAsync("--scenario", "login");
        Assert.True(logins.LoginsPerSecond > 0);
        var idle = await RunAsync("--scenario", "idle");
        Assert.NotNull(idle.RssPerConnectionBytes);
        // One server process given: its share is the whole.
        var share = Assert.Single(idle.IdleCpuPercentByProcess!);
        Assert.Equal(idle.IdleCpuPercent, share.Value);
    }

    [Fact]
    public async Task Group_scenario_times_the_last_copy_and_the_aggregated_ack()
    {
        using (var http = fixture.Server.AdminClient())
        {
            (await System.Net.Http.Json.HttpClientJsonExtensions.PutAsJsonAsync(http, "admin/groups/smokegroup",
                new { name = "smoke", members = new[] { "smoke0", "smoke1", "smoke2", "smoke3" } })).EnsureSuccessStatusCode();
        }
        var result = await RunAsync("--scenario", "group", "-n", "3", "--group", "smokegroup", "--rounds", "2");
        Assert.True(result.GroupLastDeliveryP50Ms > 0);
        Assert.True(result.GroupAckP50Ms >= result.GroupLastDeliveryP50Ms);
    }

    [Fact]
    public async Task Attachment_scenario_uploads_and_downloads_through_the_http_endpoint()
    {
        var result = await RunAsync("--scenario", "attachments", "-n", "2", "--files", "2", "--file-mb", "1",
            "--http-port", fixture.Server.HttpPort.ToString());
        Assert.True(result.UploadMegabytesPerSecond > 0);
        Assert.True(result.DownloadMegabytesPerSecond > 0);
    }

    [Fact]
    public async Task Forwarder_carries_round_trips_between_partners()
    {
        var port = FreePort();
        using var stop = new CancellationTokenSource();
        var forwarder = new Forwarder(BenchOptions.Parse(["--port", port.ToString()])).RunAsync(stop.Token);
        try
        {
            var result = await new Scenarios(BenchOptions.Parse(["--scenario", "roundtrip", "--mode", "xmpp", "--port", port.ToString(),
                "-n", "4", "-w", "2", "--seconds", "1", "--warmup", "0.5", "--label", "forwarder"])).RunAsync();
            Assert.True(result.RoundTripsPerSecond > 0, "no round trip completed through the forwarder");
        }
        finally
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => forwarder);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public void Report_writes_a_table_with_ratios_and_a_chart()
    {
        var dir = Directory.CreateTempSubdirectory("mmss-report-").FullName;
        var inputs = new[] { ("mmss", 300.0, 3.0), ("prosody", 200.0, 2.0), ("forwarder", 900.0, 0.5) }.Select(r =>
        {
            var path = Path.Combine(dir, r.Item1 + ".json");
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(
                new BenchResult { Label = r.Item1, Scenario = "roundtrip-w1", Connections = 10, RoundTripsPerSecond = r.Item2, P50Ms = r.Item3 },
                System.Text.Json.JsonSerializerOptions.Web));
            return path;
        }).ToArray();
        Report.Write(inputs, Path.Combine(dir, "r.md"), Path.Combine(dir, "r.svg"));
        var table = File.ReadAllText(Path.Combine(dir, "r.md"));
        // The forwarder is the driver's ceiling, not a peer: ratios are to Prosody, latency also against the forwarder.
        Assert.Contains("300 (1.50× best peer)", table);
        Assert.Contains("3 (1.50× best peer), +2.5 ms vs forwarder", table);
        Assert.StartsWith("<svg", File.ReadAllText(Path.Combine(dir, "r.svg")));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Report_splits_a_clusters_cpu_at_rest_by_process()
    {
        var dir = Directory.CreateTempSubdirectory("mmss-report-").FullName;
        var path = Path.Combine(dir, "cluster.json");
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(
            new BenchResult
            {
                Label = "mmss-cluster", Scenario = "idle-tls", Connections = 10, RssPerConnectionBytes = 2048, IdleCpuPercent = 4.05,
                IdleCpuPercentByProcess = new() { ["Mmss.Gateway"] = 1.2, ["Mmss.Silo"] = 1.8, ["postgres"] = 1.05 },
            },
            System.Text.Json.JsonSerializerOptions.Web));
        Report.Write([path], Path.Combine(dir, "r.md"), svgPath: null);
        Assert.Contains("mmss-cluster: CPU at rest (%) by process: Mmss.Gateway 1.20, Mmss.Silo 1.80, postgres 1.05.",
            File.ReadAllText(Path.Combine(dir, "r.md")));
        Directory.Delete(dir, recursive: true);
    }
}
