using System.Globalization;
using System.Net;

namespace Mmss.Bench;

/// <summary>Command-line settings: `--name value` pairs, every one with a default.</summary>
public sealed class BenchOptions
{
    /// <summary>
    /// Part of every message id this process sends: ids stay unique across runs against one server, where a repeated
    /// id is a retry to the MMSS, answered without a second delivery.
    /// </summary>
    public static readonly string RunNonce = Guid.NewGuid().ToString("N")[..8];

    public string Scenario { get; private set; } = "roundtrip";
    public string Host { get; private set; } = "127.0.0.1";
    public int Port { get; private set; } = 5222;
    public string Domain { get; private set; } = "localhost";
    public string UserPrefix { get; private set; } = "b";
    public string Password { get; private set; } = "pw";
    public string Mechanism { get; private set; } = "PLAIN";
    public bool Tls { get; private set; }
    public int Connections { get; private set; } = 20;
    public int Window { get; private set; } = 1;
    public double Seconds { get; private set; } = 10;
    public double WarmupSeconds { get; private set; } = 2;
    public int LoginConcurrency { get; private set; } = 8;
    /// <summary>"mmss": MMS with Jive properties answered by ACK to ACK@domain; "xmpp": a chat message answered by a chat message.</summary>
    public string Mode { get; private set; } = "mmss";
    public bool Register { get; private set; }
    /// <summary>The server's processes (comma-separated pids); CPU and memory count each with its live descendants.</summary>
    public IReadOnlyList<int> ServerPids { get; private set; } = [];
    public string Label { get; private set; } = "server";
    public string? Json { get; private set; }
    public IReadOnlyList<IPAddress> SourceAddresses { get; private set; } = [IPAddress.Loopback];
    public IReadOnlyList<string> Inputs { get; private set; } = [];
    public string? Out { get; private set; }
    public string? Svg { get; private set; }
    /// <summary>The group scenario's GDN, provisioned with members user0..userN (user0 sends).</summary>
    public string Group { get; private set; } = "bgroup";
    public int Rounds { get; private set; } = 10;
    /// <summary>The MMSS's HTTP port, for the attachment scenario.</summary>
    public int HttpPort { get; private set; } = 8080;
    public int FileMegabytes { get; private set; } = 10;
    public int Files { get; private set; } = 4;
    /// <summary>Users are the prefix and their index zero-padded to this many digits (0: not padded): numeric UDNs in a range.</summary>
    public int UserDigits { get; private set; }
    /// <summary>
    /// The relayed round trip: receivers log in at this second MMSS (another domain, in the first one's peer table), as
    /// <see cref="PeerUserPrefix"/> users; senders address them in their own domain, as terminals do.
    /// </summary>
    public string? PeerHost { get; private set; }
    public int PeerPort { get; private set; } = 5222;
    public string PeerDomain { get; private set; } = "";
    public string PeerUserPrefix { get; private set; } = "c";

    /// <summary>The abuse scenario: the attacks to run (comma-separated names, see AbuseScenario), all by default.</summary>
    public IReadOnlyList<string>? Attacks { get; private set; }
    /// <summary>The abuse scenario's connection flood: connections opened at once (set the server's MaxConnections below it).</summary>
    public int FloodConnections { get; private set; } = 200;
    /// <summary>The abuse scenario's wrong-password logins, per attack (one address, then many).</summary>
    public int BadLogins { get; private set; } = 10_000;
    /// <summary>The server's Mmss:C2s:MaxStanzaBytes, so that the oversize stanza is just past it.</summary>
    public int MaxStanzaBytes { get; private set; } = 256 * 1024;
    public string AdminToken { get; private set; } = "bench";
    /// <summary>
    /// The abuse scenario's terminals: MMS each sender starts per second at most (one at a time), as a terminal would, so
    /// that they stay well under the server's per-connection stanza rate limit.
    /// </summary>
    public double TerminalRate { get; private set; } = 10;
    /// <summary>How long slowloris connections trickle at most, waiting for the server's login timeout to end them.</summary>
    public double SlowlorisSeconds { get; private set; } = 90;

    public bool Relayed => PeerHost is not null;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--scenario": o.Scenario = value; break;
                case "--host": o.Host = value; break;
                case "--port": o.Port = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--domain": o.Domain = value; break;
                case "--users": o.UserPrefix = value; break;
                case "--password": o.Password = value; break;
                case "--mechanism": o.Mechanism = value; break;
                case "--tls": o.Tls = bool.Parse(value); break;
                case "-n": case "--connections": o.Connections = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "-w": case "--window": o.Window = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": o.Seconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": o.WarmupSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--login-concurrency": o.LoginConcurrency = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--mode": o.Mode = value; break;
                case "--register": o.Register = bool.Parse(value); break;
                case "--server-pid":
                    o.ServerPids = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(pid => int.Parse(pid, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "--label": o.Label = value; break;
                case "--json": o.Json = value; break;
                case "--inputs": o.Inputs = value.Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--out": o.Out = value; break;
                case "--svg": o.Svg = value; break;
                case "--group": o.Group = value; break;
                case "--rounds": o.Rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--http-port": o.HttpPort = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--file-mb": o.FileMegabytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--files": o.Files = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--user-digits": o.UserDigits = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--peer-host": o.PeerHost = value; break;
                case "--peer-port": o.PeerPort = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--peer-domain": o.PeerDomain = value; break;
                case "--peer-users": o.PeerUserPrefix = value; break;
                case "--attacks": o.Attacks = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--flood-connections": o.FloodConnections = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--bad-logins": o.BadLogins = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--max-stanza-bytes": o.MaxStanzaBytes = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--admin-token": o.AdminToken = value; break;
                case "--terminal-rate": o.TerminalRate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--slowloris-seconds": o.SlowlorisSeconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--source-addresses":
                    o.SourceAddresses = value.Split(',').Select(IPAddress.Parse).ToArray();
                    break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        return o;
    }

    public string User(int index) => UserPrefix + Number(index);

    /// <summary>A receiver of the relayed round trip, a user of the peer MMSS.</summary>
    public string PeerUser(int index) => PeerUserPrefix + Number(index);

    private string Number(int index) => index.ToString(UserDigits > 0 ? "D" + UserDigits : "D", CultureInfo.InvariantCulture);
}
