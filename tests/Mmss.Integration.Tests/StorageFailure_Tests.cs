using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;

namespace Mmss.Integration.Tests;

/// <summary>
/// A store that fails (here a full disk under the embedded server's SQLite): FAIL 9 only when storage stays unavailable
/// for <c>StoreRetrySeconds</c>; an MMS whose storing failed for a moment is stored once it can be, never answered
/// FAIL 9 and delivered as well (found by the cluster fault loop, tests/Mmss.Faults: a silo killed mid-call); and the
/// keepalive does not close a terminal whose answers wait behind its MMS being stored (found by the disk-full loop).
/// </summary>
public class StorageFailure_Tests
{
    [Fact]
    public async Task An_MMS_whose_storing_fails_for_a_moment_is_stored_when_space_returns_and_never_answered_FAIL_9()
    {
        await using var disk = await SmallDisk.MountAsync(16);
        await using var server = new EmbeddedServer(new Dictionary<string, string> { ["Mmss__C2s__StoreRetrySeconds"] = "120" },
            Path.Combine(disk.Path, "data"));
        await server.StartAsync();
        var (mo, mt) = await server.ProvisionPairAsync("61");
        await using var sender = await server.LoginAsync(mo, "pw");
        await using var recipient = await server.LoginAsync(mt, "pw");
        await SessionRecordedAsync(sender, mo);
        await SessionRecordedAsync(recipient, mt);

        var count = await FillUntilStoringFailsAsync(disk, server, sender, mt, "could not be stored yet");
        var sent = Enumerable.Range(0, count).Select(i => $"full-{i}").ToList();
        disk.Free();

        await ReceiveAllAsync(recipient, sent, acknowledge: true);
        var answers = new HashSet<string>();
        while (answers.Count < sent.Count)
        {
            var answer = await sender.ReadUntilAsync(e => e.Name == "message" && sent.Contains(e.Attribute("id") ?? ""), TimeSpan.FromSeconds(60));
            Assert.Equal("2", Stanzas.Property(answer, "MsgType"));
            answers.Add(answer.Attribute("id")!);
        }
    }

    [Fact]
    public async Task A_full_disk_gets_FAIL_9_once_the_retries_are_over_and_MMS_are_stored_again_when_space_returns()
    {
        await using var disk = await SmallDisk.MountAsync(16);
        await using var server = new EmbeddedServer(new Dictionary<string, string> { ["Mmss__C2s__StoreRetrySeconds"] = "1" },
            Path.Combine(disk.Path, "data"));
        await server.StartAsync();
        var (mo, mt) = await server.ProvisionPairAsync("62");
        await using var sender = await server.LoginAsync(mo, "pw");
        await using var recipient = await server.LoginAsync(mt, "pw");
        await SessionRecordedAsync(sender, mo);
        await SessionRecordedAsync(recipient, mt);

        await FillUntilStoringFailsAsync(disk, server, sender, mt, "could not be stored");
        var refused = await sender.ReadUntilAsync(e => e.Name == "message" && e.Attribute("from") == $"FAIL@{EmbeddedServer.Domain}",
            TimeSpan.FromSeconds(30));
        Assert.Equal("3", Stanzas.Property(refused, "MsgType"));
        Assert.Equal("9", Stanzas.Property(refused, "ReturnCode"));
        disk.Free();

        await sender.SendRawAsync(Stanzas.Mms("after", mt));
        await recipient.ReadUntilAsync(e => Stanzas.IsMessage(e, "after"), TimeSpan.FromSeconds(30));
        await recipient.SendRawAsync(Stanzas.Ack("after"));
        var ack = await sender.ReadUntilAsync(e => Stanzas.IsMessage(e, "after"), TimeSpan.FromSeconds(30));
        Assert.Equal("2", Stanzas.Property(ack, "MsgType"));
    }

    [Fact]
    public async Task A_terminal_waiting_for_its_MMS_to_be_stored_is_not_closed_by_the_keepalive()
    {
        await using var disk = await SmallDisk.MountAsync(16);
        await using var server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__C2s__StoreRetrySeconds"] = "120",
            ["Mmss__C2s__IdleSecondsBeforePing"] = "2",
            ["Mmss__C2s__PingTimeoutSeconds"] = "2",
        }, Path.Combine(disk.Path, "data"));
        await server.StartAsync();
        var (mo, mt) = await server.ProvisionPairAsync("63");
        await using var sender = await server.LoginAsync(mo, "pw");
        await SessionRecordedAsync(sender, mo);

        var sent = await FillUntilStoringFailsAsync(disk, server, sender, mt, "could not be stored yet");
        // In-order processing: the terminal's own ping is answered once its MMS are stored, which the full disk holds up.
        await sender.SendRawAsync("<iq type='get' id='held'><ping xmlns='urn:xmpp:ping'/></iq>");
        // Held past the keepalive's idle time and ping timeout together (the fifth try of an MMS comes 7.5 s after its first).
        var held = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (server.Output.Split("MMS full-0 from").Length - 1 < 5)
        {
            Assert.True(DateTime.UtcNow < held, "the first MMS was not tried five times:\n" + server.Output);
            await Task.Delay(200);
        }
        disk.Free();

        var answer = await sender.ReadUntilAsync(e => e.Name == "iq" && e.Attribute("id") == "held", TimeSpan.FromSeconds(120));
        Assert.Equal("result", answer.Attribute("type"));
        Assert.DoesNotContain("did not answer a ping", server.Output);
        await using var recipient = await server.LoginAsync(mt, "pw");
        await ReceiveAllAsync(recipient, Enumerable.Range(0, sent).Select(i => $"full-{i}").ToList(), acknowledge: false);
    }

    /// <summary>
    /// Waits until the user grain has stored this terminal's session, which it does just after binding: a session still
    /// to be stored when the disk fills up cannot be, and the server then ends that connection. An MMS to oneself comes
    /// back, and its ACK too, only through a stored session.
    /// </summary>
    private static async Task SessionRecordedAsync(XmppClient client, string udn)
    {
        var id = "self-" + udn;
        await client.SendRawAsync(Stanzas.Mms(id, udn));
        await client.ReadUntilAsync(e => Stanzas.IsMessage(e, id) && Stanzas.Property(e, "MsgType") == "1", TimeSpan.FromSeconds(30));
        await client.SendRawAsync(Stanzas.Ack(id));
        await client.ReadUntilAsync(e => Stanzas.IsMessage(e, id) && Stanzas.Property(e, "MsgType") == "2", TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Reads until every MMS named has come, in whatever order: each MMS that failed to be stored is retried on its own
    /// schedule, so one sent later may be stored, and delivered, before one sent earlier once space returns.
    /// </summary>
    private static async Task ReceiveAllAsync(XmppClient recipient, IReadOnlyCollection<string> ids, bool acknowledge)
    {
        var missing = new HashSet<string>(ids);
        while (missing.Count > 0)
        {
            var message = await recipient.ReadUntilAsync(e => e.Name == "message" && missing.Contains(e.Attribute("id") ?? ""),
                TimeSpan.FromSeconds(60));
            var id = message.Attribute("id")!;
            missing.Remove(id);
            if (acknowledge) await recipient.SendRawAsync(Stanzas.Ack(id));
        }
    }

    /// <summary>A body of 128 KiB, so that few MMS use up the pages SQLite's files hold already.</summary>
    private static readonly string Bulky = new('x', 128 * 1024);

    /// <summary>
    /// Fills the disk, then sends bulky MMS (full-0, full-1, ...) until the server logs <paramref name="logged"/>: SQLite
    /// may still fit the first ones into pages its files hold. Returns how many were sent.
    /// </summary>
    private static async Task<int> FillUntilStoringFailsAsync(SmallDisk disk, EmbeddedServer server, XmppClient sender, string to, string logged)
    {
        await disk.FillAsync();
        var sent = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!server.Output.Contains(logged, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "no MMS failed to be stored on the full disk:\n" + server.Output);
            await sender.SendRawAsync(Stanzas.Mms($"full-{sent++}", to, Bulky));
            await Task.Delay(100);
        }
        return sent;
    }
}
