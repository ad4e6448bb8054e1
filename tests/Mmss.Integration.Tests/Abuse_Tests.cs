using Mmss.Bench;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>
/// The load tool's abuse scenario, briefly (README "Reliability", RELIABILITY.md "Floods and abuse"): each attack is
/// refused with its documented error while the legitimate terminals' round trips go on without a failure. Latency
/// figures are the full run's business, not asserted here.
/// </summary>
public sealed class Abuse_Tests : IAsyncLifetime
{
    private const int Terminals = 6;
    private const int StanzasPerSecond = 50;
    private const int MaxRefusals = 40;

    private readonly EmbeddedServer _server = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__AllowPlaintext"] = "true",
        ["Mmss__C2s__MaxConnections"] = "40",
        ["Mmss__C2s__LoginTimeoutSeconds"] = "3",
        ["Mmss__C2s__MaxStanzasPerSecond"] = StanzasPerSecond.ToString(),
        ["Mmss__C2s__StanzaBurst"] = StanzasPerSecond.ToString(),
        ["Mmss__C2s__MaxAuthFailuresPerAddress"] = "20",
        ["Mmss__C2s__MaxAuthFailuresPerUser"] = "30",
        ["Mmss__Http__MaxRefusalsPerAddress"] = MaxRefusals.ToString(),
        ["Logging__LogLevel__Default"] = "Warning",
    });

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        for (var i = 0; i <= Terminals + 1; i++) await _server.ProvisionUserAsync($"abuse{i}", "pw");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Every_attack_is_refused_with_its_documented_error_while_terminals_keep_being_served()
    {
        const int seconds = 3;
        var result = await new Scenarios(BenchOptions.Parse([
            "--scenario", "abuse", "--port", _server.C2sPort.ToString(), "--http-port", _server.HttpPort.ToString(),
            "--domain", EmbeddedServer.Domain, "--users", "abuse", "--tls", "false", "-n", Terminals.ToString(),
            "--seconds", seconds.ToString(), "--warmup", "1", "--flood-connections", "80", "--bad-logins", "100",
            "--admin-token", EmbeddedServer.AdminToken, "--slowloris-seconds", "30"])).RunAsync();

        var phases = result.Attacks!.ToDictionary(a => a.Attack);
        Assert.Equal(["baseline", .. AbuseScenario.AllAttacks], result.Attacks!.Select(a => a.Attack));
        foreach (var phase in result.Attacks!)
        {
            Assert.True(phase.RoundTrips > 0, $"no legitimate round trip during {phase.Attack}");
            Assert.True(phase.Errors == 0, $"{phase.Errors} legitimate failures during {phase.Attack}");
        }

        AssertAnswers(phases["connection-flood"], "accepted", "resource-constraint");
        Assert.True(phases["connection-flood"].Answers.GetValueOrDefault("resource-constraint") >= 80 - 40,
            "connections past the limit were not refused with resource-constraint");
        AssertAnswers(phases["slowloris"], "connection-timeout");
        AssertAnswers(phases["bad-logins-one-address"], "not-authorized", "temporary-auth-failure");
        Assert.True(phases["bad-logins-one-address"].Answers.GetValueOrDefault("temporary-auth-failure") > 0, "the address was never throttled");
        // A wrong password is not-authorized whatever the count; past the user's limit the right one is refused too.
        AssertAnswers(phases["bad-logins-many-addresses"], "not-authorized", "right password: temporary-auth-failure");
        Assert.Equal(1, phases["bad-logins-many-addresses"].Answers.GetValueOrDefault("right password: temporary-auth-failure"));
        AssertAnswers(phases["oversize-stanza"], "policy-violation");
        AssertAnswers(phases["nested-stanza"], "policy-violation");
        // Kestrel's minimum request body rate ends a stalled upload with 408 after its grace period.
        AssertAnswers(phases["stalled-upload"], "408");
        AssertAnswers(phases["huge-range-download"], "206", "416");
        // Past MaxRefusals refused requests from one address (two attackers at a time: one more may be in flight), 429.
        AssertAnswers(phases["forged-userid-upload"], "403", "429");
        AssertAnswers(phases["admin-without-token"], "401", "429");
        foreach (var (phase, refusal) in new[] { ("forged-userid-upload", "403"), ("admin-without-token", "401") })
        {
            var answers = phases[phase].Answers;
            Assert.InRange(answers.GetValueOrDefault(refusal), MaxRefusals, MaxRefusals + 1);
            Assert.True(answers.GetValueOrDefault("429") > 0, $"{phase} was never answered 429");
        }

        // Held to the rate: the burst, then StanzasPerSecond (with room for the phase's own timing).
        var fast = phases["fast-sender"];
        Assert.True(fast.AttackerStanzasPerSecond > 0, "the fast sender got no answer at all");
        Assert.True(fast.AttackerStanzasPerSecond <= 2.0 * StanzasPerSecond,
            $"the fast sender got {fast.AttackerStanzasPerSecond:0} answers/s past a limit of {StanzasPerSecond}/s");
        Assert.Contains($"abuse{Terminals} on connection", _server.Output);
        Assert.Contains($"exceeds {StanzasPerSecond} stanzas/s", _server.Output);
        // Only that user: the terminals, at 10 MMS a second, were never held back.
        for (var i = 0; i < Terminals; i++) Assert.DoesNotContain($"abuse{i} on connection", _server.Output);
    }

    /// <summary>Every attempt got one of the expected answers, and at least one attempt was made.</summary>
    private static void AssertAnswers(AttackResult phase, params string[] expected)
    {
        Assert.True(phase.Attempts > 0, $"{phase.Attack} made no attempt");
        Assert.Equal(phase.Attempts, phase.Answers.Values.Sum());
        var unexpected = phase.Answers.Keys.Except(expected).ToList();
        Assert.True(unexpected.Count == 0, $"{phase.Attack} got {string.Join(", ", unexpected.Select(k => $"{k} ×{phase.Answers[k]}"))}");
    }
}
