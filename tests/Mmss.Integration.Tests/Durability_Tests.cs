using System.Net.Http.Json;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

public class Durability_Tests
{
    [Fact]
    public async Task Users_and_groups_survive_kill_9_and_the_seed_file_is_applied_idempotently()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "mmss-durability-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDirectory);
        var seed = Path.Combine(dataDirectory, "seed.json");
        await File.WriteAllTextAsync(seed, """
            {"users":[{"udn":"1101","password":"pw","name":"Unit 1"},{"udn":"1102","password":"pw2","name":"Unit 2"}],
             "groups":[{"gdn":"9001","name":"Patrol","members":["1101","1102"]}]}
            """);
        var settings = new Dictionary<string, string> { ["Mmss__Provisioning__SeedFile"] = seed };

        var first = new EmbeddedServer(settings, dataDirectory);
        await first.StartAsync();
        Assert.Contains("3 created, 0 updated, 0 unchanged", first.Output);
        await first.ProvisionUserAsync("3301", "api-made");
        await first.KillAsync();

        await using var second = new EmbeddedServer(settings, dataDirectory);
        await second.StartAsync();
        Assert.Contains("0 created, 0 updated, 3 unchanged", second.Output);
        await using (var seeded = await second.LoginAsync("1101", "pw", "DIGEST-MD5"))
        {
            Assert.NotNull(seeded.BoundJid);
        }
        await using (var viaApi = await second.LoginAsync("3301", "api-made", "SCRAM-SHA-256"))
        {
            Assert.NotNull(viaApi.BoundJid);
        }
        using var http = second.AdminClient();
        var group = JsonDocument.Parse(await http.GetStringAsync("admin/groups/9001")).RootElement;
        Assert.Equal(2, group.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task Credentials_are_stored_only_as_derived_keys()
    {
        await using var server = new EmbeddedServer();
        await server.StartAsync();
        const string password = "PlainTextMustNotBeStored-42";
        await server.ProvisionUserAsync("3302", password);
        await server.KillAsync();
        foreach (var file in Directory.EnumerateFiles(server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.DoesNotContain(password, System.Text.Encoding.UTF8.GetString(bytes));
            Assert.DoesNotContain(password, System.Text.Encoding.Unicode.GetString(bytes));
        }
    }

    [Fact]
    public async Task Graceful_shutdown_closes_every_stream_with_system_shutdown()
    {
        await using var server = new EmbeddedServer();
        await server.StartAsync();
        await server.ProvisionUserAsync("3303", "pw");
        await using var client = await server.LoginAsync("3303", "pw");
        await server.StopGracefullyAsync(TimeSpan.FromSeconds(30));
        var error = await client.ReadAsync();
        Assert.NotNull(error?.Element("system-shutdown", Namespaces.StreamErrors));
    }

    [Fact]
    public async Task Stored_unanswered_messages_and_notices_survive_kill_9()
    {
        await using var server = new EmbeddedServer();
        await server.StartAsync();
        foreach (var udn in new[] { "3401", "3402" }) await server.ProvisionUserAsync(udn, "pw");
        await using (var sender = await server.LoginAsync("3401", "pw"))
        {
            for (var i = 0; i < 20; i++) await sender.SendRawAsync(Stanzas.Mms($"crash-{i}", "3402", $"n{i}"));
            await sender.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await sender.ReadUntilAsync(e => e.Attribute("id") == "sync");
        }
        await using (var recipient = await server.LoginAsync("3402", "pw"))
        {
            // Written to the session but never answered before the crash.
            await recipient.ReadUntilAsync(e => Stanzas.IsMessage(e, "crash-0"));
            await recipient.SendRawAsync(Stanzas.Ack("crash-0"));
            await recipient.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await recipient.ReadUntilAsync(e => e.Attribute("id") == "sync");
        }
        await server.KillAsync();

        await using var restarted = new EmbeddedServer(dataDirectory: server.DataDirectory);
        await restarted.StartAsync();
        await using var back = await restarted.LoginAsync("3402", "pw");
        for (var i = 1; i < 20; i++)
        {
            var message = await back.ReadUntilAsync(e => e.Name == "message");
            Assert.Equal($"crash-{i}", message.Attribute("id"));
        }
        await using var originator = await restarted.LoginAsync("3401", "pw");
        var ack = await originator.ReadUntilAsync(e => Stanzas.IsMessage(e, "crash-0"));
        Assert.Equal("ACK@127.0.0.1", ack.Attribute("from"));
    }
}
