using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Npgsql;
using Xunit;

namespace Mmss.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for tests: a fresh cluster (<c>initdb -A trust</c>) in a temporary directory, the
/// <c>postgres</c> binary of Debian's package (installed by tests/run.sh) on a free 127.0.0.1 port with its unix socket
/// in the same directory, and the default durability settings (fsync on). As root it runs as the <c>postgres</c> OS
/// user, since PostgreSQL refuses to run as root.
/// <para>
/// Nothing outlives the test process: <see cref="DisposeAsync"/> (or <see cref="StopAsync"/>) stops the server and
/// deletes its directory; a server not disposed when the process exits is stopped and deleted by a ProcessExit handler
/// and, should the process be killed first (the test platform kills its test host about 100 ms after the run), by a
/// detached watchdog process.
/// </para>
/// <para>
/// Use <see cref="SharedAsync"/> (or <see cref="PostgresDatabaseFixture"/>, one fresh database per fixture) to share
/// one server among the test collections of an assembly; a test that restarts or stops PostgreSQL should start its
/// own with <see cref="StartNewAsync"/>, or use this class itself as a class or collection fixture.
/// </para>
/// </summary>
public sealed class PostgresServer : IAsyncLifetime, IAsyncDisposable
{
    public const string Host = "127.0.0.1";
    public const string User = "postgres";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartNewAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly HashSet<PostgresServer> Live = [];
    private static readonly Regex DatabaseName = new("^[A-Za-z_][A-Za-z0-9_]{0,62}$");

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Queue<string> _log = new();
    private Process? _postmaster;
    private bool _initialized;
    private bool _disposed;

    static PostgresServer()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            PostgresServer[] live;
            lock (Live) live = [.. Live];
            foreach (var server in live) server.StopAndDeleteNow();
        };
    }

    public PostgresServer()
    {
        Root = Path.Combine(Path.GetTempPath(), "mmss-pg-" + Guid.NewGuid().ToString("N")[..12]);
        DataDirectory = Path.Combine(Root, "data");
    }

    /// <summary>The server of this test assembly, started on first use and stopped when the test process exits. Don't stop or restart it.</summary>
    public static Task<PostgresServer> SharedAsync() => Shared.Value;

    /// <summary>A server of the caller's own, started; dispose it when done.</summary>
    public static async Task<PostgresServer> StartNewAsync()
    {
        var server = new PostgresServer();
        try
        {
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The temporary directory: holds the data directory and the unix socket; deleted on dispose.</summary>
    public string Root { get; }

    public string DataDirectory { get; }

    public string SocketDirectory => Root;

    /// <summary>The TCP port on 127.0.0.1; chosen at the first start and kept across restarts.</summary>
    public int Port { get; private set; }

    /// <summary>The postmaster's process id while it runs.</summary>
    public int? ProcessId => _postmaster is { HasExited: false } postmaster ? postmaster.Id : null;

    public bool IsRunning => ProcessId is not null;

    /// <summary>The last lines the server logged, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log) return string.Join('\n', _log);
        }
    }

    /// <summary>A connection string for a database of this server, over TCP as the superuser (trust authentication).</summary>
    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = Host,
        Port = Port,
        Username = User,
        Database = database,
        IncludeErrorDetail = true,
    }.ConnectionString;

    /// <summary>Creates the database afresh (dropping one of that name first) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        if (!DatabaseName.IsMatch(name)) throw new ArgumentException($"not a plain database name: {name}", nameof(name));
        await using var connection = new NpgsqlConnection(AdminConnectionString());
        await connection.OpenAsync();
        foreach (var sql in new[] { $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", $"CREATE DATABASE \"{name}\"" })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    /// <summary>Creates the cluster at the first call, then starts the server (again, after <see cref="ShutDownAsync"/>) on the same port and data.</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (IsRunning) return;
            if (!_initialized)
            {
                lock (Live) Live.Add(this);
                await InitDbAsync();
                StartWatchdog();
                _initialized = true;
                for (var attempt = 1; ; attempt++)
                {
                    Port = FreePort();
                    try
                    {
                        await StartPostmasterAsync();
                        return;
                    }
                    catch (PortTakenException) when (attempt < 5)
                    {
                    }
                }
            }
            await StartPostmasterAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops the server and keeps its data, until <see cref="StartAsync"/>: a fast shutdown (connections are closed,
    /// a checkpoint is written) or, with <paramref name="immediate"/>, an immediate one (no checkpoint: the next start
    /// recovers from the WAL, as after a crash).
    /// </summary>
    public async Task ShutDownAsync(bool immediate = false)
    {
        await _gate.WaitAsync();
        try
        {
            await StopPostmasterAsync(immediate);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the server (see <see cref="ShutDownAsync"/>) and starts it again on the same port and data.</summary>
    public async Task RestartAsync(bool immediate = false)
    {
        await ShutDownAsync(immediate);
        await StartAsync();
    }

    /// <summary>Stops the server and deletes its directory.</summary>
    public Task StopAsync() => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_disposed) return;
            _disposed = true;
            await StopPostmasterAsync(immediate: true);
            DeleteRoot(); // and so ends the watchdog
            lock (Live) Live.Remove(this);
        }
        finally
        {
            _gate.Release();
        }
    }

    Task IAsyncLifetime.InitializeAsync() => StartAsync();

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    private async Task InitDbAsync()
    {
        Directory.CreateDirectory(Root);
        if (RunningAsRoot)
        {
            var (uid, gid) = PostgresAccount();
            if (Chown(Root, uid, gid) != 0) throw new InvalidOperationException($"chown {Root}: errno {Marshal.GetLastPInvokeError()}");
        }
        using var initdb = Process.Start(StartInfo("initdb", ["-D", DataDirectory, "-A", "trust", "-U", User, "-E", "UTF8", "--locale=C", "--no-instructions"]))
            ?? throw new InvalidOperationException("could not start initdb");
        var output = initdb.StandardOutput.ReadToEndAsync();
        var errors = initdb.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        await initdb.WaitForExitAsync(timeout.Token);
        if (initdb.ExitCode != 0) throw new InvalidOperationException($"initdb exited with {initdb.ExitCode}:\n{await output}\n{await errors}");
    }

    private async Task StartPostmasterAsync()
    {
        lock (_log) _log.Clear();
        var postmaster = Process.Start(StartInfo("postgres", [
            "-D", DataDirectory,
            "-c", "listen_addresses=" + Host,
            "-c", "port=" + Port,
            "-c", "unix_socket_directories=" + SocketDirectory,
            "-c", "max_connections=200",
        ])) ?? throw new InvalidOperationException("could not start postgres");
        postmaster.OutputDataReceived += (_, e) => AppendLog(e.Data);
        postmaster.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        postmaster.BeginOutputReadLine();
        postmaster.BeginErrorReadLine();
        postmaster.StandardInput.Close();
        _postmaster = postmaster;
        try
        {
            await WaitUntilAcceptingAsync(postmaster);
        }
        catch
        {
            await StopPostmasterAsync(immediate: true);
            throw;
        }
    }

    private async Task WaitUntilAcceptingAsync(Process postmaster)
    {
        var probe = new NpgsqlConnectionStringBuilder(AdminConnectionString()) { Timeout = 2 }.ConnectionString;
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (postmaster.HasExited)
            {
                await postmaster.WaitForExitAsync(); // the rest of its output
                var log = Log;
                if (log.Contains("could not bind") || log.Contains("could not create any TCP/IP sockets")) throw new PortTakenException();
                throw new InvalidOperationException($"postgres exited with {postmaster.ExitCode}:\n{log}");
            }
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or SocketException)
            {
            }
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"postgres did not accept connections within {StartTimeout}:\n{Log}");
            await Task.Delay(50);
        }
    }

    private async Task StopPostmasterAsync(bool immediate)
    {
        var postmaster = _postmaster;
        _postmaster = null;
        if (postmaster is not null)
        {
            if (!postmaster.HasExited)
            {
                // SIGINT: fast shutdown; SIGQUIT: immediate. The postmaster exits only after all its children have.
                Kill(postmaster.Id, immediate ? SigQuit : SigInt);
                using var timeout = new CancellationTokenSource(StopTimeout);
                try
                {
                    await postmaster.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    postmaster.Kill(entireProcessTree: true);
                    await postmaster.WaitForExitAsync();
                }
            }
            postmaster.Dispose();
        }
    }

    /// <summary>At process exit: synchronous, immediate.</summary>
    private void StopAndDeleteNow()
    {
        try
        {
            var postmaster = _postmaster;
            if (postmaster is { HasExited: false })
            {
                Kill(postmaster.Id, SigQuit);
                if (!postmaster.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    postmaster.Kill(entireProcessTree: true);
                    postmaster.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
            DeleteRoot();
        }
        catch (Exception)
        {
            // best effort while the process exits; the watchdog finishes the job
        }
    }

    /// <summary>
    /// A shell loop, detached from this process (setsid -f: no child of it, so it survives a kill of the whole process
    /// tree), that ends when the directory is deleted and, if this process goes first, stops the postmaster whose pid
    /// the data directory's postmaster.pid names and deletes the directory.
    /// </summary>
    private void StartWatchdog()
    {
        const string script = """
            exec </dev/null >/dev/null 2>&1
            while kill -0 "$1" && [ -d "$2" ]; do sleep 0.5; done
            [ -d "$2" ] || exit 0
            pid=$(head -n 1 "$2/data/postmaster.pid")
            if [ -n "$pid" ] && [ "$(cat /proc/$pid/comm)" = postgres ]; then
              kill -QUIT "$pid"
              n=0
              while kill -0 "$pid" && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
              kill -KILL "$pid"
            fi
            rm -rf "$2"
            """;
        var start = new ProcessStartInfo("setsid", ["-f", "/bin/sh", "-c", script, "mmss-pg-watchdog", Environment.ProcessId.ToString(), Root])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var setsid = Process.Start(start) ?? throw new InvalidOperationException("could not start the watchdog");
        setsid.StandardInput.Close();
        setsid.WaitForExit();
    }

    private void DeleteRoot()
    {
        try
        {
            if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void AppendLog(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > 200) _log.Dequeue();
        }
    }

    private string AdminConnectionString() => new NpgsqlConnectionStringBuilder(ConnectionString()) { Pooling = false }.ConnectionString;

    /// <summary>A PostgreSQL program, run as the postgres OS user when this process is root (setpriv execs it: same process id).</summary>
    private ProcessStartInfo StartInfo(string program, string[] arguments)
    {
        var path = Path.Combine(BinDirectory, program);
        ProcessStartInfo start = RunningAsRoot
            ? new("setpriv", ["--reuid=" + User, "--regid=" + User, "--init-groups", "--", path, .. arguments])
            : new(path, arguments);
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = Root;
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        start.Environment["LC_ALL"] = "C";
        return start;
    }

    /// <summary>Debian's PostgreSQL 15 (tests/run.sh installs it); else the newest under /usr/lib/postgresql.</summary>
    private static string BinDirectory
    {
        get
        {
            const string debian15 = "/usr/lib/postgresql/15/bin";
            if (File.Exists(Path.Combine(debian15, "postgres"))) return debian15;
            var newest = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql")
                    .Select(d => Path.Combine(d, "bin"))
                    .Where(d => File.Exists(Path.Combine(d, "postgres")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                    .FirstOrDefault()
                : null;
            return newest ?? throw new FileNotFoundException("PostgreSQL is not installed; run bash tests/run.sh", Path.Combine(debian15, "postgres"));
        }
    }

    private static bool RunningAsRoot => OperatingSystem.IsLinux() && GetEffectiveUserId() == 0;

    private static (uint Uid, uint Gid) PostgresAccount()
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length > 3 && fields[0] == User) return (uint.Parse(fields[2]), uint.Parse(fields[3]));
        }
        throw new InvalidOperationException("there is no postgres OS user to run PostgreSQL as (Debian's postgresql package creates it)");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private const int SigInt = 2;
    private const int SigQuit = 3;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int Chown(string path, uint owner, uint group);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();

    private sealed class PortTakenException : Exception;
}

/// <summary>
/// One fresh database on the test assembly's shared <see cref="PostgresServer"/>, for a class or collection fixture.
/// The database is left in place at the end: the whole server and its directory go when the test process exits.
/// </summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public string Database { get; } = "mmss_" + Guid.NewGuid().ToString("N")[..16];

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.SharedAsync();
        ConnectionString = await Server.CreateDatabaseAsync(Database);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
