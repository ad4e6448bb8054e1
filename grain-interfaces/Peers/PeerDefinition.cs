using System.Globalization;

namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// The checks every peer definition passes, whether configured (<c>Mmss:Peers:N</c>) or defined through the admin API
/// or the seed file: a domain, a <c>host:port</c>, an http(s) attachment address, number ranges; not one of our own
/// domains; no domain or number another peer already has.
/// </summary>
public static class PeerDefinition
{
    /// <summary>The peer, or null with the reasons added to <paramref name="errors"/> (each prefixed with <paramref name="name"/>).</summary>
    public static Peer? Compile(PeerRecord definition, string name, bool configured, List<string> errors)
    {
        var before = errors.Count;
        var domain = definition.Domain.Trim().ToLowerInvariant();
        if (domain.Length == 0) { errors.Add($"{name}:Domain is required"); return null; }
        if (domain.Length > 255 || domain.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']')))
            errors.Add($"{name}:Domain '{definition.Domain}' is not a domain or an IP address");
        var (host, port) = SplitAddress(string.IsNullOrWhiteSpace(definition.Address) ? domain : definition.Address.Trim());
        if (host is null) errors.Add($"{name}:Address '{definition.Address}' is not host:port");
        Uri? http = null;
        if (!string.IsNullOrWhiteSpace(definition.HttpAddress) &&
            (!Uri.TryCreate(definition.HttpAddress.Trim(), UriKind.Absolute, out http) || http.Scheme is not ("http" or "https")))
        {
            errors.Add($"{name}:HttpAddress '{definition.HttpAddress}' is not an http(s) address");
        }
        if (!NumberRanges.TryParse(definition.Udns, out var udns, out var udnError)) errors.Add($"{name}:Udns: {udnError}");
        if (!NumberRanges.TryParse(definition.Gdns, out var gdns, out var gdnError)) errors.Add($"{name}:Gdns: {gdnError}");
        return errors.Count > before
            ? null
            : new Peer(domain, host!, port, http, udns, gdns, definition.Secret, definition.InboundSecretHash, configured);
    }

    /// <summary>Why <paramref name="peer"/> cannot stand beside <paramref name="others"/> and our own domains (none: empty).</summary>
    public static IEnumerable<string> Clashes(Peer peer, IEnumerable<Peer> others, IReadOnlyCollection<string> ownDomains, string name)
    {
        if (ownDomains.Contains(peer.Domain, StringComparer.OrdinalIgnoreCase)) yield return $"{name}: {peer.Domain} is this server's own domain";
        foreach (var other in others)
        {
            if (string.Equals(other.Domain, peer.Domain, StringComparison.OrdinalIgnoreCase))
            {
                yield return $"{name}: {peer.Domain} is already a peer{(other.Configured ? " (configured in Mmss:Peers)" : "")}";
                continue;
            }
            if (other.Udns.Overlaps(peer.Udns)) yield return $"{name}: UDNs {peer.Udns} overlap those of {other.Domain} ({other.Udns})";
            if (other.Gdns.Overlaps(peer.Gdns)) yield return $"{name}: GDNs {peer.Gdns} overlap those of {other.Domain} ({other.Gdns})";
        }
    }

    private static (string? Host, int Port) SplitAddress(string address)
    {
        var colon = address.LastIndexOf(':');
        // An IPv6 literal without a port ("::1") or with brackets ("[::1]:5269").
        if (colon < 0 || (address.Count(c => c == ':') > 1 && !address.StartsWith('['))) return (address, Peer.DefaultPort);
        var host = address[..colon].Trim('[', ']');
        return int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536 && host.Length > 0
            ? (host, port)
            : (null, 0);
    }
}
