using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xmpp;
using MQTTnet;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>
/// The embedded server publishing to an external Mosquitto (Mmss:Mqtt:Server), with a small event queue so that a broker
/// outage overflows it. The tests may run in any order: each leaves the broker running.
/// </summary>
public sealed class ExternalBrokerFixture : IAsyncLifetime
{
    public const int QueueCapacity = 5;
    public const int MaxAuthFailuresPerUser = 2;

    public MosquittoBroker Broker { get; } = new();

    public EmbeddedServer Server { get; private set; } = null!;

    public string MetricsUrl => $"http://{Server.Host}:{Server.HttpPort}/metrics";

    public async Task InitializeAsync()
    {
        await Broker.StartAsync();
        Server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Mqtt__Enabled"] = "true",
            ["Mmss__Mqtt__Server"] = $"127.0.0.1:{Broker.Port}",
            ["Mmss__Mqtt__QueueCapacity"] = QueueCapacity.ToString(),
            ["Mmss__C2s__MaxAuthFailuresPerUser"] = MaxAuthFailuresPerUser.ToString(),
        });
        await Server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Broker.DisposeAsync();
    }
}

public class ExternalBroker_Tests(ExternalBrokerFixture fixture) : IClassFixture<ExternalBrokerFixture>
{
    private const string Domain = EmbeddedServer.Domain;
    private EmbeddedServer Server => fixture.Server;

    [Fact]
    public async Task Mosquitto_sub_receives_the_documented_events_of_a_message_its_attachment_and_a_failed_login()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("860");
        await using var subscriber = await MosquittoSub.StartAsync(fixture.Broker.Port, $"mmss/{Domain}/#");

        await using (var wrong = await XmppClient.ConnectAsync(Server.Host, Server.C2sPort))
        {
            await wrong.OpenStreamAsync(Domain);
            await wrong.StartTlsAsync(Domain);
            await wrong.AuthenticateAsync(EmbeddedServer.Mechanism("SCRAM-SHA-1", mo, "not-the-password"), Domain);
        }
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        const string id = "ext-1407488357552";
        var picture = RandomNumberGenerator.GetBytes(2048);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(SpecMultipart.Request(Server.HttpPort, SpecMultipart.Body(mo, id, ("a.jpg", picture))))).StatusCode);
        await sender.SendRawAsync(Mms(id, mt, extra: "<property><name>attach</name><value type=\"string\">a.jpg</value></property>"));
        await recipient.ReadUntilAsync(e => IsMessage(e, id));
        Assert.Equal(picture, await http.GetByteArrayAsync($"http://{Server.Host}:{Server.HttpPort}/attachment?userid={mo}&msgid={id}&file=a.jpg"));
        await recipient.SendRawAsync(Ack(id, "1"));
        await sender.ReadUntilAsync(e => IsMessage(e, id));

        var failed = await subscriber.WaitForAsync($"mmss/{Domain}/auth/{mo}/failed");
        Assert.Equal(("authFailed", Domain, mo, "127.0.0.1", "SCRAM-SHA-1", "not-authorized"),
            (S(failed, "type"), S(failed, "domain"), S(failed, "udn"), S(failed, "address"), S(failed, "mechanism"), S(failed, "condition")));
        var presence = await subscriber.WaitForAsync($"mmss/{Domain}/presence/{mt}");
        Assert.Equal("online", S(presence, "status"));
        var prefix = $"mmss/{Domain}/messages/{mo}/{id}/";
        var uploaded = await subscriber.WaitForAsync(prefix + "attachment-uploaded");
        Assert.Equal(("attachmentUploaded", mo, id, "a.jpg", 2048L, "127.0.0.1"),
            (S(uploaded, "type"), S(uploaded, "sender"), S(uploaded, "id"), S(uploaded, "file"), uploaded.GetProperty("bytes").GetInt64(), S(uploaded, "address")));
        var downloaded = await subscriber.WaitForAsync(prefix + "attachment-downloaded");
        Assert.Equal(("attachmentDownloaded", "a.jpg", 2048L), (S(downloaded, "type"), S(downloaded, "file"), downloaded.GetProperty("bytes").GetInt64()));
        var answered = await subscriber.WaitForAsync(prefix + "answered");
        Assert.Equal(("answered", mo, id, mt, "ACK", "1"),
            (S(answered, "type"), S(answered, "sender"), S(answered, "id"), S(answered, "recipient"), S(answered, "outcome"), S(answered, "returnCode")));
        // The message's life in order, as mosquitto_sub printed it.
        var life = subscriber.Topics.Where(t => t.StartsWith(prefix, StringComparison.Ordinal)).Select(t => t[prefix.Length..]).ToList();
        Assert.Equal(["answered", "attachment-downloaded", "attachment-uploaded", "delivered", "submitted"], life.Order(StringComparer.Ordinal));
        Assert.True(life.IndexOf("attachment-uploaded") < life.IndexOf("submitted"), string.Join(", ", life));
        Assert.True(life.IndexOf("submitted") < life.IndexOf("answered") && life.IndexOf("delivered") < life.IndexOf("answered"), string.Join(", ", life));
    }

    [Fact]
    public async Task A_broker_outage_loses_no_message_events_resume_and_the_drop_counter_counts_what_overflowed()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("861");
        await using var sender = await Server.LoginAsync(mo, "pw");
        await using var recipient = await Server.LoginAsync(mt, "pw");
        // The logins' presence is published (retained) before the outage begins.
        await using (var presence = await EventFeed.SubscribeAsync(fixture.Broker.Port, $"mmss/{Domain}/presence/+", credentials: false))
        {
            foreach (var udn in new[] { mo, mt })
                await presence.WaitForAsync(r => r.Topic == $"mmss/{Domain}/presence/{udn}" && r.Json.GetProperty("status").GetString() == "online", "presence of " + udn);
        }
        var before = await PrometheusScrape.WaitForAsync(fixture.MetricsUrl, s => s.Value("mmss_events_queued") == 0 && s.Has("mmss_events_published"));
        Assert.Equal(0, before.Value("mmss_events_queued"));

        await fixture.Broker.KillAsync();
        const int messages = 10;
        for (var i = 0; i < messages; i++)
        {
            var id = $"outage-{i}";
            await sender.SendRawAsync(Mms(id, mt));
            await recipient.ReadUntilAsync(e => IsMessage(e, id));
            await recipient.SendRawAsync(Ack(id, "1"));
            var ack = await sender.ReadUntilAsync(e => IsMessage(e, id));
            Assert.Equal("1", Property(ack, "ReturnCode"));
        }
        // submitted, delivered, answered per MMS: the queue keeps the newest five, the publisher retries the first.
        const int raised = messages * 3, kept = ExternalBrokerFixture.QueueCapacity + 1;
        var during = await PrometheusScrape.WaitForAsync(fixture.MetricsUrl,
            s => s.Value("mmss_events_dropped_total") - before.Value("mmss_events_dropped_total") >= raised - kept);
        Assert.Equal(raised - kept, during.Value("mmss_events_dropped_total") - before.Value("mmss_events_dropped_total"));
        Assert.Equal(before.Value("mmss_events_published_total"), during.Value("mmss_events_published_total"));
        Assert.Contains("MQTT event queue full", Server.Output);

        await fixture.Broker.StartAsync();
        var after = await PrometheusScrape.WaitForAsync(fixture.MetricsUrl, s => s.Value("mmss_events_queued") == 0);
        Assert.Equal(0, after.Value("mmss_events_queued"));
        Assert.Equal(kept, after.Value("mmss_events_published_total") - before.Value("mmss_events_published_total"));
        Assert.Equal(raised - kept, after.Value("mmss_events_dropped_total") - before.Value("mmss_events_dropped_total"));

        // Events flow again: a new message's whole life reaches a subscriber.
        await using var feed = await EventFeed.SubscribeAsync(fixture.Broker.Port, $"mmss/{Domain}/messages/{mo}/#", credentials: false);
        await sender.SendRawAsync(Mms("outage-after", mt));
        await recipient.ReadUntilAsync(e => IsMessage(e, "outage-after"));
        await recipient.SendRawAsync(Ack("outage-after", "1"));
        await feed.WaitForAsync(r => r.Topic == $"mmss/{Domain}/messages/{mo}/outage-after/answered", "answered after the outage");
    }

    [Fact]
    public async Task A_throttled_login_is_published_and_counted()
    {
        await Server.ProvisionUserAsync("8621", "pw");
        await using var feed = await EventFeed.SubscribeAsync(fixture.Broker.Port, $"mmss/{Domain}/auth/8621/#", credentials: false);
        var before = await PrometheusScrape.GetAsync(fixture.MetricsUrl);
        var conditions = new List<string>();
        for (var i = 0; i <= ExternalBrokerFixture.MaxAuthFailuresPerUser; i++)
        {
            await using var client = await XmppClient.ConnectAsync(Server.Host, Server.C2sPort);
            await client.OpenStreamAsync(Domain);
            await client.StartTlsAsync(Domain);
            // The last attempt has the right password: the user is throttled all the same.
            var password = i < ExternalBrokerFixture.MaxAuthFailuresPerUser ? "wrong" : "pw";
            var outcome = await client.AuthenticateAsync(EmbeddedServer.Mechanism("SCRAM-SHA-1", "8621", password), Domain);
            conditions.Add(outcome.Elements.Single().Name);
        }
        Assert.Equal(["not-authorized", "not-authorized", "temporary-auth-failure"], conditions);

        var throttled = await feed.WaitForAsync(r => r.Topic == $"mmss/{Domain}/auth/8621/throttled", "throttled");
        Assert.Equal(("authThrottled", "8621", "127.0.0.1"), (S(throttled.Json, "type"), S(throttled.Json, "udn"), S(throttled.Json, "address")));
        await feed.WaitForAsync(r => r.Topic == $"mmss/{Domain}/auth/8621/failed", "failed");
        Assert.Equal(ExternalBrokerFixture.MaxAuthFailuresPerUser, feed.All.Count(r => r.Topic.EndsWith("/failed", StringComparison.Ordinal)));
        var after = await PrometheusScrape.GetAsync(fixture.MetricsUrl);
        Assert.Equal(1, after.Value("mmss_gateway_login_throttled_total", ("scope", "user")) - before.Value("mmss_gateway_login_throttled_total", ("scope", "user")));
        Assert.Equal(ExternalBrokerFixture.MaxAuthFailuresPerUser,
            after.Value("mmss_gateway_login_failures_total", ("mechanism", "SCRAM-SHA-1")) - before.Value("mmss_gateway_login_failures_total", ("mechanism", "SCRAM-SHA-1")));
    }

    private static string S(JsonElement json, string name) => json.GetProperty(name).ToString();
}

/// <summary>Debian's mosquitto_sub (tests/run.sh installs mosquitto-clients): a subscriber that is not .NET.</summary>
public sealed class MosquittoSub : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<(string Topic, string Payload)> _lines = [];

    private MosquittoSub(Process process) => _process = process;

    public IReadOnlyList<string> Topics
    {
        get
        {
            lock (_lines) return _lines.Select(l => l.Topic).ToList();
        }
    }

    /// <summary>Subscribed once a probe published under the filter comes back (mosquitto_sub says nothing when ready).</summary>
    public static async Task<MosquittoSub> StartAsync(int port, string filter)
    {
        var start = new ProcessStartInfo("mosquitto_sub", ["-h", "127.0.0.1", "-p", port.ToString(), "-q", "1", "-v", "-t", filter])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var sub = new MosquittoSub(Process.Start(start) ?? throw new InvalidOperationException("could not start mosquitto_sub"));
        sub._process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            var space = line.IndexOf(' ');
            lock (sub._lines) sub._lines.Add(space < 0 ? (line, "") : (line[..space], line[(space + 1)..]));
        };
        sub._process.ErrorDataReceived += (_, _) => { };
        sub._process.BeginOutputReadLine();
        sub._process.BeginErrorReadLine();

        using var probe = new MqttClientFactory().CreateMqttClient();
        await probe.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).Build());
        var probeTopic = filter.TrimEnd('#', '/') + "/probe";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!sub.Topics.Contains(probeTopic))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("mosquitto_sub did not subscribe");
            await probe.PublishStringAsync(probeTopic, "{}");
            await Task.Delay(100);
        }
        return sub;
    }

    /// <summary>The JSON document of the first line printed for <paramref name="topic"/>, waiting up to 20 s.</summary>
    public async Task<JsonElement> WaitForAsync(string topic)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            lock (_lines)
            {
                foreach (var (t, payload) in _lines)
                {
                    if (t == topic) return JsonDocument.Parse(payload).RootElement.Clone();
                }
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"mosquitto_sub printed no {topic}; it printed:\n" + string.Join('\n', Topics));
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

public class GracefulStopPresence_Tests
{
    [Fact]
    public async Task A_graceful_stop_leaves_the_retained_presence_of_its_users_offline()
    {
        await using var broker = new MosquittoBroker();
        await broker.StartAsync();
        await using var server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Mqtt__Enabled"] = "true",
            ["Mmss__Mqtt__Server"] = $"127.0.0.1:{broker.Port}",
        });
        await server.StartAsync();
        await server.ProvisionUserAsync("8701", "pw");
        var topic = $"mmss/{EmbeddedServer.Domain}/presence/8701";
        var terminal = await server.LoginAsync("8701", "pw");
        await using (var online = await EventFeed.SubscribeAsync(broker.Port, topic, credentials: false))
        {
            await online.WaitForAsync(r => r.Json.GetProperty("status").GetString() == "online", "online");
        }

        await server.StopGracefullyAsync(TimeSpan.FromSeconds(60));
        await terminal.DisposeAsync();

        // A subscriber arriving after the stop learns from the retained message that the user is offline.
        await using var later = await EventFeed.SubscribeAsync(broker.Port, topic, credentials: false);
        var retained = await later.WaitForAsync(r => r.Retained, "retained presence");
        Assert.Equal(("offline", 0), (retained.Json.GetProperty("status").GetString(), retained.Json.GetProperty("sessions").GetInt32()));
    }
}

public class TlsBroker_Tests
{
    [Fact]
    public async Task Events_reach_a_broker_over_tls_whose_certificate_chains_to_the_configured_ca()
    {
        var directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mmss-mqtt-tls-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        try
        {
            await RunAsync(directory);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task RunAsync(string directory)
    {
        // Files readable by all (the default modes): Mosquitto started as root reads them as the "mosquitto" user.
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=MMSS test broker CA", caKey,
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var brokerKey = RSA.Create(2048);
        var brokerRequest = new CertificateRequest("CN=127.0.0.1", brokerKey,
            HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        brokerRequest.CertificateExtensions.Add(names.Build());
        using var broker = brokerRequest.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);
        var caFile = Path.Combine(directory, "ca.pem");
        var certificateFile = Path.Combine(directory, "broker.pem");
        var keyFile = Path.Combine(directory, "broker.key");
        await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
        await File.WriteAllTextAsync(certificateFile, broker.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, brokerKey.ExportPkcs8PrivateKeyPem());

        await using var mosquitto = new MosquittoBroker(certificateFile, keyFile);
        await mosquitto.StartAsync();
        await using var server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Mqtt__Enabled"] = "true",
            ["Mmss__Mqtt__Server"] = $"127.0.0.1:{mosquitto.Port}",
            ["Mmss__Mqtt__UseTls"] = "true",
            ["Mmss__Mqtt__CaCertificatePath"] = caFile,
        });
        await server.StartAsync();
        await server.ProvisionUserAsync("8801", "pw");
        await using var terminal = await server.LoginAsync("8801", "pw");

        // mosquitto_sub over TLS with the same CA sees the presence the server published over TLS.
        var start = new ProcessStartInfo("mosquitto_sub",
            ["-h", "127.0.0.1", "-p", mosquitto.Port.ToString(), "--cafile", caFile, "-t", $"mmss/{EmbeddedServer.Domain}/presence/8801", "-C", "1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var subscriber = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var printed = await subscriber.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.True(printed is not null, "mosquitto_sub printed nothing: " + await subscriber.StandardError.ReadToEndAsync() + "\n" + server.Output);
        using var presence = JsonDocument.Parse(printed);
        Assert.Equal(("presence", "8801", "online"),
            (presence.RootElement.GetProperty("type").GetString(), presence.RootElement.GetProperty("udn").GetString(), presence.RootElement.GetProperty("status").GetString()));
        Assert.Contains("Connected to the MQTT broker", server.Output);

        // A server trusting another CA refuses the broker: nothing is published, the events wait.
        using var otherKey = RSA.Create(2048);
        using var otherCa = new CertificateRequest("CN=Another CA", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var otherCaFile = Path.Combine(directory, "other-ca.pem");
        await File.WriteAllTextAsync(otherCaFile, otherCa.ExportCertificatePem());
        await using var distrustful = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Mqtt__Enabled"] = "true",
            ["Mmss__Mqtt__Server"] = $"127.0.0.1:{mosquitto.Port}",
            ["Mmss__Mqtt__UseTls"] = "true",
            ["Mmss__Mqtt__CaCertificatePath"] = otherCaFile,
        });
        await distrustful.StartAsync();
        await distrustful.ProvisionUserAsync("8802", "pw");
        await using var other = await distrustful.LoginAsync("8802", "pw");
        var metrics = await PrometheusScrape.WaitForAsync($"http://{distrustful.Host}:{distrustful.HttpPort}/metrics",
            scrape => distrustful.Output.Contains("unreachable") && scrape.Value("mmss_events_queued") >= 1);
        Assert.Contains("unreachable", distrustful.Output);
        Assert.DoesNotContain("Connected to the MQTT broker", distrustful.Output);
        Assert.Equal(0, metrics.Value("mmss_events_published_total"));
        Assert.True(metrics.Value("mmss_events_queued") >= 1);
    }
}
