using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;

namespace Mmss.Grains.Relay;

/// <summary>Where a recipient's answer goes: to its originator's user grain here, or over the link to the originator's home MMSS.</summary>
internal static class AnswerRoute
{
    public static Task ToOriginatorAsync(IGrainFactory grains, PeerTable peers, string originator, string messageId, string answeredBy,
        string msgType, string? returnCode, string? group, DateTimeOffset expiresAt) =>
        peers.FindByUdn(originator) is { } peer
            ? grains.Reference<IPeerLinkGrain>(peer.Domain).RelayAnswerAsync(originator, messageId, answeredBy, msgType, returnCode, group)
            : grains.User(originator).RelayAnswerAsync(messageId, msgType, returnCode, expiresAt);
}
