using System.ComponentModel.DataAnnotations;

namespace Mmss.Grains;

/// <summary>Section "Mmss:Mailbox": how long messages live and how they are re-sent.</summary>
public sealed class MailboxOptions
{
    public const string Section = "Mmss:Mailbox";

    /// <summary>An MMS not answered within this time is removed and FAIL 5 goes to its originator. Default 7 days.</summary>
    [Range(1, 365 * 24 * 3600)]
    public int TtlSeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>
    /// How long an answered MMS is kept (without its content) for a later answer ("read" after "delivered") and for
    /// the sender's retries, which get the answer again. Bounds what a busy recipient's mailbox holds. Default 1 day.
    /// </summary>
    [Range(60, 365 * 24 * 3600)]
    public int AnsweredRetentionSeconds { get; set; } = 24 * 3600;

    /// <summary>An MMS written to a live session that has not answered within this time is written again.</summary>
    [Range(1, 24 * 3600)]
    public int RedeliverAfterSeconds { get; set; } = 60;

    /// <summary>The same for an emergency MMS (Priority=emergency): a silent terminal gets it again sooner.</summary>
    [Range(1, 24 * 3600)]
    public int EmergencyRedeliverAfterSeconds { get; set; } = 10;

    /// <summary>
    /// How long a notice (the ACK/FAIL an originator gets) or an ordinary message written to a live session waits for the
    /// gateway's confirmation that it was written (with XEP-0198, acknowledged) before it is stored. Confirmed in time, it
    /// is never stored; 0 stores every one before writing it. (An MMS is always stored first.)
    /// </summary>
    [Range(0, 10_000)]
    public int NoticeConfirmWaitMilliseconds { get; set; } = 250;

    /// <summary>
    /// How long a new user grain activation waits before it writes again what waits for a session the gateways tell it
    /// about (their resynchronisation after a silo's death), then reads those rows again: the activation before it may
    /// still be recording answers to them (RELIABILITY.md, finding 10).
    /// </summary>
    [Range(0, 60_000)]
    public int ResyncSettleMilliseconds { get; set; } = 2000;

    /// <summary>How often the store is searched for expired entries.</summary>
    [Range(1, 3600)]
    public int ExpirySweepSeconds { get; set; } = 60;

    /// <summary>A group message's sender gets its one aggregated answer when every member has answered or after this long.</summary>
    [Range(1, 24 * 3600)]
    public int GroupAggregationSeconds { get; set; } = 30;

    /// <summary>The same window for an emergency group MMS: its sender learns sooner who has it.</summary>
    [Range(1, 24 * 3600)]
    public int EmergencyGroupAggregationSeconds { get; set; } = 10;

    /// <summary>An MMS naming attachments waits this long for an upload still in flight before FAIL 3.</summary>
    [Range(0, 600)]
    public int AttachmentGraceSeconds { get; set; } = 10;

    /// <summary>
    /// The one setting of gateway liveness, read by both sides: a gateway refreshes its directory entry every third of
    /// it and is counted gone (its sessions offline) when it has not for this long; silos learn it within a quarter more.
    /// </summary>
    [Range(3, 3600)]
    public int GatewayExpirySeconds { get; set; } = 30;
}
