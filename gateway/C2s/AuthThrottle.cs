using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Diagnostics;
using Mmss.Gateway.Hosting;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Counts failed authentications per UDN and per source address in a sliding window, cluster-wide (in partition grains,
/// <see cref="IAuthFailuresGrain"/>): past the limit further attempts are refused with temporary-auth-failure until the window has
/// passed, whichever gateway they reach. In-band registrations are counted the same way, per address. Failures and
/// refusals are counted (metrics) and raised as events.
/// <para>
/// Every failure is also counted in this process (<see cref="WindowedCounts"/>, the same limits and window), and that
/// count decides when a throttle grain cannot be read (Orleans could not forward the call, a timeout): the attempt is
/// neither let through unthrottled, which would let password guessing go on for as long as the grain is unreachable,
/// nor refused, which would lock everyone out on a blip. This gateway's count holds only the failures it saw, within a
/// window no longer than the grain's: a blip refuses no one the grain would have let in (had every failure reached it).
/// </para>
/// </summary>
public sealed class AuthThrottle(IOptions<C2sOptions> options, IGrainFactory grains, GatewayEvents events, TimeProvider time, ILogger<AuthThrottle> logger)
{
    /// <summary>UDNs and addresses counted in this process at most; a login flood from more addresses drops the oldest.</summary>
    private const int LocalKeys = 10_000;

    private readonly WindowedCounts _local = new(TimeSpan.FromSeconds(options.Value.AuthFailureWindowSeconds), LocalKeys, time);

    // Made once each: GetGrain resolves the interface type by reflection on every call (1% of a login storm's CPU).
    private readonly IAuthFailuresGrain?[] _partitions = new IAuthFailuresGrain?[AuthFailureKeys.Partitions];

    private IAuthFailuresGrain PartitionOf(string key)
    {
        var index = AuthFailureKeys.PartitionIndexOf(key);
        return _partitions[index] ??= grains.GetGrain<IAuthFailuresGrain>(AuthFailureKeys.PartitionKey(index));
    }

    public async Task<bool> IsAddressBlockedAsync(string address)
    {
        if (!await IsBlockedAsync(AuthFailureKeys.Address(address), options.Value.MaxAuthFailuresPerAddress)) return false;
        GatewayMetrics.LoginThrottled(user: false);
        events.AuthenticationThrottled(null, address);
        return true;
    }

    public async Task<bool> IsUserBlockedAsync(string udn, string address)
    {
        if (!await IsBlockedAsync(AuthFailureKeys.User(udn), options.Value.MaxAuthFailuresPerUser)) return false;
        GatewayMetrics.LoginThrottled(user: true);
        events.AuthenticationThrottled(udn, address);
        return true;
    }

    /// <param name="mechanism">the mechanism's constant name, "none" when the client named none offered</param>
    /// <param name="condition">the SASL condition sent (RFC 6120 §6.5)</param>
    public async Task RecordFailureAsync(string address, string? udn, string mechanism, string condition)
    {
        GatewayMetrics.LoginFailed(mechanism, condition);
        events.AuthenticationFailed(udn, address, mechanism, condition);
        var recording = RecordAsync(AuthFailureKeys.Address(address));
        if (udn is not null) await RecordAsync(AuthFailureKeys.User(udn));
        await recording;
    }

    /// <summary>In-band registrations (XEP-0077) are counted per address whatever their outcome, and refused past the limit.</summary>
    public Task<bool> IsRegistrationBlockedAsync(string address) =>
        IsBlockedAsync(AuthFailureKeys.Registrations(address), options.Value.MaxRegistrationsPerAddress);

    public Task RecordRegistrationAsync(string address) => RecordAsync(AuthFailureKeys.Registrations(address));

    private async Task<bool> IsBlockedAsync(string key, int limit)
    {
        try
        {
            return await PartitionOf(key).CountAsync(key, options.Value.AuthFailureWindowSeconds) >= limit;
        }
        catch (Exception e)
        {
            var (count, _) = _local.Peek(key);
            if (_local.FirstReport(key))
            {
                logger.LogWarning("Could not read the authentication failures of {Key} ({Reason}): this gateway's own count decides until it can ({Count} of {Limit})",
                    key, e.Message, count, limit);
            }
            return count >= limit;
        }
    }

    private async Task RecordAsync(string key)
    {
        _local.Add(key);
        try
        {
            await PartitionOf(key).RecordAsync(key, options.Value.AuthFailureWindowSeconds);
        }
        catch (Exception e)
        {
            if (_local.FirstReport(key))
                logger.LogWarning("Could not record an authentication failure of {Key} ({Reason}): counted by this gateway alone until it can", key, e.Message);
        }
    }
}
