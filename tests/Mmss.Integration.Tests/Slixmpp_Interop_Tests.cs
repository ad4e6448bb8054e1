using System.Diagnostics;
using System.Net.Http.Json;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>A real third-party client, Debian's python3-slixmpp, logs in over STARTTLS and pings the server.</summary>
[Collection(ServerCollection.Name)]
public class Slixmpp_Interop_Tests(ServerFixture fixture)
{
    [Fact]
    public async Task Slixmpp_sends_an_mms_with_jive_properties_and_receives_the_relayed_ack()
    {
        await fixture.Server.ProvisionUserAsync("8801", "pw");
        await fixture.Server.ProvisionUserAsync("8802", "pw");
        await using var recipient = await fixture.Server.LoginAsync("8802", "pw");
        var (process, output) = SlixmppScript.Start("slixmpp_mms.py", "127.0.0.1", fixture.Server.C2sPort.ToString(), "8801@127.0.0.1", "pw", "8802", "slix-1");
        using (process)
        {
            var mms = await recipient.ReadUntilAsync(e => Stanzas.IsMessage(e, "slix-1"), TimeSpan.FromSeconds(60));
            Assert.Equal("from slixmpp", Stanzas.Property(mms, "MsgText"));
            Assert.StartsWith("8801@127.0.0.1", mms.Attribute("from"));
            await recipient.SendRawAsync(Stanzas.Ack("slix-1", "1"));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            var text = await output;
            Assert.True(process.ExitCode == 0, $"slixmpp exited {process.ExitCode}: {text}");
            Assert.Contains("ACK-OK 1", text);
        }
    }

    [Fact]
    public async Task Slixmpp_sees_a_talk_group_contact_come_online_and_go_away()
    {
        await fixture.Server.ProvisionUserAsync("8811", "pw");
        await fixture.Server.ProvisionUserAsync("8812", "pw");
        using (var admin = fixture.Server.AdminClient())
        {
            (await admin.PutAsJsonAsync("admin/groups/8819", new { name = "Slix patrol", members = new[] { "8811", "8812" } })).EnsureSuccessStatusCode();
        }
        var contact = await fixture.Server.LoginAsync("8811", "pw", resource: "dc");
        await contact.SendRawAsync("<presence><status>dispatch</status></presence>");
        var start = new ProcessStartInfo("/usr/bin/python3",
            [Path.Combine(AppContext.BaseDirectory, "interop", "slixmpp_presence.py"), "127.0.0.1", fixture.Server.C2sPort.ToString(), "8812@127.0.0.1", "pw", "8811@127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        async Task<string> LineAsync(string prefix)
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
            }
            throw new InvalidOperationException($"slixmpp ended before {prefix}: {await stderr}");
        }
        try
        {
            Assert.Equal("ROSTER both", await LineAsync("ROSTER"));
            Assert.Equal("AVAILABLE 8811@127.0.0.1/dc dispatch", await LineAsync("AVAILABLE"));
            // The contact sees the slixmpp terminal too, then drops its connection.
            var seen = await contact.ReadUntilAsync(e => e.Name == "presence" && e.Attribute("from")?.StartsWith("8812@127.0.0.1/") == true);
            Assert.Equal("slixmpp terminal", seen.Element("status", Mmss.Protocol.Xmpp.Namespaces.Client)!.Text);
        }
        finally
        {
            await contact.DisposeAsync();
        }
        Assert.Equal("UNAVAILABLE 8811@127.0.0.1/dc", await LineAsync("UNAVAILABLE"));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"slixmpp exited {process.ExitCode}: {await stderr}");
    }

    [Theory]
    [InlineData("DIGEST-MD5")]
    [InlineData("CRAM-MD5")]
    [InlineData("PLAIN")]
    [InlineData("SCRAM-SHA-1")]
    public async Task Slixmpp_logs_in_over_starttls(string mechanism)
    {
        var (exitCode, output) = await SlixmppScript.RunAsync(
            "slixmpp_login.py", "127.0.0.1", fixture.Server.C2sPort.ToString(), "1101@127.0.0.1", "pw-1101", mechanism);
        Assert.True(exitCode == 0, $"slixmpp exited {exitCode}: {output}");
        Assert.Contains("LOGIN-OK 1101@127.0.0.1/", output);
    }

    [Fact]
    public async Task Slixmpp_logs_in_with_legacy_iq_auth_over_tls_and_is_asked_for_no_digest()
    {
        await fixture.Server.ProvisionUserAsync("8803", "pw-8803");
        var (exitCode, output) = await SlixmppScript.RunAsync(
            "slixmpp_legacy_auth.py", "127.0.0.1", fixture.Server.C2sPort.ToString(), "8803@127.0.0.1", "pw-8803");
        Assert.True(exitCode == 0, $"slixmpp exited {exitCode}: {output}");
        Assert.Contains("FIELDS password resource username", output);
        Assert.Contains("LOGIN-OK 8803@127.0.0.1/legacy", output);
    }

    [Fact]
    public async Task Slixmpp_registration_is_refused_with_not_allowed_when_the_policy_is_off()
    {
        var (exitCode, output) = await SlixmppScript.RunAsync(
            "slixmpp_register.py", "127.0.0.1", fixture.Server.C2sPort.ToString(), "8804@127.0.0.1", "pw", "pw2");
        Assert.True(exitCode == 1, $"slixmpp exited {exitCode}: {output}");
        Assert.Contains("REGISTER-FAILED not-allowed", output);
    }
}
