using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using Mmss.Gateway.C2s;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Sasl;

namespace Mmss.Gateway.Attachments;

/// <summary>
/// Who is asking, since terminals send no HTTP credentials (spec 7.4): the address of a live authenticated XMPP session
/// of an allowed UDN, or HTTP Basic credentials of one, as the configured policy permits.
/// </summary>
public sealed class AttachmentAccessCheck(IOptions<AttachmentOptions> options, ConnectionTracker connections, CredentialStore credentials,
    IGrainFactory grains, PeerTable peers)
{
    /// <summary>Null when the request may act as one of <paramref name="allowed"/>, else why not.</summary>
    public async Task<string?> RefusalAsync(HttpContext http, IReadOnlyCollection<string> allowed)
    {
        var policy = options.Value.AccessPolicy;
        if (policy == "Open") return null;
        if (TryBasic(http, out var udn, out var password))
        {
            // A peer MMSS handing over a relayed MMS's attachments (seed 6.5), for its own users only.
            if (peers.FindByDomain(udn) is { } peer) return PeerRefusal(peer, password, allowed);
            if (!allowed.Contains(udn)) return $"{udn} may not access this message's attachments";
            var stored = await credentials.LookupAsync(udn);
            return stored is not null && stored.Username == udn && SaslCredentialDeriver.Verify(stored, password)
                ? null
                : $"wrong credentials for {udn}";
        }
        if (policy == "Credentials") return "HTTP Basic credentials are required";
        var address = Normalize(http.Connection.RemoteIpAddress);
        if (address is null) return "the request's source address is unknown";
        if (HasLocalSession(allowed, address) || await HasSessionInClusterAsync(allowed, address)) return null;
        return $"no live XMPP session of {string.Join(" or ", allowed.Take(3))}{(allowed.Count > 3 ? " ..." : "")} from {address}";
    }

    private static string? PeerRefusal(Peer peer, string secret, IReadOnlyCollection<string> allowed)
    {
        if (!peer.AcceptsSecret(secret)) return $"wrong credentials for peer {peer.Domain}";
        return allowed.Any(peer.Udns.Contains) ? null : $"peer {peer.Domain} may act only for its own users";
    }

    /// <summary>
    /// This gateway's own connections: no grain call when the terminal's stream and its HTTP request meet here. The
    /// address is compared first (a connection's is kept normalized the same way): checking every connection's UDN
    /// against a talk-group's members first cost connections × members string comparisons per download.
    /// </summary>
    private bool HasLocalSession(IReadOnlyCollection<string> allowed, string address)
    {
        foreach (var connection in connections.All())
        {
            if (connection.RemoteAddress == address && connection.IsBound && connection.Udn is { } session && allowed.Contains(session))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Behind a load balancer the request usually reaches another gateway than the stream: the user grains know every
    /// live session's address. Asked in parallel, a bounded number at a time (a talk-group may have thousands).
    /// </summary>
    private async Task<bool> HasSessionInClusterAsync(IReadOnlyCollection<string> allowed, string address)
    {
        foreach (var chunk in allowed.Chunk(64))
        {
            var answers = await Task.WhenAll(chunk.Select(udn => grains.User(udn).HasLiveSessionFromAsync(address)));
            if (answers.Contains(true)) return true;
        }
        return false;
    }

    private static bool TryBasic(HttpContext http, out string udn, out string password)
    {
        udn = password = "";
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':');
            if (colon <= 0) return false;
            (udn, password) = (decoded[..colon], decoded[(colon + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string? Normalize(IPAddress? address) =>
        address is null ? null : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}
