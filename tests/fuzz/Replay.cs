using System.Diagnostics;

namespace Mmss.Fuzz;

/// <summary>Runs saved inputs outside afl-fuzz: to confirm a crash or a hang and to see its stack trace.</summary>
public static class Replay
{
    public static int Run(FuzzTarget target, IEnumerable<string> paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p)
                ? Directory.EnumerateFiles(p).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal))
                : [p])
            .Order(StringComparer.Ordinal).ToList();
        var crashes = 0;
        var clock = new Stopwatch();
        foreach (var file in files)
        {
            clock.Restart();
            try
            {
                var outcome = target.Run(File.ReadAllBytes(file));
                Console.WriteLine($"ok    {clock.ElapsedMilliseconds,6} ms  {file}: {(outcome.Length > 160 ? outcome[..160] + "..." : outcome)}");
            }
            catch (Exception e)
            {
                crashes++;
                Console.WriteLine($"CRASH {clock.ElapsedMilliseconds,6} ms  {file}");
                Console.WriteLine(e);
            }
        }
        Console.WriteLine($"{target.Name}: {files.Count} inputs, {crashes} crashes");
        return crashes == 0 ? 0 : 1;
    }
}
