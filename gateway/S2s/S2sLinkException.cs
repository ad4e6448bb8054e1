namespace Mmss.Gateway.S2s;

/// <summary>
/// A link to a peer failed before the peer acknowledged what was sent: connection refused or timed out, TLS or dialback
/// failure, a stream error, no XEP-0198 acknowledgement in time. The stanzas may or may not have been handled by the peer;
/// the caller sends them again later (the peer deduplicates).
/// </summary>
public sealed class S2sLinkException : Exception
{
    public S2sLinkException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public S2sLinkException(string peerDomain, string message, Exception? innerException = null, string? streamError = null)
        : base($"link to {peerDomain}: {message}", innerException)
    {
        PeerDomain = peerDomain;
        StreamError = streamError;
    }

    /// <summary>The peer the link was to, when known.</summary>
    public string? PeerDomain { get; }

    /// <summary>The stream error condition the peer sent (e.g. "policy-violation"), when the link ended with one.</summary>
    public string? StreamError { get; }
}
