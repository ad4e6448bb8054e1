using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Counts failed authentications per UDN and per source address in a sliding window, cluster-wide (one grain per UDN
/// and per address): past the limit further attempts are refused with temporary-auth-failure until the window has
/// passed, whichever gateway they reach. In-band registrations are counted the same way, per address.
/// </summary>
public sealed class AuthThrottle(IOptions<C2sOptions> options, IGrainFactory grains, ILogger<AuthThrottle> logger)
{
    public Task<bool> IsAddressBlockedAsync(string address) =>
        IsBlockedAsync(AuthFailureKeys.Address(address), options.Value.MaxAuthFailuresPerAddress);

    public Task<bool> IsUserBlockedAsync(string udn) =>
        IsBlockedAsync(AuthFailureKeys.User(udn), options.Value.MaxAuthFailuresPerUser);

    public async Task RecordFailureAsync(string address, string? udn)
    {
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
