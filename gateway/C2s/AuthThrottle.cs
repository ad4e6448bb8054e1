using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Diagnostics;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Counts failed authentications per UDN and per source address in a sliding window, cluster-wide (one grain per UDN
/// and per address): past the limit further attempts are refused with temporary-auth-failure until the window has
/// passed, whichever gateway they reach. In-band registrations are counted the same way, per address. Failures and
/// refusals are counted (metrics) and raised as events.
/// </summary>
public sealed class AuthThrottle(IOptions<C2sOptions> options, IGrainFactory grains, GatewayEvents events, ILogger<AuthThrottle> logger)
{
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
        var window = options.Value.AuthFailureWindowSeconds;
        try
        {
            var recording = grains.GetGrain<IAuthFailuresGrain>(AuthFailureKeys.Address(address)).RecordAsync(window);
            if (udn is not null) await grains.GetGrain<IAuthFailuresGrain>(AuthFailureKeys.User(udn)).RecordAsync(window);
            await recording;
        }
        catch (Exception e)
        {
            logger.LogWarning("Could not record a failed authentication from {Address} for {Udn}: {Reason}", address, udn, e.Message);
        }
    }

    /// <summary>In-band registrations (XEP-0077) are counted per address whatever their outcome, and refused past the limit.</summary>
    public Task<bool> IsRegistrationBlockedAsync(string address) =>
        IsBlockedAsync(AuthFailureKeys.Registrations(address), options.Value.MaxRegistrationsPerAddress);

    public async Task RecordRegistrationAsync(string address)
    {
        try
        {
            await grains.GetGrain<IAuthFailuresGrain>(AuthFailureKeys.Registrations(address)).RecordAsync(options.Value.AuthFailureWindowSeconds);
        }
        catch (Exception e)
        {
            logger.LogWarning("Could not record a registration from {Address}: {Reason}", address, e.Message);
        }
    }

    private async Task<bool> IsBlockedAsync(string key, int limit)
    {
        try
        {
            return await grains.GetGrain<IAuthFailuresGrain>(key).CountAsync(options.Value.AuthFailureWindowSeconds) >= limit;
        }
        catch (Exception e)
        {
            // The cluster is unreachable: the login fails further on anyway (credentials live in grains too).
            logger.LogWarning("Could not read the authentication failures of {Key}: {Reason}", key, e.Message);
            return false;
        }
    }
}
