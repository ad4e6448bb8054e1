using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;
using Mmss.Grains.Diagnostics;
using Mmss.Grains.Events;

namespace Mmss.Grains;

/// <summary>
/// A user (UDN): provisioning and credentials here; sessions and the mailbox in the other parts of this class.
/// </summary>
// The collection age is explicit because answer recovery (UserGrain.Mailbox) relies on it exceeding its window.
[CollectionAgeLimit(Minutes = 15)]
public sealed partial class UserGrain(
    [PersistentState("user", StorageNames.Default)] IPersistentState<UserState> state,
    IMailboxStore store,
    GatewayLiveness gateways,
    IOptions<MailboxOptions> options,
    TimeProvider time,
    IMmssEvents events,
    PeerTable peers,
    LogScopes logScopes,
    SessionDurability sessionDurability,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    // Kept: GetPrimaryKeyString decodes the grain id into a new string on every call, several times per message.
    private string? _udn;

    private string Udn => _udn ??= this.GetPrimaryKeyString();

    public Task<UserProfile?> GetProfileAsync() =>
        Task.FromResult(state.State.Credentials is { } credentials
            ? new UserProfile(Udn, state.State.Name ?? Udn, credentials, state.State.Emergency)
            : null);

    public async Task<bool> SetEmergencyAsync(bool allowed)
    {
        if (state.State.Credentials is null) return false;
        if (state.State.Emergency == allowed) return true;
        state.State.Emergency = allowed;
        await WriteStateAsync();
        return true;
    }

    public Task<bool> MaySendEmergencyAsync() => Task.FromResult(state.State is { Credentials: not null, Emergency: true });

    public async Task<bool> ProvisionAsync(string name, StoredCredentials credentials)
    {
        var created = state.State.Credentials is null;
        state.State.Name = name;
        state.State.Credentials = credentials;
        await WriteStateAsync();
        return created;
    }

    // Check and create in one turn of the grain: two registrations of one free UDN cannot both succeed.
    public async Task<bool> CreateAsync(string name, StoredCredentials credentials)
    {
        if (state.State.Credentials is not null) return false;
        await ProvisionAsync(name, credentials);
        return true;
    }

    public async Task<bool> RenameAsync(string name)
    {
        if (state.State.Credentials is null) return false;
        if (state.State.Name == name) return true;
        state.State.Name = name;
        await WriteStateAsync();
        return true;
    }

    public async Task<bool> RemoveAsync()
    {
        if (state.State.Credentials is null) return false;
        await ClearStateAfterWritesAsync();
        return true;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Sessions.Count > 0) await ForgetSessionsOfGoneGatewaysAsync();
        if (state.State.Sessions.Any(s => s.Presence is not null)) WatchPresence();
    }
}
