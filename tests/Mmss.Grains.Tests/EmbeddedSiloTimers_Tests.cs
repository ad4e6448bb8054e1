using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mmss.Silo;
using Orleans.Configuration;

namespace Mmss.Grains.Tests;

/// <summary>The embedded (single) silo's background timers, slowed where one silo has nothing to compare or publish.</summary>
public sealed class EmbeddedSiloTimers_Tests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "mmss-timers-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void The_embedded_silo_gives_membership_a_coarse_clock_and_publishes_its_load_rarely()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo.UseMmssEmbedded(builder.Configuration, _directory));
        using var services = builder.Services.BuildServiceProvider();

        var membershipClock = services.GetRequiredKeyedService<TimeProvider>(TimeProviderNames.Membership);
        // Coarser than Orleans' 100 ms, and fine enough that its stall detector does not read the coarseness as a stall.
        Assert.Equal(TimeSpan.FromMilliseconds(500), Assert.IsType<CoarseTimerTimeProvider>(membershipClock).MinimumPeriod);
        Assert.IsNotType<CoarseTimerTimeProvider>(services.GetRequiredKeyedService<TimeProvider>(TimeProviderNames.Grains));
        Assert.True(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DeploymentLoadPublisherOptions>>().Value
            .DeploymentLoadPublisherRefreshTime >= TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_periodic_timer_under_the_minimum_fires_at_the_minimum()
    {
        var clock = new CoarseTimerTimeProvider(TimeSpan.FromMilliseconds(500));
        var ticks = System.Threading.Channels.Channel.CreateUnbounded<long>();
        using (clock.CreateTimer(_ => ticks.Writer.TryWrite(System.Diagnostics.Stopwatch.GetTimestamp()), null, TimeSpan.Zero,
                   TimeSpan.FromMilliseconds(10)))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var first = await ticks.Reader.ReadAsync(timeout.Token);
            var second = await ticks.Reader.ReadAsync(timeout.Token);
            // A timer fires late on a busy machine, never (but for the clock's granularity) early.
            Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(first, second) >= TimeSpan.FromMilliseconds(450),
                $"ticks {System.Diagnostics.Stopwatch.GetElapsedTime(first, second).TotalMilliseconds} ms apart");
        }
    }
}
