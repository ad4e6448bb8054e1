using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>An embedded server of its own (its counters move only with these tests), logging JSON lines.</summary>
public sealed class MetricsServerFixture : IAsyncLifetime
{
    public EmbeddedServer Server { get; } = new(new Dictionary<string, string> { ["Mmss__Logging__Format"] = "json" });

    public string MetricsUrl => $"http://{Server.Host}:{Server.HttpPort}/metrics";

    public Task InitializeAsync() => Server.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Issue #14: /metrics in Prometheus text format, and structured JSON logs with the UDN, message and connection ids.</summary>
public class Metrics_Tests(MetricsServerFixture fixture) : IClassFixture<MetricsServerFixture>
{
    private EmbeddedServer Server => fixture.Server;

    [Fact]
    public async Task Counters_move_by_exactly_the_amounts_of_a_known_workload()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("850");
        var before = await PrometheusScrape.GetAsync(fixture.MetricsUrl);

        // One failed login, two good ones: three STARTTLS connections on the c2s listener.
        await using (var wrong = await XmppClient.ConnectAsync(Server.Host, Server.C2sPort))
        {
            await wrong.OpenStreamAsync(EmbeddedServer.Domain);
            await wrong.StartTlsAsync(EmbeddedServer.Domain);
            var outcome = await wrong.AuthenticateAsync(EmbeddedServer.Mechanism("SCRAM-SHA-1", mo, "not-the-password"), EmbeddedServer.Domain);
            Assert.NotNull(outcome.Element("not-authorized", Namespaces.Sasl));
        }
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");

        // Three MMS, each acknowledged; one to nobody, refused at once with FAIL 1.
        for (var i = 0; i < 3; i++)
        {
            var id = $"metrics-{i}";
            await sender.SendRawAsync(Mms(id, mt));
            await recipient.ReadUntilAsync(e => IsMessage(e, id));
            await recipient.SendRawAsync(Ack(id, "1"));
            await sender.ReadUntilAsync(e => IsMessage(e, id));
        }
        await sender.SendRawAsync(Mms("metrics-nobody", "850999"));
        var fail = await sender.ReadUntilAsync(e => IsMessage(e, "metrics-nobody"));
        Assert.Equal("1", Property(fail, "ReturnCode"));

        // An attachment of 4321 bytes up, then down.
        var content = RandomNumberGenerator.GetBytes(4321);
        using var http = new HttpClient();
        var upload = await http.SendAsync(SpecMultipart.Request(Server.HttpPort, SpecMultipart.Body(mo, "metrics-att", ("photo.jpg", content))));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var download = await http.GetByteArrayAsync($"http://{Server.Host}:{Server.HttpPort}/attachment?userid={mo}&msgid=metrics-att&file=photo.jpg");
        Assert.Equal(content, download);

        (string Name, (string, string)[] Labels, double Moved)[] expected =
        [
            ("mmss_gateway_connections_total", [("listener", "c2s")], 3),
            ("mmss_gateway_tls_established_total", [("listener", "c2s")], 3),
            ("mmss_gateway_logins_total", [("mechanism", "SCRAM-SHA-1")], 2),
            ("mmss_gateway_login_failures_total", [("mechanism", "SCRAM-SHA-1"), ("condition", "not-authorized")], 1),
            ("mmss_gateway_stanzas_received_total", [("kind", "message")], 3 + 1 + 3),
            ("mmss_gateway_mms_refused_total", [("code", "1")], 1),
            ("mmss_mms_submitted_total", [("target", "user")], 3),
            ("mmss_mms_delivered_total", [], 3),
            ("mmss_mms_stored_total", [], 0),
            ("mmss_mms_answered_total", [("outcome", "ACK"), ("code", "1")], 3),
            ("mmss_mms_answered_total", [("outcome", "FAIL")], 0),
            ("mmss_mms_answer_duration_seconds_count", [], 3),
            ("mmss_gateway_attachment_uploaded_bytes_total", [], 4321),
            ("mmss_gateway_attachment_downloaded_bytes_total", [], 4321),
        ];
        // The last answers are counted by grains a moment after the terminal has its notice.
        var after = await PrometheusScrape.WaitForAsync(fixture.MetricsUrl,
            scrape => expected.All(e => scrape.Value(e.Name, e.Labels) - before.Value(e.Name, e.Labels) >= e.Moved));
        foreach (var (name, labels, moved) in expected)
        {
            Assert.True(after.Value(name, labels) - before.Value(name, labels) == moved,
                $"{name}{{{string.Join(',', labels)}}} moved by {after.Value(name, labels) - before.Value(name, labels)}, expected {moved}");
        }
        // The two sessions open now, both over TLS.
        Assert.Equal(2, after.Value("mmss_gateway_connections_active", ("listener", "c2s"), ("tls", "true")));
        Assert.Equal(0, after.Value("mmss_gateway_connections_active", ("listener", "c2s"), ("tls", "false")));
        // Group commits of the SQLite writer (per round trip at least the MMS's row and its answer; the sender's notice
        // too if its confirmation was slow), and the meters of Orleans and of the runtime.
        Assert.True(after.Value("mmss_storage_commit_batch_sum", ("store", "sqlite")) - before.Value("mmss_storage_commit_batch_sum", ("store", "sqlite")) >= 3 * 2);
        Assert.True(after.Value("mmss_storage_commit_duration_seconds_count", ("store", "sqlite")) > before.Value("mmss_storage_commit_duration_seconds_count", ("store", "sqlite")));
        Assert.True(after.Has("mmss_mailbox_depth_bucket"));
        Assert.True(after.Has("orleans_"), "no Orleans meter");
        Assert.True(after.Has("dotnet_gc_"), "no runtime meter");
    }

    [Fact]
    public async Task Json_logs_carry_the_udn_message_id_and_connection_id_as_scope_fields()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("851");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        const string id = "json-log-1";
        // To nobody: refused at once, which the gateway logs inside the message's scope.
        await sender.SendRawAsync(Mms(id, "851999"));
        await sender.ReadUntilAsync(e => IsMessage(e, id));

        var lines = await WaitForLogAsync(doc => Scope(doc, "MessageId") == id && doc.GetProperty("Message").GetString()!.Contains("refused"));
        var refused = lines.Last();
        Assert.Equal(mo, Scope(refused, "Udn"));
        var connectionId = Scope(refused, "ConnectionId");
        Assert.False(string.IsNullOrEmpty(connectionId));
        Assert.Equal("Mmss.Gateway.C2s.MessageRouter", refused.GetProperty("Category").GetString());
        Assert.EndsWith("Z", refused.GetProperty("Timestamp").GetString());
        Assert.Equal("Information", refused.GetProperty("LogLevel").GetString());
        // The same connection's earlier lines (its login) carry its id, and its UDN once authenticated.
        var bound = await WaitForLogAsync(doc => Scope(doc, "ConnectionId") == connectionId && doc.GetProperty("Message").GetString()!.Contains("bound"));
        Assert.Equal(mo, Scope(bound.Last(), "Udn"));
        // Every line of the output is one JSON object.
        Assert.All(Server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')), l => JsonDocument.Parse(l).Dispose());
    }

    private static string? Scope(JsonElement line, string field)
    {
        if (!line.TryGetProperty("Scopes", out var scopes)) return null;
        foreach (var scope in scopes.EnumerateArray())
        {
            if (scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null)
                return value.ToString();
        }
        return null;
    }

    private async Task<List<JsonElement>> WaitForLogAsync(Func<JsonElement, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var found = Server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => l.StartsWith('{'))
                .Select(l => JsonDocument.Parse(l).RootElement.Clone())
                .Where(match).ToList();
            if (found.Count > 0) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no such log line in:\n" + Server.Output);
            await Task.Delay(100);
        }
    }
}
