using Mmss.GrainInterfaces.Peers;
using Mmss.Protocol.Xml;

namespace Mmss.Gateway.S2s;

/// <summary>
/// The receiving server's side of XEP-0220 §2.1.2: asks the originating domain's authoritative server — the address our
/// peer table has for it, never one the connecting party names — whether the key it was given is genuine.
/// </summary>
internal static class DialbackVerifier
{
    /// <summary>True when the authoritative server says valid; false when invalid; S2sLinkException when it cannot be asked.</summary>
    public static async Task<bool> VerifyAsync(S2sServices services, Peer originating, string receivingDomain, string streamId, string key,
        CancellationToken cancellationToken)
    {
        await using var stream = await S2sClientStream.OpenAsync(services, receivingDomain, originating, cancellationToken);
        return await stream.RunStepAsync(async token =>
        {
            // XEP-0220 §2.1.2: from = the receiving server (us), to = the originating server, id = the stream the key was sent on.
            await stream.Core.WriteAsync((receivingDomain, originating.Domain, streamId, key),
                static (output, s) => S2sXml.WriteDialback(output, "verify", s.receivingDomain, s.Domain, s.streamId, type: null, s.key));
            while (true)
            {
                var answer = await stream.ReadElementAsync(token);
                if (answer.Name != "verify" || answer.Namespace != S2sNamespaces.Dialback || answer.Attribute("id") != streamId) continue;
                return answer.Attribute("type") == "valid";
            }
        }, cancellationToken);
    }
}
