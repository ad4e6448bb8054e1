namespace Mmss.GrainInterfaces;

/// <summary>One MMS's life, keyed "senderUdn/messageId": idempotent submit, the recipient's answer, expiry.</summary>
public interface IMessageGrain : IGrainWithStringKey
{
    Task<SubmitOutcome> SubmitAsync(MmsSubmission submission);

    /// <summary>The recipient answered ACK (MsgType 2) or FAIL (MsgType 3); relayed to the originator.</summary>
    Task AnswerAsync(string recipient, string msgType, string? returnCode);

    /// <summary>The recipient never took the message within its TTL: FAIL 5 to the originator.</summary>
    Task ExpireAsync(string recipient);
}

public static class MessageKey
{
    public static string For(string sender, string messageId) => sender + "/" + messageId;
}
