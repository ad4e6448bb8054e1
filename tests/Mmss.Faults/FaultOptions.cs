using System.Globalization;

namespace Mmss.Faults;

/// <summary>Command line of the harness; the defaults are the short run (tests/run.sh runs it for the embedded loops).</summary>
public sealed class FaultOptions
{
    /// <summary>kill, half-open, disk-full, cluster, s3-down, mqtt-down, or all (one after the other).</summary>
    public List<string> Faults { get; private set; } = ["kill", "half-open", "disk-full", "cluster", "s3-down", "mqtt-down"];

    /// <summary>MMS per fault loop.</summary>
    public int Messages { get; private set; } = 300;

    /// <summary>MMS per second, all terminals together.</summary>
    public double Rate { get; private set; } = 20;

    public int Kills { get; private set; } = 3;
    public int Cuts { get; private set; } = 3;

    /// <summary>Gateway kills, silo kills and PostgreSQL restarts of the cluster loop, in turn.</summary>
    public int ClusterFaults { get; private set; } = 3;
    public int IdleSecondsBeforePing { get; private set; } = 2;
    public int PingTimeoutSeconds { get; private set; } = 3;

    /// <summary>The tmpfs of the disk-full loop, in MiB: the server's data directory and the ballast that fills it.</summary>
    public int DiskMegabytes { get; private set; } = 64;

    /// <summary>How long the s3-down and mqtt-down loops keep their dependency down (s3-down: longer until uploads are refused).</summary>
    public int OutageSeconds { get; private set; } = 10;

    /// <summary>
    /// How long the cluster loop keeps PostgreSQL down at its restarts; 0 starts it again at once (which takes 3 s on a
    /// quiet machine and took 11 s on a busy CI one). Longer than the gateways' StoreRetrySeconds, MMS are refused.
    /// </summary>
    public int DatabaseDownSeconds { get; private set; }

    public int SettleSeconds { get; private set; } = 180;
    public int FinalCheckSeconds { get; private set; } = 3;
    public int Seed { get; private set; } = Environment.TickCount;

    public static FaultOptions Parse(string[] args)
    {
        var options = new FaultOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--fault": options.Faults = value == "all" ? options.Faults : [.. value.Split(',')]; break;
                case "--messages": options.Messages = Number(value); break;
                case "--rate": options.Rate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--kills": options.Kills = Number(value); break;
                case "--cuts": options.Cuts = Number(value); break;
                case "--cluster-faults": options.ClusterFaults = Number(value); break;
                case "--idle-before-ping": options.IdleSecondsBeforePing = Number(value); break;
                case "--ping-timeout": options.PingTimeoutSeconds = Number(value); break;
                case "--disk-mb": options.DiskMegabytes = Number(value); break;
                case "--outage": options.OutageSeconds = Number(value); break;
                case "--db-down": options.DatabaseDownSeconds = Number(value); break;
                case "--settle": options.SettleSeconds = Number(value); break;
                case "--seed": options.Seed = Number(value); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
            i++;
        }
        foreach (var fault in options.Faults)
        {
            if (fault is not ("kill" or "half-open" or "disk-full" or "cluster" or "s3-down" or "mqtt-down")) throw new ArgumentException($"unknown fault {fault}");
        }
        return options;
    }

    private static int Number(string value) => int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
}
