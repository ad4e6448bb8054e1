using Mmss.Gateway.Hosting;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Sasl;

namespace Mmss.Gateway.Provisioning;

/// <summary>
/// Creates, changes and removes users and groups (the eHSS role, spec "MMSS address"). Passwords are turned into
/// derived secrets here, in the gateway, so that no password ever reaches a grain or storage.
/// </summary>
public sealed class Provisioner(IGrainFactory grains, ServedDomains domains, ILogger<Provisioner> logger)
{
    public const int MaxPasswordLength = 1024;
    public const int MaxGroupMembers = 100_000;

    public async Task<UserView?> GetUserAsync(string udn)
    {
        if (DialNumber.Validate(udn) is not null) return null;
        var profile = await grains.GetGrain<IUserGrain>(udn).GetProfileAsync();
        return profile is null ? null : new UserView(profile.Udn, profile.Name, profile.Emergency, profile.Credentials.LegacyDigestPassword is not null);
    }

    /// <summary>Creates the user, or answers Exists and changes nothing (an admin POST, an in-band registration).</summary>
    public async Task<ProvisioningResult> CreateUserAsync(UserRequest request)
    {
        if (Invalid(request) is { } invalid) return invalid;
        if (request.Password is null) return ProvisioningResult.Invalid("password: required to create a user");
        var udn = request.Udn!;
        var grain = grains.GetGrain<IUserGrain>(udn);
        var credentials = SaslCredentialDeriver.Derive(udn, request.Password, domains.All,
            keepLegacyDigestPassword: request.LegacyDigest == true).ToStored();
        if (!await grain.CreateAsync(request.Name ?? udn, credentials)) return new(ProvisioningOutcome.Exists);
        await SetEmergencyIfChangedAsync(grain, udn, request.Emergency, request.Emergency == true);
        logger.LogInformation("User {Udn} created", udn);
        return new(ProvisioningOutcome.Created);
    }

    private static ProvisioningResult? Invalid(UserRequest request)
    {
        if (DialNumber.Validate(request.Udn) is { } error) return ProvisioningResult.Invalid("udn: " + error);
        if (request.Password is { Length: > MaxPasswordLength }) return ProvisioningResult.Invalid($"password: at most {MaxPasswordLength} characters");
        if (request.Password is { Length: 0 }) return ProvisioningResult.Invalid("password: must not be empty");
        return null;
    }

    /// <param name="onlyIfChanged">the seed file's idempotence: keep the stored secrets when the password still matches.</param>
    public async Task<ProvisioningResult> UpsertUserAsync(UserRequest request, bool onlyIfChanged = false)
    {
        var udn = request.Udn;
        if (Invalid(request) is { } invalid) return invalid;
        var grain = grains.GetGrain<IUserGrain>(udn!);
        var existing = await grain.GetProfileAsync();
        var name = request.Name ?? existing?.Name ?? udn!;
        var emergencyChanges = request.Emergency is { } emergency && emergency != (existing?.Emergency ?? false);
        var keepsDigestPassword = existing?.Credentials.LegacyDigestPassword is not null;
        var keepDigestPassword = request.LegacyDigest ?? keepsDigestPassword;
        var digestChanges = keepDigestPassword != keepsDigestPassword;
        if (request.Password is null)
        {
            if (existing is null) return ProvisioningResult.Invalid("password: required to create a user");
            if (digestChanges && keepDigestPassword) return ProvisioningResult.Invalid("legacyDigest: needs the password, which is what a digest login is checked against");
            if (existing.Name == name && !emergencyChanges && !digestChanges) return new(ProvisioningOutcome.Unchanged);
            if (digestChanges) await grain.ProvisionAsync(name, existing.Credentials with { LegacyDigestPassword = null });
            else if (existing.Name != name) await grain.RenameAsync(name);
            await SetEmergencyIfChangedAsync(grain, udn!, request.Emergency, emergencyChanges);
            logger.LogInformation("User {Udn} updated", udn);
            return new(ProvisioningOutcome.Updated);
        }
        if (onlyIfChanged && existing is not null && existing.Name == name && !digestChanges && CoversEveryDomain(existing.Credentials) &&
            SaslCredentialDeriver.Verify(existing.Credentials.ToSasl(udn!), request.Password))
        {
            if (!emergencyChanges) return new(ProvisioningOutcome.Unchanged);
            await SetEmergencyIfChangedAsync(grain, udn!, request.Emergency, emergencyChanges);
            return new(ProvisioningOutcome.Updated);
        }
        var credentials = SaslCredentialDeriver.Derive(udn!, request.Password, domains.All,
            keepLegacyDigestPassword: keepDigestPassword).ToStored();
        var created = await grain.ProvisionAsync(name, credentials);
        await SetEmergencyIfChangedAsync(grain, udn!, request.Emergency, emergencyChanges);
        logger.LogInformation("User {Udn} {Action}", udn, created ? "created" : "updated");
        return new(created ? ProvisioningOutcome.Created : ProvisioningOutcome.Updated);
    }

    private async Task SetEmergencyIfChangedAsync(IUserGrain grain, string udn, bool? emergency, bool changes)
    {
        if (!changes) return;
        await grain.SetEmergencyAsync(emergency!.Value);
        logger.LogInformation("User {Udn} {Action} to send emergency messages", udn, emergency.Value ? "allowed" : "no longer allowed");
    }

    public async Task<bool> DeleteUserAsync(string udn)
    {
        if (DialNumber.Validate(udn) is not null) return false;
        var removed = await grains.GetGrain<IUserGrain>(udn).RemoveAsync();
        if (removed) logger.LogInformation("User {Udn} deleted", udn);
        return removed;
    }

    public async Task<GroupProfile?> GetGroupAsync(string gdn) =>
        DialNumber.Validate(gdn) is not null ? null : await grains.GetGrain<IGroupGrain>(gdn).GetAsync();

    public async Task<ProvisioningResult> UpsertGroupAsync(GroupRequest request, bool onlyIfChanged = false)
    {
        if (DialNumber.Validate(request.Gdn) is { } error) return ProvisioningResult.Invalid("gdn: " + error);
        var members = request.Members ?? [];
        if (members.Count > MaxGroupMembers) return ProvisioningResult.Invalid($"members: at most {MaxGroupMembers}");
        foreach (var member in members)
        {
            if (DialNumber.Validate(member) is { } memberError) return ProvisioningResult.Invalid($"members: '{member}': {memberError}");
        }
        var grain = grains.GetGrain<IGroupGrain>(request.Gdn!);
        var existing = await grain.GetAsync();
        var name = request.Name ?? existing?.Name ?? request.Gdn!;
        if (onlyIfChanged && existing is not null && existing.Name == name && existing.Members.SequenceEqual(members.Distinct()))
        {
            return new(ProvisioningOutcome.Unchanged);
        }
        var created = await grain.SetAsync(name, members);
        logger.LogInformation("Group {Gdn} {Action} with {Count} members", request.Gdn, created ? "created" : "updated", members.Count);
        return new(created ? ProvisioningOutcome.Created : ProvisioningOutcome.Updated);
    }

    public async Task<bool> DeleteGroupAsync(string gdn)
    {
        if (DialNumber.Validate(gdn) is not null) return false;
        var removed = await grains.GetGrain<IGroupGrain>(gdn).RemoveAsync();
        if (removed) logger.LogInformation("Group {Gdn} deleted", gdn);
        return removed;
    }

    private bool CoversEveryDomain(StoredCredentials credentials) =>
        domains.All.All(d => credentials.DigestMd5Ha1ByRealm.ContainsKey(d));
}
