using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>
/// The dispatch console (/console) in a real browser: Debian's Chromium driven by playwright-core
/// (tests/console/scenarios.mjs; tests/run.sh installs both). Screenshots of each screen are kept in the test
/// output's console-screenshots folder.
/// </summary>
[Collection(ServerCollection.Name)]
public class ConsoleBrowser_Tests(ServerFixture fixture)
{
    private const string Password = "console-pw";

    public static string Screenshots { get; } = Path.Combine(AppContext.BaseDirectory, "console-screenshots");

    private EmbeddedServer Server => fixture.Server;

    private async Task UsersAsync(params string[] udns)
    {
        foreach (var udn in udns) await Server.ProvisionUserAsync(udn, Password, udn.EndsWith('1') ? "Dispatcher " + udn : "Unit " + udn);
    }

    private async Task GroupAsync(string gdn, string name, params string[] members)
    {
        using var admin = Server.AdminClient();
        (await admin.PutAsJsonAsync($"admin/groups/{gdn}", new { name, members })).EnsureSuccessStatusCode();
    }

    /// <summary>Runs one scenario in Chromium to its end; fails with what the browser side reported.</summary>
    private async Task RunScenarioAsync(string scenario, object arguments)
    {
        var json = JsonSerializer.SerializeToNode(arguments)!.AsObject();
        json["base"] = $"http://127.0.0.1:{Server.HttpPort}";
        json["out"] = Screenshots;
        var script = Path.Combine(ChartFixture.RepositoryRoot, "tests", "console", "scenarios.mjs");
        Assert.True(File.Exists(Path.Combine(ChartFixture.RepositoryRoot, "tests", "console", "node_modules", "playwright-core", "package.json")),
            "playwright-core is missing: run bash tests/run.sh (or npm ci --prefix tests/console)");
        Assert.True(File.Exists("/usr/bin/chromium"), "Debian's chromium is missing: run bash tests/run.sh (or apt-get install chromium)");
        var (exitCode, output) = await RunAsync("node", [script, scenario, json.ToJsonString()], TimeSpan.FromSeconds(120));
        Assert.True(exitCode == 0 && output.Contains($"SCENARIO-OK {scenario}"), $"scenario {scenario} exited {exitCode}:\n{output}");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string command, string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(command, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} {arguments[0]} did not finish in {timeout}:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task Two_consoles_exchange_an_mms_with_an_image_and_the_sender_sees_ack_then_read()
    {
        await UsersAsync("71011", "71012");
        await GroupAsync("97101", "Console pair", "71011", "71012");
        await RunScenarioAsync("image-mms", new { a = "71011", b = "71012", password = Password });
        Assert.True(File.Exists(Path.Combine(Screenshots, "02-sender-sees-read.png")));
    }

    [Fact]
    public async Task A_group_send_shows_the_aggregated_answer_and_the_delivery_report()
    {
        await UsersAsync("71021", "71022", "71023");
        await GroupAsync("97102", "Patrol", "71021", "71022", "71023");
        await RunScenarioAsync("group-mms", new { a = "71021", b = "71022", offline = "71023", gdn = "97102", password = Password });
    }

    [Fact]
    public async Task An_upload_over_the_limit_shows_the_413_reason()
    {
        await UsersAsync("71051", "71052");
        await GroupAsync("97105", "Upload", "71051", "71052");
        // The fixture's file limit is 4 MiB.
        await RunScenarioAsync("upload-refused", new { a = "71051", b = "71052", password = Password, bytes = 5 * 1024 * 1024 });
    }

    [Fact]
    public async Task The_console_reports_an_unreachable_server_and_reconnects_by_itself_after_a_drop()
    {
        await UsersAsync("71061", "71062");
        await GroupAsync("97106", "Reconnect", "71061", "71062");
        await RunScenarioAsync("reconnect", new { a = "71061", b = "71062", password = Password });
    }

    [Fact]
    public async Task The_contact_list_shows_a_group_member_going_online_and_offline()
    {
        await UsersAsync("71071", "71072");
        await GroupAsync("97107", "Presence", "71071", "71072");
        await RunScenarioAsync("presence", new { a = "71071", b = "71072", password = Password });
        Assert.True(File.Exists(Path.Combine(Screenshots, "10-contact-online.png")));
    }

    [Fact]
    public async Task A_wrong_password_shows_the_error()
    {
        await UsersAsync("71031");
        await RunScenarioAsync("wrong-password", new { a = "71031" });
    }

    [Fact]
    public async Task A_slixmpp_handset_and_the_console_exchange_mms_both_ways()
    {
        await UsersAsync("71041", "71042");
        await GroupAsync("97104", "Field", "71041", "71042");
        var script = Path.Combine(AppContext.BaseDirectory, "interop", "slixmpp_console_peer.py");
        var start = new ProcessStartInfo("/usr/bin/python3",
            [script, "127.0.0.1", Server.C2sPort.ToString(), "71042@127.0.0.1", Password, "71041", "ue-to-console-1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var handset = Process.Start(start)!;
        var stderr = handset.StandardError.ReadToEndAsync();
        // The handset answers the console's MMS only once it is online: wait for it before the console sends.
        while (await handset.StandardOutput.ReadLineAsync() is { } line && line != "PEER-READY")
        {
        }
        var rest = handset.StandardOutput.ReadToEndAsync();
        await RunScenarioAsync("ue-exchange", new { a = "71041", ue = "71042", password = Password });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await handset.WaitForExitAsync(timeout.Token);
        var output = await rest + await stderr;
        Assert.True(handset.ExitCode == 0, $"the slixmpp handset exited {handset.ExitCode}: {output}");
        Assert.Contains("PEER-OK 1", output);
    }
}
