using Microsoft.Extensions.Options;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Configuration;

namespace Mmss.Integration.Tests;

public class AuthThrottle_Tests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Now { get; set; } = 1_000_000;
        public override long GetTimestamp() => Now;
        public override long TimestampFrequency => 1000;
    }

    private static (AuthThrottle Throttle, ManualClock Clock) Create()
    {
        var clock = new ManualClock();
        var options = Options.Create(new C2sOptions { MaxAuthFailuresPerUser = 3, MaxAuthFailuresPerAddress = 5, AuthFailureWindowSeconds = 60 });
        return (new AuthThrottle(options, clock), clock);
    }

    [Fact]
    public void User_is_blocked_after_the_limit_and_released_when_the_window_passes()
    {
        var (throttle, clock) = Create();
        for (var i = 0; i < 3; i++)
        {
            Assert.False(throttle.IsUserBlocked("1101"));
            throttle.RecordFailure("10.0.0." + i, "1101");
        }
        Assert.True(throttle.IsUserBlocked("1101"));
        Assert.False(throttle.IsUserBlocked("1102"));
        clock.Now += 61_000;
        Assert.False(throttle.IsUserBlocked("1101"));
    }

    [Fact]
    public void Address_is_blocked_after_the_limit_whatever_users_it_tries()
    {
        var (throttle, _) = Create();
        for (var i = 0; i < 5; i++) throttle.RecordFailure("10.0.0.9", "user" + i);
        Assert.True(throttle.IsAddressBlocked("10.0.0.9"));
        Assert.False(throttle.IsAddressBlocked("10.0.0.8"));
        Assert.False(throttle.IsUserBlocked("user1"));
    }
}
