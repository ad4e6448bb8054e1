using System.Diagnostics;
using System.Runtime.CompilerServices;
using Orleans.Statistics;

namespace Mmss.Silo.Diagnostics;

/// <summary>
/// Orleans' CPU and memory figures (what resource-optimized placement, Orleans' default, weighs silos by), measured
/// when Orleans asks for them, about once a second. Orleans' own provider turns on every System.Runtime event counter at
/// a one-second interval, through an EventListener, to read one of them: with 19,000 idle terminals that timer (and the
/// /proc reads behind the working-set counter) was a tenth of the server's CPU at rest. Here the process's CPU time is
/// read from the OS at each call instead, and nothing runs between calls.
/// </summary>
public sealed class OnDemandEnvironmentStatistics : IEnvironmentStatisticsProvider
{
    private readonly Lock _lock = new();
    // The real clock, never a test's shifted TimeProvider: it divides the process's real CPU time.
    private long _lastTimestamp = Stopwatch.GetTimestamp();
    private TimeSpan _lastCpuTime = Environment.CpuUsage.TotalTime;
    private float _cpuUsagePercentage;
    private float _filteredCpuUsagePercentage;
    private long _filteredMemoryUsageBytes = -1;

    public EnvironmentStatistics GetEnvironmentStatistics()
    {
        var memory = GC.GetGCMemoryInfo();
        var maximum = memory.TotalAvailableMemoryBytes;
        // What the heap holds now plus its fragmentation (Orleans' definition); the last GC's committed figure alone is
        // zero until the first collection, which made a silo that had not collected yet look empty to placement.
        var used = Math.Clamp(GC.GetTotalMemory(forceFullCollection: false) + memory.FragmentedBytes, 0, maximum);
        lock (_lock)
        {
            var cpu = MeasureCpuUsagePercentage();
            _filteredCpuUsagePercentage = Smoothed(_filteredCpuUsagePercentage, cpu);
            _filteredMemoryUsageBytes = _filteredMemoryUsageBytes < 0 ? used : (long)Smoothed(_filteredMemoryUsageBytes, used);
            return Create(_filteredCpuUsagePercentage, cpu, _filteredMemoryUsageBytes, used, maximum - _filteredMemoryUsageBytes,
                maximum - used, maximum);
        }
    }

    /// <summary>
    /// Placement's view of a silo: a rise counts at once (a silo getting busy should get fewer new grains now), a fall
    /// only gradually (one quiet second does not make a busy silo look idle), as Orleans' own filter intends.
    /// </summary>
    public static float Smoothed(float previous, float measured) => measured >= previous ? measured : previous + Decay * (measured - previous);

    private const float Decay = 0.2f;

    /// <summary>
    /// Of all cores (100 = every core busy), as the runtime's cpu-usage counter; over the time since the previous call, or
    /// the previous figure when the calls come closer than <see cref="MinimumInterval"/>, too short to mean anything.
    /// </summary>
    private float MeasureCpuUsagePercentage()
    {
        var now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(_lastTimestamp, now);
        if (elapsed < MinimumInterval) return _cpuUsagePercentage;
        var cpuTime = Environment.CpuUsage.TotalTime;
        var busy = (cpuTime - _lastCpuTime) / (elapsed * Environment.ProcessorCount);
        _cpuUsagePercentage = (float)Math.Clamp(100 * busy, 0, 100);
        _lastTimestamp = now;
        _lastCpuTime = cpuTime;
        return _cpuUsagePercentage;
    }

    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(500);

    // The struct's constructor is internal to Orleans (only its own provider makes one); its signature is that of
    // Microsoft.Orleans.Core.Abstractions 10.4.2, pinned in Directory.Packages.props. A change would fail the first call
    // with MissingMethodException, which EnvironmentStatistics_Tests makes.
    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    private static extern EnvironmentStatistics Create(float cpuUsagePercentage, float rawCpuUsagePercentage, long memoryUsageBytes,
        long rawMemoryUsageBytes, long availableMemoryBytes, long rawAvailableMemoryBytes, long maximumAvailableMemoryBytes);
}
