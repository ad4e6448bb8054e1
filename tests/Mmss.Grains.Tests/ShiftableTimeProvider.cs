namespace Mmss.Grains.Tests;

/// <summary>The system clock, plus an offset a test may set to be days ahead (TTL expiry) without waiting.</summary>
public sealed class ShiftableTimeProvider : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
