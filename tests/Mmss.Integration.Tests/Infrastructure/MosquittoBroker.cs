using System.Diagnostics;
using System.Net.Sockets;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>
/// Debian's Mosquitto as an external MQTT broker (tests/run.sh installs it), on a loopback port of its own: started,
/// killed and started again by the tests. Without a configuration file Mosquitto 2 listens on loopback only and lets
/// anonymous clients in. With a certificate and key (PEM files), it listens with TLS instead, from a configuration file.
/// </summary>
public sealed class MosquittoBroker(string? certificateFile = null, string? keyFile = null) : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/mosquitto";

    private Process? _process;

    public int Port { get; } = FreePorts.Take(1)[0];

    public async Task StartAsync()
    {
        string[] arguments = ["-p", Port.ToString()];
        if (certificateFile is not null)
        {
            var configuration = Path.Combine(Path.GetDirectoryName(certificateFile)!, "mosquitto.conf");
            await File.WriteAllTextAsync(configuration,
                $"listener {Port} 127.0.0.1\nallow_anonymous true\ncertfile {certificateFile}\nkeyfile {keyFile}\n");
            arguments = ["-c", configuration];
        }
        var start = new ProcessStartInfo(Executable, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start mosquitto");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>kill -9: the broker vanishes mid-run.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}
