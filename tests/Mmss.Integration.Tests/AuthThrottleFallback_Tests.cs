using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Mmss.Gateway.C2s;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Diagnostics;
using Mmss.GrainInterfaces;

namespace Mmss.Integration.Tests;

/// <summary>
/// The login throttle when its grains cannot be reached (RELIABILITY.md "Floods and abuse": "Forwarding failed" under
/// login floods): the gateway's own count of failures decides, with the same limits and window — failures past the limit
/// are still refused (the SASL and iq-auth paths answer temporary-auth-failure when the throttle says blocked), a login
/// under it still goes through, and the warning comes once per key and window. The real <see cref="AuthThrottle"/>, in
/// this process, over a grain factory whose throttle grains the test makes unreachable.
/// </summary>
public sealed class AuthThrottleFallback_Tests
{
    private const int PerUser = 3, PerAddress = 5, WindowSeconds = 300;

    private readonly ThrottleGrains _grains = ThrottleGrains.Create();
    private readonly ShiftableTime _time = new();
    private readonly RecordingLogger _log = new();
    private readonly AuthThrottle _throttle;

    public AuthThrottleFallback_Tests()
    {
        var options = Options.Create(new C2sOptions
        {
            MaxAuthFailuresPerUser = PerUser, MaxAuthFailuresPerAddress = PerAddress, AuthFailureWindowSeconds = WindowSeconds,
        });
        _throttle = new AuthThrottle(options, (IGrainFactory)_grains, new GatewayEvents((IGrainFactory)_grains, NullLogger<GatewayEvents>.Instance),
            _time, _log);
    }

    private Task FailAsync(string address, string udn) => _throttle.RecordFailureAsync(address, udn, "PLAIN", "not-authorized");

    [Fact]
    public async Task With_the_grain_unreachable_failures_past_the_limit_are_refused_and_other_logins_go_through()
    {
        _grains.Reachable = false;
        for (var i = 0; i < PerUser; i++)
        {
            Assert.False(await _throttle.IsAddressBlockedAsync("10.0.0.1"));
            Assert.False(await _throttle.IsUserBlockedAsync("5001", "10.0.0.1"));
            await FailAsync("10.0.0.1", "5001");
        }

        // The user's limit is reached: refused from any address, the right password included.
        Assert.True(await _throttle.IsUserBlockedAsync("5001", "10.0.0.2"));
        // Another user from the same address (under its limit) logs in as usual.
        Assert.False(await _throttle.IsAddressBlockedAsync("10.0.0.1"));
        Assert.False(await _throttle.IsUserBlockedAsync("5002", "10.0.0.1"));

        // The address's limit: two more failures, for other users.
        await FailAsync("10.0.0.1", "5003");
        await FailAsync("10.0.0.1", "5004");
        Assert.True(await _throttle.IsAddressBlockedAsync("10.0.0.1"));
        Assert.False(await _throttle.IsAddressBlockedAsync("10.0.0.3"));

        // Dozens of failed grain calls, one warning per key: user/5001 was read 4 times and written 3 times.
        Assert.Equal(1, _log.Warnings(AuthFailureKeys.User("5001")));
        Assert.Equal(1, _log.Warnings(AuthFailureKeys.Address("10.0.0.1")));
        Assert.Equal(0, _grains.Recorded);
    }

    [Fact]
    public async Task Failures_counted_while_the_grain_answered_still_count_when_it_stops_answering()
    {
        for (var i = 0; i < PerUser; i++) await FailAsync("10.0.1.1", "5011");
        Assert.True(await _throttle.IsUserBlockedAsync("5011", "10.0.1.1"));
        Assert.Equal(2 * PerUser, _grains.Recorded);

        _grains.Reachable = false;
        Assert.True(await _throttle.IsUserBlockedAsync("5011", "10.0.1.2"), "a blip of the grain let a throttled user's guesses through");
        Assert.False(await _throttle.IsUserBlockedAsync("5012", "10.0.1.1"));
    }

    [Fact]
    public async Task The_local_count_forgets_a_window_that_has_passed_and_warns_again_in_the_next()
    {
        _grains.Reachable = false;
        for (var i = 0; i < PerUser; i++) await FailAsync("10.0.2.1", "5021");
        Assert.True(await _throttle.IsUserBlockedAsync("5021", "10.0.2.1"));

        _time.Offset = TimeSpan.FromSeconds(WindowSeconds + 1);
        Assert.False(await _throttle.IsUserBlockedAsync("5021", "10.0.2.1"));
        Assert.Equal(2, _log.Warnings(AuthFailureKeys.User("5021")));
    }

    /// <summary>The system clock plus an offset the test sets to be past the window without waiting for it.</summary>
    private sealed class ShiftableTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
    }

    /// <summary>
    /// <see cref="IGrainFactory"/> with throttle grains kept in memory that the test can make unreachable (their calls
    /// fail as Orleans' do when it cannot forward them); every other grain is unavailable (events are best effort).
    /// </summary>
    public class ThrottleGrains : DispatchProxy
    {
        private readonly Dictionary<string, int> _counts = [];

        public bool Reachable { get; set; } = true;

        public int Recorded { get; private set; }

        public static ThrottleGrains Create() => (ThrottleGrains)(object)Create<IGrainFactory, ThrottleGrains>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true } && targetMethod.GetGenericArguments()[0] == typeof(IAuthFailuresGrain))
                return new Grain(this);
            throw new NotSupportedException($"{targetMethod?.Name} is not available in this test");
        }

        private sealed class Grain(ThrottleGrains owner) : IAuthFailuresGrain
        {
            public Task<int> CountAsync(string key, int windowSeconds)
            {
                lock (owner._counts) return owner.Reachable ? Task.FromResult(owner._counts.GetValueOrDefault(key)) : Unreachable<int>(key);
            }

            public Task RecordAsync(string key, int windowSeconds)
            {
                lock (owner._counts)
                {
                    if (!owner.Reachable) return Unreachable<int>(key);
                    owner._counts[key] = owner._counts.GetValueOrDefault(key) + 1;
                    owner.Recorded++;
                    return Task.CompletedTask;
                }
            }

            private static Task<T> Unreachable<T>(string key) => Task.FromException<T>(new TimeoutException($"Forwarding failed: no activation of {key} could be reached"));
        }
    }

    private sealed class RecordingLogger : ILogger<AuthThrottle>
    {
        private readonly List<string> _warnings = [];

        public int Warnings(string key)
        {
            lock (_warnings) return _warnings.Count(w => w.Contains(key + " "));
        }

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel != LogLevel.Warning) return;
            lock (_warnings) _warnings.Add(formatter(state, exception));
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    }
}
