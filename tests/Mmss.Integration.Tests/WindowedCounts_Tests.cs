using Mmss.Gateway.Hosting;

namespace Mmss.Integration.Tests;

/// <summary>
/// The per-process counts behind the HTTP refusal limit and the login throttle's fallback: fixed windows per key, and
/// a table that a flood of ever new keys cannot grow past its capacity.
/// </summary>
public sealed class WindowedCounts_Tests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    private readonly ShiftableTime _time = new();

    [Fact]
    public void A_key_counts_within_its_window_and_starts_again_after_it()
    {
        var counts = new WindowedCounts(Window, 100, _time);
        Assert.Equal((0, TimeSpan.Zero), counts.Peek("a"));
        Assert.Equal(1, counts.Add("a"));
        _time.Offset = TimeSpan.FromSeconds(20);
        Assert.Equal(2, counts.Add("a"));
        Assert.Equal((2, TimeSpan.FromSeconds(40)), counts.Peek("a"));

        _time.Offset = Window;
        Assert.Equal((0, TimeSpan.Zero), counts.Peek("a"));
        Assert.Equal(1, counts.Add("a"));
    }

    [Fact]
    public void A_key_is_reported_once_per_window()
    {
        var counts = new WindowedCounts(Window, 100, _time);
        counts.Add("a");
        Assert.True(counts.FirstReport("a"));
        Assert.False(counts.FirstReport("a"));
        Assert.True(counts.FirstReport("b"));
        _time.Offset = Window;
        Assert.True(counts.FirstReport("a"));
    }

    [Fact]
    public void A_flood_of_new_keys_never_holds_more_than_the_capacity_and_keeps_the_newest()
    {
        const int capacity = 100;
        var counts = new WindowedCounts(Window, capacity, _time);
        for (var i = 0; i < 100_000; i++)
        {
            counts.Add($"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}");
            if (i % 1000 == 0) _time.Offset += TimeSpan.FromMilliseconds(1);
            Assert.True(counts.Keys <= capacity);
        }
        Assert.Equal(1, counts.Peek("10.1.134.159").Count);
    }

    [Fact]
    public void A_full_table_drops_passed_windows_before_open_ones()
    {
        var counts = new WindowedCounts(Window, 4, _time);
        counts.Add("old-1");
        counts.Add("old-2");
        _time.Offset = TimeSpan.FromSeconds(30);
        counts.Add("open-1");
        counts.Add("open-2");
        _time.Offset = TimeSpan.FromSeconds(61);
        counts.Add("new");
        Assert.Equal(3, counts.Keys);
        Assert.Equal(1, counts.Peek("open-1").Count);
        Assert.Equal(1, counts.Peek("open-2").Count);
    }

    private sealed class ShiftableTime : TimeProvider
    {
        private readonly DateTimeOffset _start = System.GetUtcNow();

        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => _start + Offset;
    }
}
