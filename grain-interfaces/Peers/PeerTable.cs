namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// Which peer MMSS is home for a number or a domain (seed 6.5: the MO's home MMSS finds the MT's home MMSS from the
/// MT's UDN). The peers configured in this process (<c>Mmss:Peers</c>, validated at start: a bad entry stops the
/// process) plus those of the cluster's peer directory (admin API, seed file), which
/// <see cref="Apply"/> replaces whenever the directory changes. Readers see one consistent version at a time.
/// </summary>
public sealed class PeerTable
{
    private sealed record View(Peer[] Peers, Dictionary<string, Peer> ByDomain, long Version);

    private readonly Peer[] _configured;
    private readonly Lock _applying = new();
    private volatile View _view;

    public PeerTable(IEnumerable<Peer> configured)
    {
        _configured = configured.ToArray();
        _view = Build(_configured, version: -1);
    }

    public static readonly PeerTable Empty = new([]);

    /// <summary>Raised after each change of the table (on the thread that applied it).</summary>
    public event Action? Changed;

    public IReadOnlyList<Peer> All => _view.Peers;

    public IReadOnlyList<Peer> Configured => _configured;

    /// <summary>The version of the peer directory this table holds; -1 before the first copy arrived.</summary>
    public long Version => _view.Version;

    public bool IsEmpty => _view.Peers.Length == 0;

    public Peer? FindByDomain(string? domain) => domain is not null && _view.ByDomain.TryGetValue(domain, out var peer) ? peer : null;

    /// <summary>The peer home for this UDN, or null when none is (a local user, or nobody's).</summary>
    public Peer? FindByUdn(string udn)
    {
        foreach (var peer in _view.Peers)
        {
            if (peer.Udns.Contains(udn)) return peer;
        }
        return null;
    }

    public Peer? FindByGdn(string gdn)
    {
        foreach (var peer in _view.Peers)
        {
            if (peer.Gdns.Contains(gdn)) return peer;
        }
        return null;
    }

    /// <summary>
    /// Takes the directory's peers beside the configured ones, unless this table already holds that version or a newer
    /// one. A definition clashing with a configured peer (same domain, overlapping numbers: possible only when the
    /// configuration changed after it was stored) is left out; the reasons are returned for the log.
    /// </summary>
    public IReadOnlyList<string> Apply(PeerDirectorySnapshot snapshot)
    {
        var skipped = new List<string>();
        lock (_applying)
        {
            if (snapshot.Version <= _view.Version) return skipped;
            var peers = new List<Peer>(_configured);
            foreach (var definition in snapshot.Peers)
            {
                var name = $"peer {definition.Domain}";
                var errors = new List<string>();
                var peer = PeerDefinition.Compile(definition, name, configured: false, errors);
                if (peer is not null) errors.AddRange(PeerDefinition.Clashes(peer, _configured, [], name));
                if (peer is null || errors.Count > 0) skipped.AddRange(errors);
                else peers.Add(peer);
            }
            _view = Build(peers.ToArray(), snapshot.Version);
        }
        Changed?.Invoke();
        return skipped;
    }

    private static View Build(Peer[] peers, long version)
    {
        var byDomain = new Dictionary<string, Peer>(StringComparer.OrdinalIgnoreCase);
        foreach (var peer in peers) byDomain.TryAdd(peer.Domain, peer);
        return new View(peers, byDomain, version);
    }

    /// <summary>Validates configured peers; <paramref name="errors"/> lists every problem found.</summary>
    public static PeerTable From(IReadOnlyList<PeerOptions> configured, IReadOnlyCollection<string> ownDomains, out List<string> errors)
    {
        errors = [];
        var peers = new List<Peer>();
        for (var i = 0; i < configured.Count; i++)
        {
            var name = $"Mmss:Peers:{i}";
            if (PeerDefinition.Compile(configured[i].ToRecord(), name, configured: true, errors) is not { } peer) continue;
            errors.AddRange(PeerDefinition.Clashes(peer, peers, ownDomains, name));
            peers.Add(peer);
        }
        return new PeerTable(peers);
    }
}
