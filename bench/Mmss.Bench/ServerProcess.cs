using System.Globalization;

namespace Mmss.Bench;

/// <summary>CPU time and resident memory of the server under test, read from /proc.</summary>
public sealed class ServerProcess(int? pid)
{
    private const double TicksPerSecond = 100.0;

    /// <summary>User plus system CPU seconds used so far (children included, as Prosody/ejabberd may fork).</summary>
    public double CpuSeconds()
    {
        if (pid is null) return 0;
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14].
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    public long RssBytes()
    {
        if (pid is null) return 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
