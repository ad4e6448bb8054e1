using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>
/// The gateways of the cluster and when each last refreshed. Stored, so that a directory reactivated on another silo
/// after a crash still knows which gateways died: forgetting them would make their sessions look alive forever.
/// A new activation counts no gateway gone for being silent before the activation has lived a whole expiry: while its
/// silo was dying, the gateways' refreshes could not reach it, and counting them gone for that would take every
/// session of the cluster offline until its gateway refreshed again.
/// </summary>
public sealed class GatewayDirectoryGrain(
    [PersistentState("gateways", StorageNames.Default)] IPersistentState<GatewayDirectoryState> state,
    IOptions<MailboxOptions> options,
    TimeProvider time) : Grain, IGatewayDirectoryGrain
{
    /// <summary>Sessions of a gateway gone this long are forgotten by the user grains that held them long ago.</summary>
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(7);

    private readonly DateTimeOffset _activatedAt = time.GetUtcNow();

    public async Task<bool> RefreshAsync(string gatewayId)
    {
        var now = time.GetUtcNow();
        var wasLive = state.State.LastSeen.TryGetValue(gatewayId, out var seen) && !IsGone(gatewayId, seen, now);
        state.State.LastSeen[gatewayId] = now;
        state.State.Left.Remove(gatewayId);
        foreach (var old in state.State.LastSeen.Where(g => now - g.Value > ForgetAfter).Select(g => g.Key).ToArray())
        {
            state.State.LastSeen.Remove(old);
            state.State.Left.Remove(old);
        }
        await state.WriteStateAsync();
        return wasLive;
    }

    public async Task RemoveAsync(string gatewayId)
    {
        if (!state.State.Left.Add(gatewayId)) return;
        await state.WriteStateAsync();
    }

    public Task<string[]> GetGoneGatewaysAsync()
    {
        var now = time.GetUtcNow();
        return Task.FromResult(state.State.LastSeen.Where(g => IsGone(g.Key, g.Value, now)).Select(g => g.Key).ToArray());
    }

    private bool IsGone(string gatewayId, DateTimeOffset lastSeen, DateTimeOffset now) =>
        state.State.Left.Contains(gatewayId) ||
        now - Max(lastSeen, _activatedAt) > TimeSpan.FromSeconds(options.Value.GatewayExpirySeconds);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
