using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>
/// Two MMSS domains with no configured peers: 127.0.0.4 (UDNs 4000-4999) learns of 127.0.0.5 (UDNs 5000-5999) from its
/// seed file, 127.0.0.5 learns of 127.0.0.4 through the admin API while both run.
/// </summary>
public sealed class RuntimePeersFixture : IAsyncLifetime
{
    public const string DomainA = "127.0.0.4";
    public const string DomainB = "127.0.0.5";
    public const string Secret = "runtime-pair-secret-0123456789";

    private readonly string _seedFile = Path.Combine(Path.GetTempPath(), $"mmss-peers-seed-{Guid.NewGuid():N}.json");

    public RuntimePeersFixture()
    {
        var s2s = FreePorts.Take(2);
        A = new EmbeddedServer(TwoDomainsFixture.Settings(s2s[0], giveUpSeconds: 120), host: DomainA);
        B = new EmbeddedServer(TwoDomainsFixture.Settings(s2s[1], giveUpSeconds: 120), host: DomainB);
        A.Configure("Mmss__S2s__BindAddress", DomainA);
        B.Configure("Mmss__S2s__BindAddress", DomainB);
        S2sPortA = s2s[0];
        File.WriteAllText(_seedFile, JsonSerializer.Serialize(new
        {
            peers = new[] { new { domain = DomainB, address = $"{DomainB}:{s2s[1]}", httpAddress = $"http://{DomainB}:{B.HttpPort}/", udns = "5000-5999", secret = Secret } },
        }));
        A.Configure("Mmss__Provisioning__SeedFile", _seedFile);
    }

    public EmbeddedServer A { get; }
    public EmbeddedServer B { get; }
    public int S2sPortA { get; }

    /// <summary>The body that makes A a peer of B.</summary>
    public object PeerA => new { address = $"{DomainA}:{S2sPortA}", httpAddress = $"http://{DomainA}:{A.HttpPort}/", udns = "4000-4999", secret = Secret };

    public async Task InitializeAsync() => await Task.WhenAll(A.StartAsync(), B.StartAsync());

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        File.Delete(_seedFile);
    }
}

public class RelayPeersAdmin_Tests(RuntimePeersFixture domains) : IClassFixture<RuntimePeersFixture>
{
    private const string A = RuntimePeersFixture.DomainA;
    private const string B = RuntimePeersFixture.DomainB;
    private static readonly TimeSpan Relay = TimeSpan.FromSeconds(30);

    private static Task<XmlElement> NextMessageAsync(XmppClient client, string id) => client.ReadUntilAsync(e => IsMessage(e, id), Relay);

    [Fact]
    public async Task A_peer_added_through_the_admin_api_is_routed_to_at_once_and_no_longer_once_removed()
    {
        using var adminB = domains.B.AdminClient();
        var put = await adminB.PutAsJsonAsync($"admin/peers/{A}", domains.PeerA);
        Assert.True(put.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        await domains.A.ProvisionUserAsync("4001", "pw");
        await domains.B.ProvisionUserAsync("5001", "pw");
        await using var a = await domains.A.LoginAsync("4001", "pw");
        await using var b = await domains.B.LoginAsync("5001", "pw");

        // A's peer came from its seed file, B's from the request above: both directions relay, ACK included.
        await a.SendRawAsync(Mms("rp-1", "5001", domain: A));
        Assert.Equal($"4001@{B}", (await NextMessageAsync(b, "rp-1")).Attribute("from"));
        await b.SendRawAsync(Ack("rp-1", "1", domain: B));
        Assert.Equal($"ACK@{A}", (await NextMessageAsync(a, "rp-1")).Attribute("from"));

        await b.SendRawAsync(Mms("rp-2", "4001", domain: B));
        Assert.Equal($"5001@{A}", (await NextMessageAsync(a, "rp-2")).Attribute("from"));
        await a.SendRawAsync(Ack("rp-2", "1", domain: A));
        var ack = await NextMessageAsync(b, "rp-2");
        Assert.Equal($"ACK@{B}", ack.Attribute("from"));
        Assert.Equal("1", Property(ack, "ReturnCode"));

        Assert.Equal(HttpStatusCode.NoContent, (await adminB.DeleteAsync($"admin/peers/{A}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await adminB.GetAsync($"admin/peers/{A}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await adminB.DeleteAsync($"admin/peers/{A}")).StatusCode);
        // 4001 is nobody's number at B now: a local recipient, unknown, FAIL 1 (not relayed, not FAIL 6).
        await b.SendRawAsync(Mms("rp-3", "4001", domain: B));
        var fail = await NextMessageAsync(b, "rp-3");
        Assert.Equal($"FAIL@{B}", fail.Attribute("from"));
        Assert.Equal("1", Property(fail, "ReturnCode"));
    }

    [Fact]
    public async Task Peers_are_listed_with_their_source_and_never_with_a_secret()
    {
        using var adminA = domains.A.AdminClient();
        var list = await adminA.GetStringAsync("admin/peers");
        Assert.DoesNotContain(RuntimePeersFixture.Secret, list);
        Assert.DoesNotContain("secret", list, StringComparison.OrdinalIgnoreCase);
        var peers = JsonDocument.Parse(list).RootElement.GetProperty("peers").EnumerateArray().ToArray();
        var peer = Assert.Single(peers, p => p.GetProperty("domain").GetString() == B);
        Assert.Equal("directory", peer.GetProperty("source").GetString());
        Assert.Equal("5000-5999", peer.GetProperty("udns").GetString());

        var one = await adminA.GetStringAsync($"admin/peers/{B}");
        Assert.DoesNotContain(RuntimePeersFixture.Secret, one);
        Assert.Equal(B, JsonDocument.Parse(one).RootElement.GetProperty("domain").GetString());
    }

    [Theory]
    [InlineData("{\"domain\":\"10.9.9.1\",\"udns\":\"abc\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.BadRequest, "Udns")]
    [InlineData("{\"domain\":\"10.9.9.1\",\"udns\":\"9000-8000\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.BadRequest, "ends before it starts")]
    [InlineData("{\"domain\":\"10.9.9.1\",\"httpAddress\":\"ftp://10.9.9.1/\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.BadRequest, "http(s)")]
    [InlineData("{\"domain\":\"10.9.9.1\",\"address\":\"10.9.9.1:99999\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.BadRequest, "host:port")]
    [InlineData("{\"domain\":\"10.9.9.1\",\"udns\":\"9000\"}", HttpStatusCode.BadRequest, "secret: required")]
    [InlineData("{\"domain\":\"10.9.9.1\",\"udns\":\"9000\",\"secret\":\"short\"}", HttpStatusCode.BadRequest, "at least 16")]
    [InlineData("{\"domain\":\"10.9.9.1\",\"udns\":\"9000\",\"secret\":\"a-long-enough-secret-1\",\"inboundSecret\":\"short\"}", HttpStatusCode.BadRequest, "inboundSecret")]
    [InlineData("{\"udns\":\"9000\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.BadRequest, "domain: required")]
    [InlineData("{\"domain\":\"10.9.9.1\",\"udns\":\"5500-5600\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.Conflict, "overlap those of 127.0.0.5")]
    [InlineData("{\"domain\":\"127.0.0.4\",\"udns\":\"9000\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.Conflict, "own domain")]
    [InlineData("{\"domain\":\"127.0.0.5\",\"udns\":\"9000\",\"secret\":\"a-long-enough-secret-1\"}", HttpStatusCode.Conflict, "exists")]
    public async Task Bad_peer_definitions_are_refused_with_a_reason(string json, HttpStatusCode status, string reason)
    {
        using var http = domains.A.AdminClient();
        var response = await http.PostAsync("admin/peers", new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(reason, JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("admin/peers/10.9.9.1")).StatusCode);
    }

    [Fact]
    public async Task A_body_naming_another_domain_than_the_path_is_refused()
    {
        using var http = domains.A.AdminClient();
        var response = await http.PutAsJsonAsync("admin/peers/10.9.9.2", new { domain = "10.9.9.3", secret = "a-long-enough-secret-1" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("differs from the path", await response.Content.ReadAsStringAsync());
    }
}
