using Mmss.Gateway.Hosting;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Gateway.Provisioning;

/// <summary>
/// Creates, replaces and removes the peer MMSS defined at run time (the cluster's peer directory). The secret a peer
/// presents to us is hashed here, so that only the secret we present to it reaches storage in clear. Configured peers
/// (<c>Mmss:Peers</c>) are shown but belong to the configuration: the API neither changes nor shadows them.
/// </summary>
public sealed class PeerProvisioner(IGrainFactory grains, PeerTable table, ServedDomains domains, ILogger<PeerProvisioner> logger)
{
    public const int MaxSecretLength = 1024;

    private IPeerDirectoryGrain Directory => grains.GetGrain<IPeerDirectoryGrain>(0);

    public PeerTableView List() => new(table.Version, table.All.Select(ToView).ToArray());

    public PeerView? Get(string domain) => table.FindByDomain(domain) is { } peer ? ToView(peer) : null;

    /// <param name="onlyIfChanged">the seed file's idempotence: leave a peer that is already as given alone.</param>
    public async Task<ProvisioningResult> UpsertAsync(PeerRequest request, bool onlyIfChanged = false)
    {
        var domain = request.Domain?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(domain)) return ProvisioningResult.Invalid("domain: required");
        if (table.Configured.Any(p => p.Domain == domain))
            return new(ProvisioningOutcome.Conflict, $"peer {domain} is configured in Mmss:Peers on this server; change it there");
        if ((SecretError("secret", request.Secret) ?? SecretError("inboundSecret", request.InboundSecret)) is { } secretError)
            return ProvisioningResult.Invalid(secretError);
        var existing = (await Directory.GetAsync()).Peers.FirstOrDefault(p => p.Domain == domain);
        var secret = request.Secret ?? existing?.Secret;
        if (secret is null)
            return ProvisioningResult.Invalid("secret: required to create a peer (the two domains authenticate attachment hand-over with it)");
        var inbound = request.InboundSecret ?? request.Secret;
        var inboundHash = inbound is null || (existing?.InboundSecretHash is { } kept && PeerSecretHash.Matches(kept, inbound))
            ? existing?.InboundSecretHash
            : PeerSecretHash.Hash(inbound);

        var errors = new List<string>();
        var record = new PeerRecord(domain, request.Address ?? "", request.HttpAddress ?? "", request.Udns ?? "", request.Gdns ?? "", secret, inboundHash);
        if (PeerDefinition.Compile(record, "peer", configured: false, errors) is not { } peer) return ProvisioningResult.Invalid(string.Join("; ", errors));
        // Stored in the compiled form, so that the table, GET and the seed file's comparison all read the same text.
        record = record with { Address = peer.Address, HttpAddress = peer.HttpAddress?.ToString() ?? "", Udns = peer.Udns.ToString(), Gdns = peer.Gdns.ToString() };
        if (PeerDefinition.Clashes(peer, table.Configured, domains.All, $"peer {domain}").FirstOrDefault() is { } clash)
            return new(ProvisioningOutcome.Conflict, clash);
        if (onlyIfChanged && existing is not null && existing.SameRouting(record) && existing.Secret == secret && existing.InboundSecretHash == inboundHash)
            return new(ProvisioningOutcome.Unchanged);

        var outcome = await Directory.PutAsync(record);
        if (outcome.Refusal is { } refusal) return new(ProvisioningOutcome.Conflict, refusal);
        await CatchUpAsync();
        logger.LogInformation("Peer {Peer} {Action} through the admin API", peer, outcome.Created ? "created" : "replaced");
        return new(outcome.Created ? ProvisioningOutcome.Created : ProvisioningOutcome.Updated);
    }

    public async Task<ProvisioningResult> DeleteAsync(string domain)
    {
        domain = domain.Trim().ToLowerInvariant();
        if (table.Configured.Any(p => p.Domain == domain))
            return new(ProvisioningOutcome.Conflict, $"peer {domain} is configured in Mmss:Peers on this server; remove it there");
        if (!await Directory.RemoveAsync(domain)) return new(ProvisioningOutcome.NotFound, $"peer {domain} not found");
        await CatchUpAsync();
        logger.LogInformation("Peer {Peer} removed through the admin API", domain);
        return new(ProvisioningOutcome.Updated);
    }

    /// <summary>This gateway's table includes its own change before it answers, even if the directory's push missed it.</summary>
    private async Task CatchUpAsync() => table.Apply(await Directory.GetAsync());

    private static string? SecretError(string field, string? secret) => secret switch
    {
        null => null,
        { Length: < PeerSecretHash.MinimumLength } => $"{field}: at least {PeerSecretHash.MinimumLength} characters (a long random string)",
        { Length: > MaxSecretLength } => $"{field}: at most {MaxSecretLength} characters",
        _ => null,
    };

    private static PeerView ToView(Peer peer) =>
        new(peer.Domain, peer.Address, peer.HttpAddress?.ToString(), peer.Udns.ToString(), peer.Gdns.ToString(), peer.Configured ? "configuration" : "directory");
}
