using System.Collections.Concurrent;
using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;

namespace Mmss.Gateway.S2s;

/// <summary>
/// Outgoing server-to-server links: one authenticated stream per (our domain, peer domain), opened on the first send
/// (TCP to the peer's address, STARTTLS, dialback, XEP-0198), reused while healthy, opened anew after a failure.
/// Retrying is the caller's business: a failed send throws and the same stanzas are sent again later.
/// </summary>
public sealed class S2sOutbound(S2sServices services) : IAsyncDisposable
{
    private sealed class Slot
    {
        public readonly SemaphoreSlim Opening = new(1, 1);
        public volatile S2sOutboundLink? Link;
    }

    private readonly ConcurrentDictionary<(string Local, string Peer), Slot> _slots = new();
    private volatile bool _disposed;

    /// <summary>
    /// Sends the stanzas (rendered in jabber:server, 'from'/'to' as given) in order and completes when the peer has
    /// acknowledged every one of them with XEP-0198 (&lt;a h/&gt; covering them), i.e. the peer handled them. Throws
    /// <see cref="S2sLinkException"/> when the link fails first (connect refused, TLS or dialback failure, stream error,
    /// no ack within the ack timeout); the caller then retries the same stanzas later (the peer deduplicates).
    /// </summary>
    /// <remarks>
    /// The stream authenticates one of our domains: that of the first stanza's 'from' when we serve it, else our default
    /// domain. Every stanza's 'from' must be in that domain, or the peer ends the stream with invalid-from.
    /// </remarks>
    public async Task SendAsync(Peer peer, IReadOnlyList<XmlElement> stanzas, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(stanzas);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (stanzas.Count == 0) return;
        var fromDomain = S2sXml.DomainOf(stanzas[0].Attribute("from"));
        var local = services.Domains.IsServed(fromDomain) ? fromDomain!.ToLowerInvariant() : services.Domains.Default;
        var link = await GetLinkAsync(local, peer, cancellationToken);
        await link.SendAsync(stanzas, cancellationToken);
    }

    /// <summary>Whether a healthy link to the peer's domain is open now (for health reporting and tests).</summary>
    public bool IsConnected(string peerDomain) =>
        _slots.Any(s => string.Equals(s.Key.Peer, peerDomain, StringComparison.OrdinalIgnoreCase) && s.Value.Link is { IsHealthy: true });

    private async ValueTask<S2sOutboundLink> GetLinkAsync(string local, Peer peer, CancellationToken cancellationToken)
    {
        var slot = _slots.GetOrAdd((local, peer.Domain.ToLowerInvariant()), static _ => new Slot());
        if (slot.Link is { IsHealthy: true } ready && SameAddress(ready.Peer, peer)) return ready;
        // One opening at a time per peer: senders arriving meanwhile wait for that link rather than open their own.
        await slot.Opening.WaitAsync(cancellationToken);
        try
        {
            var current = slot.Link;
            if (current is { IsHealthy: true } && SameAddress(current.Peer, peer)) return current;
            slot.Link = null;
            // A failed link has closed itself; a healthy one to an address the peer table no longer has is closed here.
            if (current is not null) await current.DisposeAsync();
            ObjectDisposedException.ThrowIf(_disposed, this);
            var link = await S2sOutboundLink.OpenAsync(services, local, peer, cancellationToken);
            slot.Link = link;
            return link;
        }
        finally
        {
            slot.Opening.Release();
        }
    }

    private static bool SameAddress(Peer a, Peer b) =>
        a.Port == b.Port && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);

    /// <summary>Closes every link with &lt;/stream:stream&gt; (at host stop).</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var slot in _slots.Values)
        {
            if (slot.Link is { } link) await link.DisposeAsync();
        }
    }
}
