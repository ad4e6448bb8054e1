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
}
