using Mmss.GrainInterfaces;

namespace Mmss.Grains;

[GenerateSerializer]
public sealed class MessageState
{
    [Id(0)] public string? Recipient { get; set; }

    /// <summary>SHA-256 of what was submitted: the same id with other content is FAIL 8.</summary>
    [Id(1)] public byte[]? ContentHash { get; set; }

    [Id(2)] public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The recipient's last answer, relayed to the originator: MsgType 2 (ACK) or 3 (FAIL).</summary>
    [Id(3)] public string? AnswerMsgType { get; set; }

    [Id(4)] public string? AnswerReturnCode { get; set; }

    [Id(5)] public bool Expired { get; set; }

    /// <summary>The GDN of a group message; null for one-to-one.</summary>
    [Id(6)] public string? Group { get; set; }

    /// <summary>The members it was sent to (the sender excluded), fixed when it was sent.</summary>
    [Id(7)] public List<string>? Members { get; set; }

    [Id(8)] public DateTimeOffset AggregateAt { get; set; }

    /// <summary>The one aggregated answer has gone to the sender.</summary>
    [Id(9)] public bool Aggregated { get; set; }

    [Id(10)] public bool ReportRequested { get; set; }

    [Id(11)] public bool FinalReportSent { get; set; }

    /// <summary>Files the sender uploaded for this message id (spec 7.4.1).</summary>
    [Id(12)] public List<string> Uploads { get; set; } = [];

    /// <summary>Members who had no live session when their copy was stored: settled for the aggregated answer.</summary>
    [Id(13)] public List<string>? StoredOffline { get; set; }

    /// <summary>Members whose copy could not be stored yet when this was written: the expiry sweep (or a resubmission of the id) resumes them.</summary>
    [Id(14)] public List<string>? CopiesOwed { get; set; }

    /// <summary>What to store for the members of <see cref="CopiesOwed"/>; null once none are owed.</summary>
    [Id(15)] public MmsSubmission? OwedSubmission { get; set; }
}
