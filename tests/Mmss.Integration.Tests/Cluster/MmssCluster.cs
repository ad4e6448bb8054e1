using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Tests.Infrastructure;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>A silo process of the test cluster and its loopback ports (kept across restarts).</summary>
public sealed class SiloNode(int index, ChildProcess process, int siloPort, int gatewayPort, int healthPort)
{
    public int Index { get; } = index;
    public ChildProcess Process { get; } = process;
    public int SiloPort { get; } = siloPort;
    public int GatewayPort { get; } = gatewayPort;
    public int HealthPort { get; } = healthPort;
    public string ReadyUrl => $"http://127.0.0.1:{HealthPort}/health/ready";
    public override string ToString() => Process.Name;
}

/// <summary>A gateway process of the test cluster and its loopback ports (kept across restarts).</summary>
public sealed class GatewayNode(int index, ChildProcess process, int c2sPort, int tlsPort, int httpPort, string dataDirectory, int s2sPort)
{
    public int Index { get; } = index;
    public ChildProcess Process { get; } = process;
    public int C2sPort { get; } = c2sPort;
    public int TlsPort { get; } = tlsPort;
    public int HttpPort { get; } = httpPort;
    public string DataDirectory { get; } = dataDirectory;

    /// <summary>Its server-to-server listener (when the cluster's settings enable Mmss__S2s__Enabled).</summary>
    public int S2sPort { get; } = s2sPort;

    public string ReadyUrl => $"http://127.0.0.1:{HttpPort}/health/ready";
    public override string ToString() => Process.Name;
}

/// <summary>
/// The cluster deployment on one machine: a PostgreSQL of its own (so a test may restart it), <c>N</c> silos
/// (<c>dotnet Mmss.Silo.dll</c>) and <c>M</c> gateways (<c>dotnet Mmss.Gateway.dll</c> with a cluster connection string:
/// an Orleans client, no silo), each a separate OS process on its own loopback ports, one fresh database and a unique
/// ClusterId. The gateways share one attachment directory (in a cluster the store must be shared) and have a data
/// directory each. Every process can be killed (-9) and started again; <see cref="Diagnostics"/> gives the last lines of
/// each for a failure message and the log files keep everything.
/// </summary>
public sealed class MmssCluster : IAsyncDisposable
{
    public const string AdminToken = EmbeddedServer.AdminToken;
    public const string Domain = EmbeddedServer.Domain;

    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private readonly IReadOnlyDictionary<string, string> _extraSettings;
    private readonly bool _ownsPostgres;
    private readonly List<SiloNode> _silos = [];
    private readonly List<GatewayNode> _gateways = [];

    private MmssCluster(PostgresServer postgres, bool ownsPostgres, IReadOnlyDictionary<string, string>? settings)
    {
        Postgres = postgres;
        _ownsPostgres = ownsPostgres;
        _extraSettings = settings ?? new Dictionary<string, string>();
        var id = Guid.NewGuid().ToString("N")[..10];
        ClusterId = "mmss-test-" + id;
        Database = "mmss_cluster_" + id;
        Root = Path.Combine(Path.GetTempPath(), "mmss-cluster-" + id);
        LogDirectory = Path.Combine(Root, "logs");
        AttachmentDirectory = Path.Combine(Root, "attachments");
        Directory.CreateDirectory(LogDirectory);
        Directory.CreateDirectory(AttachmentDirectory);
    }

    /// <summary>
    /// Starts a PostgreSQL of its own (<paramref name="postgres"/> null) or uses the given one, creates the database,
    /// then the silos (all at once: the first to take the advisory lock creates the schema) and, once they are ready,
    /// the gateways. Everything started is stopped again if a later step fails.
    /// </summary>
    /// <param name="settings">extra environment for every process (e.g. Mmss__Mailbox__RedeliverAfterSeconds)</param>
    public static async Task<MmssCluster> StartAsync(int silos, int gateways, IReadOnlyDictionary<string, string>? settings = null,
        PostgresServer? postgres = null)
    {
        var ownsPostgres = postgres is null;
        postgres ??= await PostgresServer.StartNewAsync();
        MmssCluster? cluster = null;
        try
        {
            cluster = new MmssCluster(postgres, ownsPostgres, settings);
            cluster.ConnectionString = await postgres.CreateDatabaseAsync(cluster.Database);
            for (var i = 0; i < silos; i++) cluster.AddSilo();
            for (var i = 0; i < gateways; i++) cluster.AddGateway();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(cluster._silos.Select(cluster.StartSiloAsync));
            cluster.StartupLog.AppendLine($"silos ready after {clock.Elapsed.TotalSeconds:F1}s");
            await Task.WhenAll(cluster._gateways.Select(cluster.StartGatewayAsync));
            cluster.StartupLog.AppendLine($"gateways ready after {clock.Elapsed.TotalSeconds:F1}s");
            return cluster;
        }
        catch (Exception e)
        {
            var diagnostics = cluster?.Diagnostics() ?? "";
            if (cluster is not null) await cluster.DisposeAsync();
            else if (ownsPostgres) await postgres.DisposeAsync();
            throw new InvalidOperationException($"the cluster did not start: {e.Message}\n{diagnostics}", e);
        }
    }

    public PostgresServer Postgres { get; }
    public string Database { get; }
    public string ConnectionString { get; private set; } = "";
    public string ClusterId { get; }

    /// <summary>Temporary directory: logs, the shared attachment store, the data directories.</summary>
    public string Root { get; }

    public string LogDirectory { get; }
    public string AttachmentDirectory { get; }
    public StringBuilder StartupLog { get; } = new();

    /// <summary>Keep <see cref="Root"/> (the logs) at dispose, e.g. because a test failed.</summary>
    public bool KeepLogs { get; set; } = System.Environment.GetEnvironmentVariable("MMSS_KEEP_CLUSTER_LOGS") == "1";

    public IReadOnlyList<SiloNode> Silos => _silos;
    public IReadOnlyList<GatewayNode> Gateways => _gateways;

    private Dictionary<string, string> CommonSettings() => new()
    {
        ["Mmss__Cluster__ConnectionString"] = ConnectionString,
        ["Mmss__Cluster__ClusterId"] = ClusterId,
        ["Mmss__Cluster__ServiceId"] = ClusterId,
        ["Mmss__Mailbox__GatewayExpirySeconds"] = "6",
        ["Mmss__Domains__0"] = Domain,
        ["Mmss__Domains__1"] = "localhost",
        ["Logging__LogLevel__Default"] = "Information",
        ["Logging__LogLevel__Orleans"] = "Warning",
        ["Logging__LogLevel__Microsoft.Orleans"] = "Warning",
        ["Logging__LogLevel__Orleans.Runtime.MembershipService"] = "Information",
        ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        // One line per entry (exceptions included), so that a message id greps to its whole story.
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__SingleLine"] = "true",
        ["DOTNET_gcServer"] = "0",
    };

    private SiloNode AddSilo()
    {
        var index = _silos.Count;
        var ports = FreePorts.Take(3);
        var settings = CommonSettings();
        settings["Mmss__DataDir"] = Path.Combine(Root, $"silo-{index}");
        settings["Mmss__Orleans__SiloPort"] = ports[0].ToString();
        settings["Mmss__Orleans__GatewayPort"] = ports[1].ToString();
        settings["Mmss__Orleans__AdvertisedAddress"] = "127.0.0.1";
        settings["Mmss__Health__BindAddress"] = "127.0.0.1";
        settings["Mmss__Health__Port"] = ports[2].ToString();
        // Sessions attached, MMS written again: what a failure needs explained (a few lines per MMS at most).
        settings["Logging__LogLevel__Mmss.Grains"] = "Debug";
        // Which activations a silo's death takes with it (LocalGrainDirectory logs the count at Information).
        settings["Logging__LogLevel__Orleans.Runtime.GrainDirectory"] = "Information";
        foreach (var (key, value) in _extraSettings) settings[key] = value;
        var node = new SiloNode(index, new ChildProcess($"silo-{index}", "Mmss.Silo.dll", settings, LogDirectory), ports[0], ports[1], ports[2]);
        _silos.Add(node);
        return node;
    }

    private GatewayNode AddGateway()
    {
        var index = _gateways.Count;
        var ports = FreePorts.Take(6);
        var dataDirectory = Path.Combine(Root, $"gateway-{index}");
        var settings = CommonSettings();
        settings["Mmss__DataDir"] = dataDirectory;
        settings["Mmss__C2s__BindAddress"] = "127.0.0.1";
        settings["Mmss__C2s__Port"] = ports[0].ToString();
        settings["Mmss__C2s__TlsPort"] = ports[1].ToString();
        settings["Mmss__Http__BindAddress"] = "127.0.0.1";
        settings["Mmss__Http__Port"] = ports[2].ToString();
        // Not used by a gateway that is only an Orleans client, but never the embedded defaults shared by two processes.
        settings["Mmss__Orleans__SiloPort"] = ports[3].ToString();
        settings["Mmss__Orleans__GatewayPort"] = ports[4].ToString();
        settings["Mmss__S2s__BindAddress"] = "127.0.0.1";
        settings["Mmss__S2s__Port"] = ports[5].ToString();
        settings["Mmss__Admin__Token"] = AdminToken;
        settings["Mmss__C2s__MaxAuthFailuresPerAddress"] = "100000";
        settings["Mmss__Http__MaxRefusalsPerAddress"] = "100000";
        settings["Mmss__Attachments__Directory"] = AttachmentDirectory;
        // One line per MMS submitted (stored, duplicate, answer sent again).
        settings["Logging__LogLevel__Mmss.Gateway.C2s.MessageRouter"] = "Debug";
        foreach (var (key, value) in _extraSettings) settings[key] = value;
        var node = new GatewayNode(index, new ChildProcess($"gateway-{index}", "Mmss.Gateway.dll", settings, LogDirectory),
            ports[0], ports[1], ports[2], dataDirectory, ports[5]);
        _gateways.Add(node);
        return node;
    }

    /// <summary>Starts the silo (again) and waits until /health/ready says it is active in the cluster.</summary>
    public async Task StartSiloAsync(SiloNode silo)
    {
        silo.Process.Start();
        await silo.Process.WaitUntilReadyAsync(silo.ReadyUrl, StartTimeout);
    }

    /// <summary>Starts the gateway (again) and waits until /health/ready says it reached the cluster and listens.</summary>
    public async Task StartGatewayAsync(GatewayNode gateway)
    {
        gateway.Process.Start();
        await gateway.Process.WaitUntilReadyAsync(gateway.ReadyUrl, StartTimeout);
    }

    public Task KillAsync(SiloNode silo) => silo.Process.KillAsync();

    public Task KillAsync(GatewayNode gateway) => gateway.Process.KillAsync();

    /// <summary>
    /// Starts whatever is not running (a test before killed it), waits until every process is ready (PostgreSQL
    /// included: a test may have stopped it). For the start of each test sharing the cluster.
    /// </summary>
    public async Task EnsureAllRunningAsync()
    {
        if (!Postgres.IsRunning) await Postgres.StartAsync();
        await Task.WhenAll(_silos.Select(s => s.Process.IsRunning
            ? s.Process.WaitUntilReadyAsync(s.ReadyUrl, StartTimeout)
            : StartSiloAsync(s)));
        await Task.WhenAll(_gateways.Select(g => g.Process.IsRunning
            ? g.Process.WaitUntilReadyAsync(g.ReadyUrl, StartTimeout)
            : StartGatewayAsync(g)));
    }

    public HttpClient AdminClient(GatewayNode? gateway = null)
    {
        gateway ??= _gateways.First(g => g.Process.IsRunning);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.HttpPort}/"), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return http;
    }

    /// <summary>Creates or updates users through the admin API of <paramref name="gateway"/> (the first running one by default).</summary>
    public async Task ProvisionUsersAsync(IEnumerable<string> udns, string password = "pw", GatewayNode? gateway = null)
    {
        using var http = AdminClient(gateway);
        await Parallel.ForEachAsync(udns, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (udn, _) =>
        {
            using var response = await http.PutAsJsonAsync($"admin/users/{udn}", new { password, name = "Unit " + udn });
            if (!response.IsSuccessStatusCode)
                throw new InvalidOperationException($"provisioning {udn}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        });
    }

    public async Task ProvisionGroupAsync(string gdn, IReadOnlyList<string> members, GatewayNode? gateway = null)
    {
        using var http = AdminClient(gateway);
        using var response = await http.PutAsJsonAsync($"admin/groups/{gdn}", new { name = "Group " + gdn, members });
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"provisioning group {gdn}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A terminal's power-on through <paramref name="gateway"/>: STARTTLS, SASL, bind.</summary>
    public static Task<XmppClient> LoginAsync(GatewayNode gateway, string udn, string password = "pw", string mechanism = "PLAIN", string? resource = null) =>
        XmppClient.LoginAsync("127.0.0.1", gateway.C2sPort, Domain, EmbeddedServer.Mechanism(mechanism, udn, password), resource);

    /// <summary>The last lines of every process and where the full logs are.</summary>
    public string Diagnostics(int linesPerProcess = 60)
    {
        var text = new StringBuilder();
        text.AppendLine($"cluster {ClusterId}, database {Database} on 127.0.0.1:{Postgres.Port}, logs in {LogDirectory}");
        text.Append(StartupLog);
        foreach (var process in _silos.Select(s => s.Process).Concat(_gateways.Select(g => g.Process)))
        {
            text.AppendLine($"---- {process.Name} ({(process.IsRunning ? $"running, pid {process.ProcessId}" : "not running")}, {process.Starts} start(s)), last lines:");
            text.AppendLine(process.Tail(linesPerProcess));
        }
        text.AppendLine("---- postgres, last lines:");
        text.AppendLine(string.Join('\n', Postgres.Log.Split('\n').TakeLast(20)));
        return text.ToString();
    }

    /// <summary>
    /// Waits until the membership table says the latest incarnation of <paramref name="silo"/> is Dead (Orleans'
    /// SiloStatus 6): the survivors have evicted it and activated what it held elsewhere.
    /// </summary>
    public async Task WaitUntilEvictedAsync(SiloNode silo, TimeSpan timeout)
    {
        var unpooled = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
        var clock = Stopwatch.StartNew();
        int? status = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                await using var connection = new Npgsql.NpgsqlConnection(unpooled);
                await connection.OpenAsync();
                await using var command = new Npgsql.NpgsqlCommand(
                    "SELECT status FROM orleansmembershiptable WHERE deploymentid = @id AND port = @port ORDER BY generation DESC LIMIT 1", connection);
                command.Parameters.AddWithValue("id", ClusterId);
                command.Parameters.AddWithValue("port", silo.SiloPort);
                status = await command.ExecuteScalarAsync() as int?;
                if (status == 6) return;
            }
            catch (Npgsql.NpgsqlException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{silo} was not evicted within {timeout.TotalSeconds:0}s (status {status?.ToString() ?? "unknown"})");
    }

    /// <summary>
    /// What the database says, for a failure message: the membership rows of this cluster, and the mailbox rows whose
    /// serialized entry contains one of <paramref name="needles"/> (e.g. "load " + a message id: an MMS row keeps its
    /// payload, which holds that text, until it is answered).
    /// </summary>
    public async Task<string> DatabaseDiagnosticsAsync(IEnumerable<string> needles)
    {
        var text = new StringBuilder();
        try
        {
            var unpooled = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString;
            await using var connection = new Npgsql.NpgsqlConnection(unpooled);
            await connection.OpenAsync();
            text.AppendLine("membership (address:port generation status iamalive suspecttimes):");
            await using (var command = new Npgsql.NpgsqlCommand(
                             "SELECT address, port, generation, status, iamalivetime, suspecttimes FROM orleansmembershiptable WHERE deploymentid = @id ORDER BY starttime", connection))
            {
                command.Parameters.AddWithValue("id", ClusterId);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                    text.AppendLine($"  {reader.GetString(0)}:{reader.GetInt32(1)} {reader.GetInt32(2)} status {reader.GetInt32(3)} alive {reader.GetDateTime(4):HH:mm:ss} suspects {(reader.IsDBNull(5) ? "-" : reader.GetString(5))}");
            }
            foreach (var needle in needles.Take(12))
            {
                await using var command = new Npgsql.NpgsqlCommand(
                    "SELECT owner, seq, length(entry) FROM mailbox WHERE position(convert_to(@needle, 'UTF8') in entry) > 0 ORDER BY seq", connection);
                command.Parameters.AddWithValue("needle", needle);
                await using var reader = await command.ExecuteReaderAsync();
                var rows = new List<string>();
                while (await reader.ReadAsync()) rows.Add($"{reader.GetString(0)} seq {reader.GetInt64(1)} ({reader.GetInt32(2)} bytes)");
                text.AppendLine($"mailbox rows containing '{needle}': {(rows.Count == 0 ? "none" : string.Join("; ", rows))}");
            }
        }
        catch (Exception e)
        {
            text.AppendLine($"(the database could not be read: {e.Message})");
        }
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        var errors = new List<Exception>();
        foreach (var process in _gateways.Select(g => g.Process).Concat(_silos.Select(s => s.Process)))
        {
            try
            {
                await process.DisposeAsync();
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }
        if (_ownsPostgres)
        {
            try
            {
                await Postgres.DisposeAsync();
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }
        try
        {
            if (KeepLogs)
            {
                foreach (var data in _gateways.Select(g => g.DataDirectory).Concat(_silos.Select(s => s.Process.Environment["Mmss__DataDir"])))
                {
                    if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
                }
            }
            else if (Directory.Exists(Root))
            {
                Directory.Delete(Root, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        if (errors.Count > 0) throw new AggregateException("stopping the cluster", errors);
    }
}
