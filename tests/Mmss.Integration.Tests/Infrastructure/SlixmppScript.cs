using System.Diagnostics;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>Runs one of tests/interop/*.py with Debian's python3-slixmpp, a real third-party client.</summary>
public static class SlixmppScript
{
    /// <summary>Starts the script; its output (stdout then stderr) is complete once it has exited.</summary>
    public static (Process Process, Task<string> Output) Start(params string[] arguments)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "interop", arguments[0]);
        var start = new ProcessStartInfo("/usr/bin/python3", [script, .. arguments[1..]])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        return (process, Task.WhenAll(stdout, stderr).ContinueWith(t => string.Concat(t.Result), TaskScheduler.Default));
    }

    /// <summary>Runs the script to its end (60 s at most) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var (process, output) = Start(arguments);
        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await output);
        }
    }
}
