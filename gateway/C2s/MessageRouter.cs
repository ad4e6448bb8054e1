using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Messaging;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;
using Mmss.Grains.Diagnostics;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Turns a terminal's &lt;message/&gt; into a grain call: an ACK/FAIL (to="ACK"/"FAIL", spec 7.5.2), an MMS (Jive
/// properties, spec 7.5.1), or an ordinary message (RFC 6121). The grains decide everything else.
/// </summary>
public sealed class MessageRouter(IGrainFactory grains, PeerTable peers, IOptions<C2sOptions> options, LogScopes logScopes,
    ILogger<MessageRouter> logger)
{
    /// <summary>
    /// Submits, trying again while the failure lasts up to <see cref="C2sOptions.StoreRetrySeconds"/>. A failed call
    /// does not say the MMS was not stored: a silo that stored it may have died, or answered too late, before the
    /// outcome came back, and a group's fan-out may have stored some copies. Answering FAIL 9 then would tell the
    /// terminal its MMS failed while the recipients get it. Submission is idempotent (the same id and content is stored
    /// once, a group's fan-out resumes), so a retry finds out; FAIL 9 only once storage has stayed unavailable. The time
    /// counts from the first failure: a call to a silo that died fails only at the response timeout (30 s), and its
    /// grain may have stored part of a group's copies, which only a retry completes.
    /// </summary>
    private async Task<SubmitOutcome> SubmitWithRetriesAsync(MmsSubmission submission, string recipientDomain)
    {
        DateTime? firstFailure = null;
        var outcomeUnknown = false;
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                var submitting = MmsSubmitter.SubmitAsync(grains, submission, peers, recipientDomain);
                return await (firstFailure is null ? submitting : BoundedGrainCall.Bounded(submitting));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                outcomeUnknown |= UnknownOutcome.Of(e);
                if (!MayRetry(firstFailure ??= DateTime.UtcNow, delay, outcomeUnknown)) throw;
                logger.LogWarning("MMS {MessageId} from {Udn} could not be stored yet ({Reason}); retrying",
                    submission.MessageId, submission.Sender, e.Message);
                await Task.Delay(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>
    /// Within <see cref="C2sOptions.StoreRetrySeconds"/> of the first failure; once an attempt's outcome was unknown (a
    /// timeout, Orleans' or the bound of a call; a silo that died with the call pending; a commit the database never
    /// confirmed: <see cref="UnknownOutcome"/>) for up to
    /// <see cref="AnswerRetryWindow"/>: such a failure says nothing of whether the MMS was stored, even if the attempts
    /// after it are plainly refused, and answering FAIL 9 to an MMS that may be delivered is what the retries are for.
    /// Only failures that say nothing was stored (storage refusing writes) end in FAIL 9 at the shorter bound.
    /// </summary>
    private bool MayRetry(DateTime firstFailure, TimeSpan delay, bool outcomeUnknown)
    {
        var window = TimeSpan.FromSeconds(options.Value.StoreRetrySeconds);
        if (outcomeUnknown && window > TimeSpan.Zero && window < AnswerRetryWindow) window = AnswerRetryWindow;
        return DateTime.UtcNow + delay < firstFailure + window;
    }

    /// <summary>Answers are idempotent in the grain, so a retry after an outcome that was not seen does no harm.</summary>
    private async Task RecordAnswerLaterAsync(string sender, string id, string msgType, string? returnCode)
    {
        var deadline = DateTime.UtcNow + AnswerRetryWindow;
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            await Task.Delay(delay);
            try
            {
                await BoundedGrainCall.Bounded(grains.User(sender).AnswerAsync(id, msgType, returnCode));
                logger.LogInformation("{Udn}: answer {MsgType} to {MessageId} recorded after a retry", sender, msgType, id);
                return;
            }
            catch (Exception e) when (DateTime.UtcNow + delay < deadline)
            {
                logger.LogDebug("{Udn}: answer to {MessageId} still not recorded: {Reason}", sender, id, e.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
            catch (Exception e)
            {
                // The MMS stays stored unanswered: it is written again at the next login and the terminal answers again.
                logger.LogError(e, "{Udn}: answer {MsgType} to {MessageId} could not be recorded", sender, msgType, id);
                return;
            }
        }
    }

    private static readonly TimeSpan AnswerRetryWindow = TimeSpan.FromMinutes(2);

    public async ValueTask RouteAsync(C2sConnection connection, XmlElement message)
    {
        if (message.Attribute("type") == "error") return;
        var id = message.Attribute("id");
        if (!Jid.TryParse(message.Attribute("to"), out var to) || to.Local is null)
        {
            await connection.SendAsync(StanzaErrors.ServiceUnavailable(message, connection.Domain));
            return;
        }
        var properties = JiveProperties.Find(message);
        var sender = connection.Udn!;
        using var logScope = id is null ? null : logScopes.ForMessage(logger, sender, id);

        if (to.Local.Equals("ACK", StringComparison.OrdinalIgnoreCase) || to.Local.Equals("FAIL", StringComparison.OrdinalIgnoreCase))
        {
            if (id is null)
            {
                await connection.SendAsync(StanzaErrors.BadRequest(message, connection.Domain));
                return;
            }
            // spec 7.5.2: MsgType 2 (ACK) or 3 (FAIL); ReturnCode optional for ACK, mandatory for FAIL.
            var isFail = to.Local.Equals("FAIL", StringComparison.OrdinalIgnoreCase);
            var msgType = JiveProperties.Get(properties, "MsgType") ?? (isFail ? "3" : "2");
            var returnCode = JiveProperties.Get(properties, "ReturnCode");
            try
            {
                if (!await (connection.Session?.User ?? grains.User(sender)).AnswerAsync(id, msgType, returnCode))
                    logger.LogInformation("{Udn} answered {MsgType} to unknown message {MessageId}", sender, msgType, id);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The terminal will not answer again unless the MMS is written again, which the grain that failed may not
                // do (its silo may be gone): keep trying in the background, without holding up the terminal's stream.
                logger.LogWarning("{Udn}: answer {MsgType} to {MessageId} could not be recorded yet ({Reason}); retrying",
                    sender, msgType, id, e.Message);
                _ = RecordAnswerLaterAsync(sender, id, msgType, returnCode);
            }
            return;
        }

        if (properties is not null)
        {
            if (id is null)
            {
                await connection.SendAsync(StanzaErrors.BadRequest(message, connection.Domain));
                return;
            }
            // Seed 6.5: a recipient another MMSS is home for is relayed there, whatever domain the terminal named.
            if (!connection.Services.Domains.IsServed(to.Domain) && (peers.IsEmpty || MmsSubmitter.HomeOf(peers, to.Local, to.Domain) is null))
            {
                await connection.SendFailAsync(id, FailCode.PeerUnreachable);
                return;
            }
            var submission = new MmsSubmission(id, sender, to.Local, JiveProperties.Get(properties, "MsgType"),
                message.Attribute("type"), DeliveryRenderer.Payload(message), JiveProperties.Get(properties, "MsgGroup"),
                string.Equals(JiveProperties.Get(properties, "DeliveryReport"), "true", StringComparison.OrdinalIgnoreCase),
                JiveProperties.Get(properties, "attach"), JiveProperties.Is(properties, MmsPriority.Property, MmsPriority.Emergency));
            SubmitOutcome outcome;
            try
            {
                outcome = await SubmitWithRetriesAsync(submission, to.Domain);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "MMS {MessageId} from {Udn} could not be stored", id, sender);
                outcome = SubmitOutcome.Failed(FailCode.StorageUnavailable, "storage unavailable");
            }
            if (!outcome.Accepted)
            {
                logger.LogInformation("MMS {MessageId} from {Udn} to {Recipient} refused: FAIL {Code} ({Reason})",
                    id, sender, to.Local, outcome.FailCode, outcome.Reason);
                await connection.SendFailAsync(id, outcome.FailCode);
            }
            else if (logger.IsEnabled(LogLevel.Debug))
            {
                logger.LogDebug("MMS {MessageId} from {Udn} to {Recipient}: {Reason}", id, sender, to.Local, outcome.Reason);
            }
            return;
        }

        bool delivered;
        try
        {
            var plain = new PlainMessage(id, connection.FullJid!, message.Attribute("type"), DeliveryRenderer.Payload(message));
            if (!peers.IsEmpty && MmsSubmitter.HomeOf(peers, to.Local, to.Domain) is { } peer)
            {
                await grains.Reference<IPeerLinkGrain>(peer.Domain).RelayPlainAsync(to.Local, plain);
                return;
            }
            delivered = connection.Services.Domains.IsServed(to.Domain) && await grains.User(to.Local).DeliverPlainAsync(plain);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Message {MessageId} from {Udn} to {Recipient} could not be stored", id, sender, to.Local);
            await connection.SendAsync(StanzaErrors.Reply(message, "internal-server-error", "wait", connection.Domain));
            return;
        }
        if (!delivered) await connection.SendAsync(StanzaErrors.ServiceUnavailable(message, connection.Domain));
    }
}
