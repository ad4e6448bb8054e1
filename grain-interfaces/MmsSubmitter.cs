namespace Mmss.GrainInterfaces;

/// <summary>Where an MMS goes in: the one entry point for gateways (and tests) so that both take the same path.</summary>
public static class MmsSubmitter
{
    /// <summary>
    /// A one-to-one MMS without attachments is the recipient's user grain's alone: it stores, deduplicates and relays
    /// the answer without a grain of its own per message (one storage write on the way in). Group messages, messages
    /// with attachments and unknown recipients go through the message grain, which fans out, checks uploads and
    /// grants attachment access.
    /// </summary>
    public static async Task<SubmitOutcome> SubmitAsync(IGrainFactory grains, MmsSubmission submission)
    {
        if (submission.Attach is null &&
            await grains.User(submission.Recipient).SubmitMmsAsync(submission) is { } outcome)
        {
            return outcome;
        }
        return await grains.GetGrain<IMessageGrain>(MessageKey.For(submission.Sender, submission.MessageId)).SubmitAsync(submission);
    }
}
