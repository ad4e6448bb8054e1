using System.Globalization;

namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// Which peer MMSS is home for a number or a domain (seed 6.5: the MO's home MMSS finds the MT's home MMSS from the
/// MT's UDN). Built once from configuration and validated: a bad entry stops the process with a message naming it.
/// </summary>
public sealed class PeerTable
{
    private readonly Peer[] _peers;
    private readonly Dictionary<string, Peer> _byDomain;

    public PeerTable(IEnumerable<Peer> peers)
    {
        _peers = peers.ToArray();
        _byDomain = _peers.ToDictionary(p => p.Domain, StringComparer.OrdinalIgnoreCase);
    }

    public static readonly PeerTable Empty = new([]);

    public IReadOnlyList<Peer> All => _peers;

    public bool IsEmpty => _peers.Length == 0;

    public Peer? FindByDomain(string? domain) => domain is not null && _byDomain.TryGetValue(domain, out var peer) ? peer : null;

    /// <summary>The peer home for this UDN, or null when none is (a local user, or nobody's).</summary>
    public Peer? FindByUdn(string udn)
    {
        foreach (var peer in _peers)
        {
            if (peer.Udns.Contains(udn)) return peer;
        }
        return null;
    }

    public Peer? FindByGdn(string gdn)
    {
        foreach (var peer in _peers)
        {
            if (peer.Gdns.Contains(gdn)) return peer;
        }
        return null;
    }

    /// <summary>Validates configured peers; <paramref name="errors"/> lists every problem found.</summary>
    public static PeerTable From(IReadOnlyList<PeerOptions> configured, IReadOnlyCollection<string> ownDomains, out List<string> errors)
    {
        errors = [];
        var peers = new List<Peer>();
        for (var i = 0; i < configured.Count; i++)
        {
            var o = configured[i];
            var name = $"Mmss:Peers:{i}";
            var domain = o.Domain.Trim().ToLowerInvariant();
            if (domain.Length == 0) { errors.Add($"{name}:Domain is required"); continue; }
            if (ownDomains.Contains(domain, StringComparer.OrdinalIgnoreCase)) errors.Add($"{name}: {domain} is this server's own domain");
            if (peers.Any(p => p.Domain == domain)) errors.Add($"{name}: {domain} is configured twice");
            var (host, port) = SplitAddress(string.IsNullOrWhiteSpace(o.Address) ? domain : o.Address.Trim());
            if (host is null) errors.Add($"{name}:Address '{o.Address}' is not host:port");
            Uri? http = null;
            if (!string.IsNullOrWhiteSpace(o.HttpAddress) &&
                (!Uri.TryCreate(o.HttpAddress.Trim(), UriKind.Absolute, out http) || http.Scheme is not ("http" or "https")))
            {
                errors.Add($"{name}:HttpAddress '{o.HttpAddress}' is not an http(s) address");
            }
            if (!NumberRanges.TryParse(o.Udns, out var udns, out var udnError)) errors.Add($"{name}:Udns: {udnError}");
            if (!NumberRanges.TryParse(o.Gdns, out var gdns, out var gdnError)) errors.Add($"{name}:Gdns: {gdnError}");
            foreach (var other in peers)
            {
                if (other.Udns.Overlaps(udns)) errors.Add($"{name}:Udns overlap those of {other.Domain}");
                if (other.Gdns.Overlaps(gdns)) errors.Add($"{name}:Gdns overlap those of {other.Domain}");
            }
            peers.Add(new Peer(domain, host ?? domain, port, http, udns, gdns, o.Secret));
        }
        return new PeerTable(peers);
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
