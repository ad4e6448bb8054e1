using System.Diagnostics;
using System.Net.Sockets;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>A real S3-protocol server (s3rver, installed by tests/run.sh) on 127.0.0.1, which tests may stop and start again.</summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private Process? _process;

    public S3Server()
    {
        Port = FreePorts.Take(1)[0];
        Directory = Path.Combine(Path.GetTempPath(), "mmss-s3-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public int Port { get; }

    public string Directory { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    private static string Script
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mmss.Orleans.sln"))) dir = dir.Parent;
            var script = Path.Combine(dir?.FullName ?? ".", "tests", "s3", "node_modules", "s3rver", "bin", "s3rver.js");
            return File.Exists(script) ? script : throw new FileNotFoundException("s3rver is not installed; run bash tests/run.sh", script);
        }
    }

    public async Task StartAsync()
    {
        var start = new ProcessStartInfo("node", [Script, "--directory", Directory, "--address", "127.0.0.1", "--port", Port.ToString(),
            "--silent", "--allow-mismatched-signatures"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start s3rver");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException("s3rver did not start");
    }

    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
