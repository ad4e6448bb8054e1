using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using Mmss.Protocol.Client;
using Mmss.Protocol.Sasl;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>
/// The real embedded server (gateway + silo in one process), started as a child process exactly as
/// `dotnet run --project gateway` would run it, on free loopback ports and a private data directory.
/// </summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token";
    public const string Domain = "127.0.0.1";

    private readonly Dictionary<string, string> _settings;
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <param name="host">
    /// the loopback address every listener binds and the JID domain served (its server IP, spec 7.1.1); several servers
    /// on one machine each take their own (127.0.0.2 and 127.0.0.3 for two domains)
    /// </param>
    public EmbeddedServer(IDictionary<string, string>? settings = null, string? dataDirectory = null, string host = Domain)
    {
        Host = host;
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "mmss-test-" + Guid.NewGuid().ToString("N")[..12]);
        var ports = FreePorts.Take(5);
        (C2sPort, TlsPort, HttpPort, SiloPort, GatewayPort) = (ports[0], ports[1], ports[2], ports[3], ports[4]);
        _settings = new Dictionary<string, string>
        {
            ["Mmss__DataDir"] = DataDirectory,
            ["Mmss__Domains__0"] = host,
            ["Mmss__Domains__1"] = "localhost",
            ["Mmss__C2s__BindAddress"] = host,
            ["Mmss__C2s__Port"] = C2sPort.ToString(),
            ["Mmss__C2s__TlsPort"] = TlsPort.ToString(),
            ["Mmss__Http__BindAddress"] = host,
            ["Mmss__Http__Port"] = HttpPort.ToString(),
            ["Mmss__Orleans__SiloPort"] = SiloPort.ToString(),
            ["Mmss__Orleans__GatewayPort"] = GatewayPort.ToString(),
            ["Mmss__Admin__Token"] = AdminToken,
            ["Mmss__C2s__MaxAuthFailuresPerAddress"] = "100000",
            // Every test's requests come from 127.0.0.1, refusals included: the tests of the limit set their own.
            ["Mmss__Http__MaxRefusalsPerAddress"] = "100000",
            ["Logging__LogLevel__Default"] = "Information",
        };
        if (settings is not null)
        {
            foreach (var (key, value) in settings) _settings[key] = value;
        }
    }

    /// <summary>A setting added before the start: one that names another server's ports, say.</summary>
    public void Configure(string key, string value) => _settings[key] = value;

    /// <summary>The address the listeners bind, which is also the JID domain this server serves first.</summary>
    public string Host { get; }

    public string DataDirectory { get; }
    public int C2sPort { get; }
    public int TlsPort { get; }
    public int HttpPort { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public int? ProcessId => _process?.Id;

    public async Task StartAsync()
    {
        var gatewayDll = Path.Combine(AppContext.BaseDirectory, "Mmss.Gateway.dll");
        var start = new ProcessStartInfo("dotnet", [gatewayDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (key, value) in _settings) start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the gateway");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilHealthyAsync(TimeSpan.FromSeconds(90));
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited) throw new InvalidOperationException($"the server exited with {_process.ExitCode}:\n{Output}");
            try
            {
                var response = await http.GetAsync($"http://{Host}:{HttpPort}/health");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the server did not become healthy in {timeout}:\n{Output}");
    }

    /// <summary>kill -9: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as systemd or Kubernetes stop a process; waits for it to exit.</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        if (_process is null || _process.HasExited) return;
        if (SendSignal(_process.Id, 15) != 0) throw new InvalidOperationException("kill(SIGTERM) failed");
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public HttpClient AdminClient()
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{Host}:{HttpPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return http;
    }

    public async Task ProvisionUserAsync(string udn, string password, string? name = null)
    {
        using var http = AdminClient();
        var response = await http.PutAsJsonAsync($"admin/users/{udn}", new { password, name = name ?? "Unit " + udn });
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"provisioning {udn}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Two users, prefix+"1" (the originator) and prefix+"2" (the recipient), password "pw".</summary>
    public async Task<(string Mo, string Mt)> ProvisionPairAsync(string prefix)
    {
        await ProvisionUserAsync(prefix + "1", "pw");
        await ProvisionUserAsync(prefix + "2", "pw");
        return (prefix + "1", prefix + "2");
    }

    public Task<XmppClient> LoginAsync(string udn, string password, string mechanism = "SCRAM-SHA-1", string? resource = null, bool directTls = false) =>
        XmppClient.LoginAsync(Host, directTls ? TlsPort : C2sPort, Host, Mechanism(mechanism, udn, password), resource, directTls);

    public static ISaslClientMechanism Mechanism(string name, string udn, string password) => name switch
    {
        "PLAIN" => new PlainClient(udn, password),
        "DIGEST-MD5" => new DigestMd5Client(udn, password, Domain),
        "CRAM-MD5" => new CramMd5Client(udn, password),
        "SCRAM-SHA-1" => new ScramClient(ScramAlgorithm.Sha1, udn, password),
        "SCRAM-SHA-256" => new ScramClient(ScramAlgorithm.Sha256, udn, password),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
