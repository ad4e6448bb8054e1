using System.Diagnostics;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>A real third-party client, Debian's python3-slixmpp, logs in over STARTTLS and pings the server.</summary>
[Collection(ServerCollection.Name)]
public class Slixmpp_Interop_Tests(ServerFixture fixture)
{
    [Theory]
    [InlineData("DIGEST-MD5")]
    [InlineData("CRAM-MD5")]
    [InlineData("PLAIN")]
    [InlineData("SCRAM-SHA-1")]
    public async Task Slixmpp_logs_in_over_starttls(string mechanism)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "interop", "slixmpp_login.py");
        var start = new ProcessStartInfo("/usr/bin/python3",
            [script, "127.0.0.1", fixture.Server.C2sPort.ToString(), "1101@127.0.0.1", "pw-1101", mechanism])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"slixmpp exited {process.ExitCode}: {output}");
        Assert.Contains("LOGIN-OK 1101@127.0.0.1/", output);
    }
}
