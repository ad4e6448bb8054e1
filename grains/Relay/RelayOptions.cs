using System.ComponentModel.DataAnnotations;

namespace Mmss.Grains.Relay;

/// <summary>How peer links retry and when they give up (<c>Mmss:Relay</c>).</summary>
public sealed class RelayOptions
{
    public const string Section = "Mmss:Relay";

    /// <summary>An MMS not accepted by its peer within this time fails with FAIL 6 (peer domain unreachable).</summary>
    [Range(1, 7 * 24 * 3600)]
    public int GiveUpSeconds { get; set; } = 300;

    /// <summary>The longest pause between two attempts while a peer is unreachable (attempts back off up to it).</summary>
    [Range(1, 3600)]
    public int MaxRetrySeconds { get; set; } = 15;

    /// <summary>A batch handed to a gateway that neither confirms nor fails it within this time is handed out again.</summary>
    [Range(1, 3600)]
    public int CarrierTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// How often each process polls the peer directory (admin API and seed file peers). Changes are pushed at once; the
    /// poll catches up a process that missed a push.
    /// </summary>
    [Range(1, 3600)]
    public int PeerRefreshSeconds { get; set; } = 10;

    /// <summary>Items handed to the carrying gateway at once.</summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 64;
}
