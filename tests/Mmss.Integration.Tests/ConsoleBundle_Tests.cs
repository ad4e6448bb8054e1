using System.Diagnostics;

namespace Mmss.Integration.Tests;

/// <summary>
/// The console's bundle is committed (gateway/Console/wwwroot/console.js) so that `dotnet run` needs no npm; this
/// checks it is what gateway/Console/build.mjs makes of the sources today, so that an edit of src/ cannot ship unbuilt.
/// </summary>
public class ConsoleBundle_Tests
{
    [Fact]
    public async Task The_committed_console_bundle_is_built_from_the_current_sources()
    {
        var console = Path.Combine(ChartFixture.RepositoryRoot, "gateway", "Console");
        Assert.True(Directory.Exists(Path.Combine(console, "node_modules", "esbuild")),
            "the console's build tools are missing: run bash tests/run.sh (or npm ci --prefix gateway/Console)");
        var rebuilt = Path.Combine(Path.GetTempPath(), $"mmss-console-{Guid.NewGuid():N}.js");
        try
        {
            var start = new ProcessStartInfo("node", ["build.mjs"])
            {
                WorkingDirectory = console,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment = { ["MMSS_CONSOLE_OUTFILE"] = rebuilt },
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"build.mjs exited {process.ExitCode}: {await output}{await errors}");
            var expected = await File.ReadAllBytesAsync(Path.Combine(console, "wwwroot", "console.js"));
            var actual = await File.ReadAllBytesAsync(rebuilt);
            Assert.True(actual.SequenceEqual(expected),
                "gateway/Console/wwwroot/console.js is not what its sources build to: run npm run build in gateway/Console and commit the result");
        }
        finally
        {
            File.Delete(rebuilt);
        }
    }
}
