using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Mmss.Gateway.Hosting;

/// <summary>
/// glibc's malloc, kept from holding on to the native memory of TLS connections. OpenSSL allocates a handshake's working
/// state (certificates, key shares, transcript, flights) with malloc and frees it when the handshake ends, but glibc
/// keeps freed pages mapped among the live connections' small allocations, spread over up to eight arenas per core.
/// After 5,000 STARTTLS logins that was about 4 KB per idle connection still resident: fewer arenas
/// (<see cref="LimitArenas"/>) and a trim after handshakes (<see cref="TrimSoon"/>) give most of it back. Not glibc
/// (musl, another OS): nothing happens.
/// </summary>
internal static class NativeHeap
{
    private const int MallocArenaMax = -8;        // M_ARENA_MAX
    private static readonly TimeSpan TrimDelay = TimeSpan.FromSeconds(5);

    private static int _trimScheduled;
    private static int _unavailable = OperatingSystem.IsLinux() ? 0 : 1;

    /// <summary>
    /// One arena per core (at least two) instead of eight: the threads that malloc here are few (OpenSSL's, on the
    /// thread pool), so more arenas bought no speed, only more partly used pages. Call at start, before the listeners.
    /// An operator's MALLOC_ARENA_MAX wins.
    /// </summary>
    public static void LimitArenas()
    {
        if (Volatile.Read(ref _unavailable) != 0 || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try
        {
            MallOpt(MallocArenaMax, Math.Max(2, Environment.ProcessorCount));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _unavailable, 1);
        }
    }

    /// <summary>
    /// Asks for a trim a few seconds from now; call after a handshake has freed its working state. At most one is
    /// pending, so a server at rest never trims and one in a login storm trims every few seconds.
    /// </summary>
    public static void TrimSoon(ILogger log)
    {
        if (Volatile.Read(ref _unavailable) != 0 || Interlocked.Exchange(ref _trimScheduled, 1) != 0) return;
        _ = TrimLaterAsync(log);
    }

    private static async Task TrimLaterAsync(ILogger log)
    {
        await Task.Delay(TrimDelay).ConfigureAwait(false);
        // Handshakes from now on ask for the next trim.
        Volatile.Write(ref _trimScheduled, 0);
        try
        {
            var startedAt = Stopwatch.GetTimestamp();
            var released = MallocTrim(0);
            log.LogDebug("Native heap trimmed in {Elapsed} ms (memory released: {Released})",
                Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds, released != 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _unavailable, 1);
            log.LogInformation("The native heap is not trimmed after TLS handshakes: {Reason}", e.Message);
        }
    }

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);
}
