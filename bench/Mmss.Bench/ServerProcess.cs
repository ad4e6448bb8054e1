using System.Globalization;

namespace Mmss.Bench;

/// <summary>
/// CPU time and memory of the server under test, read from /proc: every given process and its live descendants (a
/// cluster is several processes — gateway, silo, the PostgreSQL postmaster and its backends, which are its children).
/// </summary>
public sealed class ServerProcess(IReadOnlyList<int> pids)
{
    private const double TicksPerSecond = 100.0;

    public bool IsMeasured => pids.Count > 0;

    /// <summary>
    /// User plus system CPU seconds used so far per given process and its descendants, keyed by a readable name. Each
    /// process counts its own utime+stime plus cutime+cstime (what its children already reaped used): a backend that
    /// exits between two samples moves from the first sum to its parent's second one, so nothing is lost or counted twice.
    /// </summary>
    public IReadOnlyDictionary<string, double> CpuSecondsByProcess()
    {
        var result = new Dictionary<string, double>();
        if (pids.Count == 0) return result;
        var children = ChildrenByParent();
        var seen = new HashSet<int>();
        foreach (var pid in pids)
        {
            // A given process that is gone is an error (the server died); a descendant that just exited is not.
            var ticks = CpuTicks(pid) ?? throw new InvalidOperationException($"process {pid} is gone");
            seen.Add(pid);
            foreach (var descendant in Descendants(pid, children))
            {
                if (seen.Add(descendant)) ticks += CpuTicks(descendant) ?? 0;
            }
            var name = Name(pid);
            result[result.ContainsKey(name) ? $"{name}({pid})" : name] = ticks / TicksPerSecond;
        }
        return result;
    }

    /// <summary>
    /// Proportional set size (PSS, from smaps_rollup) of the given processes and their live descendants: shared pages
    /// are divided among the processes mapping them, so PostgreSQL's shared buffers touched by many backends count
    /// once. Falls back to VmRSS where smaps_rollup cannot be read.
    /// </summary>
    public long MemoryBytes()
    {
        if (pids.Count == 0) return 0;
        var children = ChildrenByParent();
        var all = new HashSet<int>();
        foreach (var pid in pids)
        {
            all.Add(pid);
            all.UnionWith(Descendants(pid, children));
        }
        return all.Sum(pid => Memory(pid) ?? (pids.Contains(pid) ? throw new InvalidOperationException($"process {pid} is gone") : 0));
    }

    private static long? CpuTicks(int pid)
    {
        var fields = StatFields(pid);
        if (fields is null) return null;
        // Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14].
        return Enumerable.Range(11, 4).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
    }

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static Dictionary<int, List<int>> ChildrenByParent()
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            // Fields after the command: ppid is [1].
            if (StatFields(pid) is not { } fields || !int.TryParse(fields[1], CultureInfo.InvariantCulture, out var parent)) continue;
            if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
            list.Add(pid);
        }
        return children;
    }

    private static IEnumerable<int> Descendants(int pid, Dictionary<int, List<int>> children)
    {
        var pending = new Stack<int>([pid]);
        while (pending.TryPop(out var parent))
        {
            if (!children.TryGetValue(parent, out var list)) continue;
            foreach (var child in list)
            {
                yield return child;
                pending.Push(child);
            }
        }
    }

    private static long? Memory(int pid)
    {
        foreach (var (file, key) in new[] { ($"/proc/{pid}/smaps_rollup", "Pss:"), ($"/proc/{pid}/status", "VmRSS:") })
        {
            try
            {
                foreach (var line in File.ReadLines(file))
                {
                    if (line.StartsWith(key, StringComparison.Ordinal))
                        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    /// <summary>The program's name; for a .NET process (comm "dotnet") the assembly it runs, e.g. Mmss.Silo.</summary>
    private static string Name(int pid)
    {
        try
        {
            var comm = File.ReadAllText($"/proc/{pid}/comm").Trim();
            if (comm != "dotnet") return comm;
            var dll = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').FirstOrDefault(a => a.EndsWith(".dll", StringComparison.Ordinal));
            return dll is null ? comm : Path.GetFileNameWithoutExtension(dll);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return pid.ToString(CultureInfo.InvariantCulture);
        }
    }
}
