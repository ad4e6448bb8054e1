using System.Text.Json;
using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.Provisioning;

/// <summary>Applies Mmss:Provisioning:SeedFile at start, idempotently: what is already as the file says is left alone.</summary>
public sealed class SeedFileApplier(IOptions<ProvisioningOptions> options, Provisioner provisioner, PeerProvisioner peers, ILogger<SeedFileApplier> logger)
{
    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.Value.SeedFile);

    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        var path = options.Value.SeedFile;
        if (string.IsNullOrWhiteSpace(path)) return;
        if (!File.Exists(path)) throw new FileNotFoundException($"Mmss:Provisioning:SeedFile '{path}' does not exist.", path);
        SeedFile? seed;
        await using (var stream = File.OpenRead(path))
        {
            seed = await JsonSerializer.DeserializeAsync<SeedFile>(stream, JsonSerializerOptions.Web, cancellationToken);
        }
        var counts = new Dictionary<ProvisioningOutcome, int>();
        foreach (var user in seed?.Users ?? [])
        {
            var result = await provisioner.UpsertUserAsync(user, onlyIfChanged: true);
            if (result.Outcome == ProvisioningOutcome.Invalid)
                throw new InvalidDataException($"Seed file {path}: user '{user.Udn}': {result.Error}");
            counts[result.Outcome] = counts.GetValueOrDefault(result.Outcome) + 1;
        }
        foreach (var group in seed?.Groups ?? [])
        {
            var result = await provisioner.UpsertGroupAsync(group, onlyIfChanged: true);
            if (result.Outcome == ProvisioningOutcome.Invalid)
                throw new InvalidDataException($"Seed file {path}: group '{group.Gdn}': {result.Error}");
            counts[result.Outcome] = counts.GetValueOrDefault(result.Outcome) + 1;
        }
        foreach (var peer in seed?.Peers ?? [])
        {
            var result = await peers.UpsertAsync(peer, onlyIfChanged: true);
            if (result.Outcome is ProvisioningOutcome.Invalid or ProvisioningOutcome.Conflict)
                throw new InvalidDataException($"Seed file {path}: peer '{peer.Domain}': {result.Error}");
            counts[result.Outcome] = counts.GetValueOrDefault(result.Outcome) + 1;
        }
        logger.LogInformation("Seed file {Path} applied: {Created} created, {Updated} updated, {Unchanged} unchanged", path,
            counts.GetValueOrDefault(ProvisioningOutcome.Created), counts.GetValueOrDefault(ProvisioningOutcome.Updated),
            counts.GetValueOrDefault(ProvisioningOutcome.Unchanged));
    }
}
