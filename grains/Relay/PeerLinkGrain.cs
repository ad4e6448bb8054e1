using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.GrainInterfaces;
using Mmss.GrainInterfaces.Peers;
using Mmss.Grains.Events;

namespace Mmss.Grains.Relay;

/// <summary>
/// The outbound queue to one peer MMSS, one row per item in the mailbox store (owner <c>peer/{domain}</c>), so that
/// queuing costs one row write whatever the queue holds. One batch is out at a time, handed to a gateway that carries
/// the link, so the peer receives items in the order they were queued. A batch the peer did not take is handed out again
/// after a backoff; items older than the give-up window are dropped, an MMS among them answered with FAIL 6.
/// </summary>
public sealed class PeerLinkGrain(
    IMailboxStore store,
    PeerTable peers,
    GatewayLiveness gateways,
    IOptions<RelayOptions> relayOptions,
    IOptions<MailboxOptions> mailboxOptions,
    TimeProvider time,
    IMmssEvents events,
    ILogger<PeerLinkGrain> logger) : Grain, IPeerLinkGrain
{
    private readonly SortedList<long, MailboxEntry> _queue = [];
    // The queued MMS by (sender, id, recipient): a retry is found without walking a queue that may hold thousands.
    private readonly HashSet<(string Sender, string MessageId, string Recipient)> _queuedMms = [];
    // The MMS whose rows are being written, by the same key: a retry meanwhile waits for that write.
    private readonly Dictionary<(string Sender, string MessageId, string Recipient), Task> _writing = [];
    private readonly Dictionary<string, IPeerLinkObserver> _carriers = new(StringComparer.Ordinal);
    private long[] _outstanding = [];
    private long _outstandingSince;
    private string? _carrier;
    private int _failures;
    private long _retryAt;
    private IGrainTimer? _timer;
    private int _givingUp;

    private string Domain => this.GetPrimaryKeyString();

    private string Owner => "peer/" + Domain;

    private RelayOptions Options => relayOptions.Value;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in await store.LoadAsync(Owner)) Add(entry);
        if (_queue.Count > 0)
        {
            logger.LogInformation("Link to {Peer}: {Count} items waiting from before", Domain, _queue.Count);
            EnsureTimer();
        }
    }

    public async Task<SubmitOutcome> RelayMmsAsync(MmsSubmission submission, string? group)
    {
        if (MmsRules.Validate(submission) is { } malformed) return SubmitOutcome.Failed(FailCode.Malformed, malformed);
        if (peers.FindByDomain(Domain) is null) return SubmitOutcome.Failed(FailCode.PeerUnreachable, $"{Domain} is not a peer");
        // A terminal retrying before the peer took the first: the queued one stands. After that, the peer deduplicates.
        var key = (submission.Sender, submission.MessageId, submission.Recipient);
        if (_queuedMms.Contains(key)) return SubmitOutcome.Stored($"already queued for {Domain}");
        // The enqueuing calls interleave: a retry arriving while the first's row is written waits for that write, and
        // is told it is stored only if the first was.
        if (_writing.TryGetValue(key, out var first))
        {
            await first;
            return SubmitOutcome.Stored($"already queued for {Domain}");
        }
        IReadOnlyList<KeyValuePair<string, string>>? added = group is not null && submission.MsgGroup is null ? [new("MsgGroup", group)] : null;
        var writing = EnqueueAsync(new MailboxEntry(0, DeliveryKind.Mms, submission.MessageId, submission.Sender, submission.StanzaType,
            submission.Payload, added, ExpiresAt(), Answered: false, To: submission.Recipient, Group: group, Attach: submission.Attach,
            QueuedAt: time.GetUtcNow()));
        _writing[key] = writing;
        try
        {
            await writing;
        }
        finally
        {
            _writing.Remove(key);
        }
        return SubmitOutcome.Stored($"queued for {Domain}");
    }

    public Task RelayAnswerAsync(string originator, string messageId, string answeredBy, string msgType, string? returnCode, string? group)
    {
        var properties = new List<KeyValuePair<string, string>>(MmsRules.NoticeProperties(msgType, returnCode));
        if (group is not null) properties.Add(new("MsgGroup", group));
        return EnqueueAsync(new MailboxEntry(0, DeliveryKind.Notice, messageId, answeredBy, "chat", null, properties, ExpiresAt(),
            Answered: false, To: originator, Group: group, QueuedAt: time.GetUtcNow()));
    }

    public Task RelayPlainAsync(string recipient, PlainMessage message) =>
        EnqueueAsync(new MailboxEntry(0, DeliveryKind.Plain, message.MessageId ?? "", message.From, message.StanzaType, message.Payload,
            null, ExpiresAt(), Answered: false, To: recipient, QueuedAt: time.GetUtcNow()));

    public Task AttachCarrierAsync(string gatewayId, IPeerLinkObserver carrier)
    {
        _carriers[gatewayId] = carrier;
        Pump();
        return Task.CompletedTask;
    }

    public async Task SentAsync(long[] seqs)
    {
        if (!IsOutstanding(seqs)) return;
        var sent = seqs.Where(_queue.ContainsKey).ToArray();
        foreach (var seq in sent)
        {
            if (_queue[seq] is { Kind: DeliveryKind.Mms } mms) events.Relayed(mms.From, mms.MessageId, mms.To ?? "", Domain, outbound: true);
            Remove(seq);
        }
        if (_failures > 0) logger.LogInformation("Link to {Peer} works again", Domain);
        _outstanding = [];
        _failures = 0;
        _retryAt = 0;
        // The next batch goes out while the rows of this one are deleted (in one commit of the store's writer): should
        // this activation die first, they are sent again from the store and the peer, deduplicating, ignores them.
        Pump();
        await Task.WhenAll(sent.Select(seq => store.RemoveAsync(Owner, seq)));
    }

    public async Task SendFailedAsync(long[] seqs, string reason)
    {
        if (!IsOutstanding(seqs)) return;
        _outstanding = [];
        _failures++;
        var pause = TimeSpan.FromSeconds(Math.Min(Options.MaxRetrySeconds, Math.Pow(2, Math.Min(_failures - 1, 16))));
        _retryAt = time.GetTimestamp() + (long)(pause.TotalSeconds * time.TimestampFrequency);
        logger.LogWarning("Link to {Peer}: {Count} items not handed over ({Reason}); attempt {Attempt} again in {Pause}",
            Domain, seqs.Length, reason, _failures + 1, pause);
        await GiveUpOnOldItemsAsync();
        EnsureTimer();
    }

    public async Task PeerRemovedAsync()
    {
        if (_queue.Count > 0) logger.LogWarning("Link to {Peer}: the peer was removed with {Count} items queued; they fail now", Domain, _queue.Count);
        _outstanding = [];
        await GiveUpAsync(_queue.Values.ToArray(), "the peer was removed");
    }

    private bool IsOutstanding(long[] seqs) => _outstanding.Length > 0 && seqs.Length > 0 && _outstanding[0] == seqs[0];

    private async Task EnqueueAsync(MailboxEntry entry)
    {
        var seq = await store.AppendAsync(Owner, entry);
        Add(entry with { Seq = seq });
        EnsureTimer();
        Pump();
    }

    private void Add(MailboxEntry entry)
    {
        _queue.Add(entry.Seq, entry);
        if (entry.Kind == DeliveryKind.Mms) _queuedMms.Add((entry.From, entry.MessageId, entry.To ?? ""));
    }

    private void Remove(long seq)
    {
        if (!_queue.Remove(seq, out var entry)) return;
        if (entry.Kind == DeliveryKind.Mms) _queuedMms.Remove((entry.From, entry.MessageId, entry.To ?? ""));
    }

    private DateTimeOffset ExpiresAt() => time.GetUtcNow().AddSeconds(Math.Max(Options.GiveUpSeconds, mailboxOptions.Value.TtlSeconds));

    /// <summary>Hands the head of the queue to a live carrier, unless a batch is out or a retry is not due.</summary>
    private void Pump()
    {
        var now = time.GetTimestamp();
        if (_outstanding.Length > 0)
        {
            if (now - _outstandingSince < Options.CarrierTimeoutSeconds * time.TimestampFrequency) return;
            logger.LogWarning("Link to {Peer}: gateway {Gateway} did not report on {Count} items; handing them out again", Domain, _carrier, _outstanding.Length);
            _carriers.Remove(_carrier ?? "");
            _outstanding = [];
        }
        if (_queue.Count == 0 || now < _retryAt || _givingUp > 0) return;
        if (PickCarrier() is not { } carrier) return;
        var batch = _queue.Values.Take(Options.MaxBatch).ToArray();
        _outstanding = batch.Select(e => e.Seq).ToArray();
        _outstandingSince = now;
        carrier.SendAsync(Domain, batch.Select(ToItem).ToArray()).Ignore();
    }

    private IPeerLinkObserver? PickCarrier()
    {
        foreach (var gone in _carriers.Keys.Where(gateways.IsGone).ToArray()) _carriers.Remove(gone);
        if (_carriers.Count == 0) return null;
        // The same gateway while it works; the next one after a failure, so that one broken gateway does not stall the link.
        if (_carrier is null || !_carriers.ContainsKey(_carrier) || _failures > 0)
        {
            var ids = _carriers.Keys.Order(StringComparer.Ordinal).ToList();
            _carrier = ids[(ids.IndexOf(_carrier ?? "") + 1) % ids.Count];
        }
        return _carriers[_carrier];
    }

    private static RelayItem ToItem(MailboxEntry e) =>
        new(e.Seq, e.Kind, e.MessageId, e.From, e.To ?? "", e.StanzaType, e.Payload, e.Properties, e.Attach);

    private Task GiveUpOnOldItemsAsync()
    {
        var cutoff = time.GetUtcNow().AddSeconds(-Options.GiveUpSeconds);
        return GiveUpAsync(_queue.Values.Where(e => (e.QueuedAt ?? e.ExpiresAt) <= cutoff).ToArray(), $"not accepted within {Options.GiveUpSeconds} s");
    }

    private async Task GiveUpAsync(MailboxEntry[] entries, string why)
    {
        // An enqueuing call interleaving with the awaits below must not hand out an item this is about to fail.
        _givingUp++;
        try
        {
            await GiveUpEachAsync(entries, why);
        }
        finally
        {
            _givingUp--;
        }
    }

    private async Task GiveUpEachAsync(MailboxEntry[] entries, string why)
    {
        foreach (var entry in entries)
        {
            if (entry.Kind == DeliveryKind.Mms)
            {
                logger.LogWarning("Link to {Peer}: MMS {MessageId} from {Sender} to {Recipient} {Why}: FAIL 6",
                    Domain, entry.MessageId, entry.From, entry.To, why);
                var fail = FailCode.PeerUnreachable.ToString(CultureInfo.InvariantCulture);
                if (entry.Group is null)
                {
                    await GrainFactory.User(entry.From).RelayAnswerAsync(entry.MessageId, MmsRules.FailType, fail,
                        time.GetUtcNow().AddSeconds(mailboxOptions.Value.TtlSeconds));
                }
                else
                {
                    await GrainFactory.Reference<IMessageGrain>(MessageKey.For(entry.From, entry.MessageId)).AnswerAsync(entry.To!, MmsRules.FailType, fail);
                }
            }
            else
            {
                logger.LogWarning("Link to {Peer}: {Kind} {MessageId} for {Recipient} dropped ({Why})", Domain, entry.Kind, entry.MessageId, entry.To, why);
            }
            await store.RemoveAsync(Owner, entry.Seq);
            Remove(entry.Seq);
        }
    }

    private void EnsureTimer()
    {
        if (_timer is not null) return;
        _timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)) { KeepAlive = true });
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (_queue.Count == 0)
        {
            _timer?.Dispose();
            _timer = null;
            return;
        }
        if (_failures > 0 || _carriers.Count == 0) await GiveUpOnOldItemsAsync();
        Pump();
    }
}
