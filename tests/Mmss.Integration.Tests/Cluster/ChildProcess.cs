using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// One server process of a test cluster (`dotnet Mmss.Silo.dll`, `dotnet Mmss.Gateway.dll`), started as
/// <see cref="Infrastructure.EmbeddedServer"/> starts the embedded server: from the test's bin directory, configured only
/// through environment variables. It can be killed (-9) and started again with the same settings any number of times;
/// every line it writes goes to a log file (one per process, all starts appended, each start marked) and the last lines
/// are kept in memory for failure messages.
/// <para>
/// Nothing outlives the test process: <see cref="DisposeAsync"/> kills the process, a ProcessExit handler kills what is
/// still running, and a small watchdog shell kills the child if the test process itself is killed outright.
/// </para>
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int TailLines = 400;
    private static readonly HashSet<ChildProcess> Running = [];

    private readonly string _dll;
    private readonly string[] _arguments;
    private readonly Dictionary<string, string> _environment;
    private readonly Queue<string> _tail = new();
    private readonly object _lock = new();
    private StreamWriter? _log;
    private Process? _process;
    private Process? _watchdog;
    private bool _disposed;

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            ChildProcess[] running;
            lock (Running) running = [.. Running];
            foreach (var child in running)
            {
                try
                {
                    child._process?.Kill(entireProcessTree: true);
                }
                catch (Exception)
                {
                    // best effort while the test process exits; the watchdog finishes the job
                }
            }
        };
    }

    /// <param name="name">for messages and the log file's name, e.g. "silo-0"</param>
    /// <param name="dll">the entry assembly's file name in the test's bin directory, e.g. "Mmss.Silo.dll"</param>
    public ChildProcess(string name, string dll, IReadOnlyDictionary<string, string> environment, string logDirectory, params string[] arguments)
    {
        Name = name;
        _dll = dll;
        _arguments = arguments;
        _environment = new Dictionary<string, string>(environment);
        Directory.CreateDirectory(logDirectory);
        LogPath = Path.Combine(logDirectory, name + ".log");
    }

    public string Name { get; }

    /// <summary>Everything the process wrote, every start of it, with a marker line per start and per kill.</summary>
    public string LogPath { get; }

    /// <summary>How many times it was started.</summary>
    public int Starts { get; private set; }

    public bool IsRunning => _process is { HasExited: false };

    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    public IReadOnlyDictionary<string, string> Environment => _environment;

    /// <summary>The last lines written (of the current or last start), for failure messages.</summary>
    public string Tail(int lines = 80)
    {
        lock (_lock) return string.Join('\n', _tail.Skip(Math.Max(0, _tail.Count - lines)));
    }

    /// <summary>Lines of the log file (all starts) containing <paramref name="text"/>.</summary>
    public IReadOnlyList<string> Grep(string text)
    {
        lock (_lock) _log?.Flush();
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var hits = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains(text, StringComparison.Ordinal)) hits.Add(line);
        }
        return hits;
    }

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning) throw new InvalidOperationException($"{Name} is already running");
        var path = Path.Combine(AppContext.BaseDirectory, _dll);
        if (!File.Exists(path)) throw new FileNotFoundException($"{Name}: {_dll} is not in the test's bin directory", path);
        var start = new ProcessStartInfo("dotnet", [path, .. _arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (key, value) in _environment) start.Environment[key] = value;
        lock (_lock)
        {
            _tail.Clear();
            _log ??= new StreamWriter(new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), Encoding.UTF8) { AutoFlush = true };
        }
        Starts++;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Name}");
        Append($"==== start #{Starts} of {Name}: pid {process.Id}");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        _process = process;
        lock (Running) Running.Add(this);
        StartWatchdog(process.Id);
    }

    /// <summary>
    /// Polls <paramref name="url"/> until it answers 200. Fails at once, with the process's last lines, if the process
    /// exits; after <paramref name="timeout"/> with the last status seen.
    /// </summary>
    public async Task WaitUntilReadyAsync(string url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        while (true)
        {
            var process = _process ?? throw new InvalidOperationException($"{Name} was not started");
            if (process.HasExited)
            {
                await process.WaitForExitAsync(); // the rest of its output
                throw new InvalidOperationException($"{Name} exited with {process.ExitCode} before it was ready:\n{Tail()}");
            }
            try
            {
                using var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode)
                {
                    Append($"==== ready after {clock.Elapsed.TotalSeconds:F1}s ({url})");
                    return;
                }
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{Name} was not ready at {url} within {timeout.TotalSeconds:0}s (last: {last}):\n{Tail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>kill -9: no shutdown code runs, as in a crash or an OOM kill. Waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        var process = _process;
        if (process is null || process.HasExited) return;
        Append($"==== kill -9 {process.Id}");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        StopWatchdog();
        lock (Running) Running.Remove(this);
    }

    /// <summary>SIGTERM, as Kubernetes stops a pod; waits for the exit (kill -9 after <paramref name="timeout"/>).</summary>
    public async Task StopGracefullyAsync(TimeSpan timeout)
    {
        var process = _process;
        if (process is null || process.HasExited) return;
        Append($"==== SIGTERM {process.Id}");
        SendSignal(process.Id, 15);
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
        StopWatchdog();
        lock (Running) Running.Remove(this);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        line = DateTime.UtcNow.ToString("HH:mm:ss.fff ") + line; // the test's clock: lines of all processes compare
        lock (_lock)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines) _tail.Dequeue();
            try
            {
                _log?.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Kills the child if the test process dies without running its exit handlers; ends with the child.</summary>
    private void StartWatchdog(int childId)
    {
        StopWatchdog();
        const string script = """
            while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
            kill -0 "$1" 2>/dev/null || kill -KILL "$2" 2>/dev/null
            exit 0
            """;
        var start = new ProcessStartInfo("/bin/sh", ["-c", script, "mmss-child-watchdog", System.Environment.ProcessId.ToString(), childId.ToString()])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _watchdog = Process.Start(start);
    }

    private void StopWatchdog()
    {
        var watchdog = _watchdog;
        _watchdog = null;
        if (watchdog is null) return;
        try
        {
            if (!watchdog.HasExited)
            {
                watchdog.Kill(entireProcessTree: true);
                watchdog.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (InvalidOperationException)
        {
        }
        watchdog.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            await KillAsync();
        }
        finally
        {
            StopWatchdog();
            lock (Running) Running.Remove(this);
            _process?.Dispose();
            lock (_lock)
            {
                _log?.Dispose();
                _log = null;
            }
        }
    }
}
