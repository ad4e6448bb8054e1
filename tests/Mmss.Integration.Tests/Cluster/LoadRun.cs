using System.Diagnostics;
using System.Text;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests.Cluster;

/// <summary>
/// A run of one-to-one MMS through a cluster while a test breaks something: pairs of terminals (sender, recipient)
/// spread over the gateways in every combination, the senders paced (a batch of <see cref="Batch"/> MMS and a ping every
/// <see cref="BatchInterval"/>; new MMS only while fewer than <see cref="Window"/> of its own await their ACK, as a terminal
/// that waits for answers; retries are never held back), the recipients answering every MMS with an ACK, and every
/// terminal logging in again through another gateway when its stream is lost — what handsets do.
/// <para>
/// A sender knows an MMS was <b>accepted</b> when the answer to the ping it sends after a batch arrives on the same
/// stream with no FAIL for it: the gateway handles a stream's stanzas in order and answers the ping only after the
/// submission was stored (or refused). Only then does the server own the MMS. An MMS whose stream was lost before that is
/// sent again with the same id (the server deduplicates); one refused with FAIL 9 (storage unavailable) is counted
/// <b>refused</b> and sent again a second later. An accepted MMS is never sent again during the run, so a lost one
/// cannot be hidden by a retry: <b>lost</b> = accepted and never delivered.
/// </para>
/// <para>
/// Deliveries are deduplicated by id on the receiving side. A repeat before the recipient's ACK is redelivery (allowed);
/// a repeat after the ACK was sent but before the server had recorded it (its stream or the silo died with it, so the
/// server writes the MMS again, as designed) is counted apart; a repeat arriving more than <see cref="DuplicateMargin"/>
/// after the <b>sender</b> received that ACK — proof the server had recorded it — is a <b>duplicate after ACK</b>.
/// </para>
/// <para>
/// Once every MMS is accepted the run waits for every delivery and every ACK. An ACK notice the server wrote to a stream
/// that died with its gateway is gone from the store (no XEP-0198 here); the spec's remedy is the terminal sending the
/// MMS again, which gets the answer again and is never delivered twice. The run does that, only for MMS already
/// delivered (so it cannot hide a loss) and unanswered for <see cref="AckRetryAfter"/>, and counts it.
/// </para>
/// </summary>
public sealed class LoadRun
{
    public static readonly TimeSpan DuplicateMargin = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan AckRetryAfter = TimeSpan.FromSeconds(12);

    private readonly MmssCluster _cluster;
    private readonly ITestOutputHelper _output;
    private readonly Dictionary<string, Tracked> _messages = [];
    private readonly Pair[] _pairs;
    private readonly object _lock = new();
    private readonly Stopwatch _clock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _events = [];
    private readonly List<Task> _terminalTasks = [];
    private long _accepted;
    private int _pairsDone;

    public LoadRun(MmssCluster cluster, ITestOutputHelper output, string prefix, int pairs, int messagesPerPair,
        int batch = 4, TimeSpan? batchInterval = null, int window = 24)
    {
        _cluster = cluster;
        _output = output;
        Prefix = prefix;
        MessagesPerPair = messagesPerPair;
        Batch = batch;
        BatchInterval = batchInterval ?? TimeSpan.FromMilliseconds(700);
        Window = window;
        _pairs = Enumerable.Range(0, pairs).Select(i => new Pair(this, i,
            new Terminal(this, $"{prefix}-s{i:D2}", i % cluster.Gateways.Count),
            new Terminal(this, $"{prefix}-r{i:D2}", i / cluster.Gateways.Count % cluster.Gateways.Count))).ToArray();
        foreach (var pair in _pairs)
        {
            for (var n = 0; n < messagesPerPair; n++)
            {
                var id = $"{prefix}-{pair.Index:D2}-{n:D4}";
                _messages[id] = new Tracked(id, pair);
            }
        }
    }

    public string Prefix { get; }
    public int MessagesPerPair { get; }
    public int Batch { get; }
    public TimeSpan BatchInterval { get; }
    public int Window { get; }
    public int Total => _messages.Count;
    public IEnumerable<string> Udns => _pairs.SelectMany(p => new[] { p.Sender.Udn, p.Recipient.Udn });
    public long Accepted => Interlocked.Read(ref _accepted);
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Something that happened (a kill, a restart), with the run's clock, for the figures.</summary>
    public void Note(string text)
    {
        lock (_events) _events.Add($"{Elapsed.TotalSeconds,6:F1}s {text}");
    }

    /// <summary>Logs every terminal in (through its home gateway) and starts the senders.</summary>
    public async Task StartAsync()
    {
        await _cluster.ProvisionUsersAsync(Udns);
        _clock.Start();
        _clockStart = Stopwatch.GetTimestamp();
        var terminals = _pairs.SelectMany(p => new[] { p.Sender, p.Recipient }).ToArray();
        foreach (var terminal in terminals) _terminalTasks.Add(terminal.RunAsync(_stop.Token));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Task.WhenAll(terminals.Select(t => t.WaitConnectedAsync(timeout.Token)));
        Note($"{terminals.Length} terminals logged in");
        foreach (var pair in _pairs) _terminalTasks.Add(pair.SendAllAsync(_stop.Token));
    }

    /// <summary>Waits until this share of all MMS has been accepted (the moment to break something).</summary>
    public async Task WaitForAcceptedAsync(double share, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (Accepted < share * Total)
        {
            if (deadline.Elapsed > timeout) throw new TimeoutException($"only {Accepted} of {Total} MMS accepted within {timeout.TotalSeconds:0}s\n{Summary()}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Waits until every MMS was delivered and its ACK reached its sender, or the deadline passes; then stops the
    /// terminals and returns the figures (also written to the test's output).
    /// </summary>
    public async Task<LoadFigures> FinishAsync(TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        var lastAckRetry = TimeSpan.Zero;
        while (clock.Elapsed < deadline)
        {
            var figures = Figures();
            if (figures.AllAccepted && figures.Delivered == Total && figures.AcksReceived == Total) break;
            if (figures.AllAccepted && clock.Elapsed - lastAckRetry > TimeSpan.FromSeconds(4))
            {
                lastAckRetry = clock.Elapsed;
                await RetryForLostAcksAsync();
            }
            await Task.Delay(100);
        }
        Note("finished waiting");
        await _stop.CancelAsync();
        foreach (var pair in _pairs)
        {
            await pair.Sender.DisposeClientAsync();
            await pair.Recipient.DisposeClientAsync();
        }
        try
        {
            await Task.WhenAll(_terminalTasks).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
        }
        var final = Figures();
        _output.WriteLine(final.ToString());
        return final;
    }

    /// <summary>The delivered MMS whose ACK the sender has not had for a while: sent again, the server answers again.</summary>
    private async Task RetryForLostAcksAsync()
    {
        var now = Stopwatch.GetTimestamp();
        List<Tracked> due;
        lock (_lock)
        {
            due = _messages.Values.Where(m => m is { AckReceivedAt: 0, RecipientAckSentAt: > 0 } &&
                                                Stopwatch.GetElapsedTime(m.RecipientAckSentAt, now) > AckRetryAfter &&
                                                (m.LastAckRetryAt == 0 || Stopwatch.GetElapsedTime(m.LastAckRetryAt, now) > AckRetryAfter))
                .ToList();
            foreach (var message in due)
            {
                message.LastAckRetryAt = now;
                message.AckRetries++;
            }
        }
        foreach (var message in due)
        {
            var client = message.Pair.Sender.Current;
            if (client is null) continue;
            try
            {
                await client.SendRawAsync(message.Stanza);
            }
            catch (Exception)
            {
                // the stream is gone: the next round tries again on the next one
            }
        }
    }

    public LoadFigures Figures()
    {
        lock (_lock)
        {
            var lost = _messages.Values.Where(m => m.AcceptedAt > 0 && m.Deliveries == 0).Select(m => m.Id).ToList();
            var logins = _pairs.Sum(p => p.Sender.Logins + p.Recipient.Logins);
            string[] events;
            lock (_events) events = [.. _events];
            return new LoadFigures(
                Prefix,
                Total,
                Submissions: _messages.Values.Sum(m => m.Submissions),
                AcceptedCount: _messages.Values.Count(m => m.AcceptedAt > 0),
                Refused: _messages.Values.Count(m => m.Refusals > 0),
                Refusals: _messages.Values.Sum(m => m.Refusals),
                Delivered: _messages.Values.Count(m => m.Deliveries > 0),
                RedeliveredBeforeAck: _messages.Values.Sum(m => m.RedeliveredBeforeAck),
                RedeliveredAfterUnrecordedAck: _messages.Values.Sum(m => m.RedeliveredAfterUnrecordedAck),
                DuplicatesAfterAck: _messages.Values.Sum(m => m.DuplicatesAfterAck),
                DuplicateIds: _messages.Values.Where(m => m.DuplicatesAfterAck > 0).Select(m => m.Id).Take(20).ToArray(),
                Lost: lost.Count,
                LostIds: lost.Take(20).ToArray(),
                AcksReceived: _messages.Values.Count(m => m.AckReceivedAt > 0),
                DuplicateAcks: _messages.Values.Sum(m => Math.Max(0, m.Acks - 1)),
                AcksAfterRetry: _messages.Values.Count(m => m.AckRetries > 0 && m.AckReceivedAt > 0),
                UnfinishedIds: _messages.Values.Where(m => m.Deliveries == 0 || m.AckReceivedAt == 0).Select(m => m.Id).Take(20).ToArray(),
                UnfinishedByPair: string.Join(", ", _messages.Values.Where(m => m.Deliveries == 0 || m.AckReceivedAt == 0)
                    .GroupBy(m => m.Pair.Index).OrderBy(g => g.Key).Select(g => $"{g.Key:D2}x{g.Count()}")),
                UnexpectedFails: _messages.Values.Sum(m => m.UnexpectedFails.Count),
                UnexpectedFailSamples: _messages.Values.SelectMany(m => m.UnexpectedFails.Select(f => $"{m.Id}: FAIL {f}")).Take(10).ToArray(),
                Relogins: logins - _pairs.Length * 2,
                Elapsed: Elapsed,
                Events: events);
        }
    }

    public string Summary() => Figures().ToString();

    /// <summary>What the run knows of one MMS, for a failure message.</summary>
    public string Describe(string id)
    {
        lock (_lock)
        {
            if (!_messages.TryGetValue(id, out var m)) return $"{id}: not of this run";
            string At(long t) => t == 0 ? "-" : $"{Stopwatch.GetElapsedTime(_clockStart, t).TotalSeconds:F1}s";
            return $"{id} ({m.Pair.Sender.Udn} -> {m.Pair.Recipient.Udn}): submissions {m.Submissions}, refusals {m.Refusals}, accepted {At(m.AcceptedAt)}, " +
                   $"first delivery {At(m.FirstDeliveryAt)}, deliveries {m.Deliveries}, ACK sent {At(m.RecipientAckSentAt)}, ACK received {At(m.AckReceivedAt)}, ACKs {m.Acks}";
        }
    }

    private long _clockStart;

    private void OnDelivery(Terminal recipient, XmlElement message)
    {
        var id = message.Attribute("id")!;
        var now = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (!_messages.TryGetValue(id, out var m) || m.Pair.Recipient != recipient) return;
            m.Deliveries++;
            if (m.Deliveries == 1) m.FirstDeliveryAt = now;
            else if (m.RecipientAckSentAt == 0) m.RedeliveredBeforeAck++;
            else if (m.AckReceivedAt != 0 && Stopwatch.GetElapsedTime(m.AckReceivedAt, now) > DuplicateMargin) m.DuplicatesAfterAck++;
            else m.RedeliveredAfterUnrecordedAck++;
            if (m.RecipientAckSentAt == 0) m.RecipientAckSentAt = now;
        }
    }

    private void OnAnswer(Terminal sender, XmlElement message, bool isAck)
    {
        var id = message.Attribute("id")!;
        lock (_lock)
        {
            if (!_messages.TryGetValue(id, out var m) || m.Pair.Sender != sender) return;
            if (isAck)
            {
                m.Acks++;
                if (m.AckReceivedAt == 0) m.AckReceivedAt = Stopwatch.GetTimestamp();
                m.Pair.AckArrived();
                return;
            }
            var code = Property(message, "ReturnCode");
            if (code == "9")
            {
                // storage unavailable: refused, not lost (after acceptance only an answer-retry can get one)
                m.Refusals++;
                if (m.AcceptedAt == 0) m.RefusedInAttempt = true;
            }
            else
            {
                m.UnexpectedFails.Add(code ?? "(no code)");
            }
        }
    }

    private sealed class Tracked(string id, Pair pair)
    {
        public string Id { get; } = id;
        public Pair Pair { get; } = pair;
        public string Stanza { get; } = Mms(id, pair.Recipient.Udn, $"load {id}");
        public int Submissions;
        public int Refusals;
        public bool RefusedInAttempt;
        public long AcceptedAt;
        public long FirstDeliveryAt;
        public int Deliveries;
        public int RedeliveredBeforeAck;
        public int RedeliveredAfterUnrecordedAck;
        public int DuplicatesAfterAck;
        public long RecipientAckSentAt;
        public long AckReceivedAt;
        public int Acks;
        public int AckRetries;
        public long LastAckRetryAt;
        public List<string> UnexpectedFails { get; } = [];
    }

    /// <summary>One sender and its recipient; the sender's loop.</summary>
    private sealed class Pair(LoadRun run, int index, Terminal sender, Terminal recipient)
    {
        private readonly SemaphoreSlim _ackSignal = new(0);

        public int Index { get; } = index;
        public Terminal Sender { get; } = sender;
        public Terminal Recipient { get; } = recipient;

        public void AckArrived()
        {
            if (_ackSignal.CurrentCount < 1000) _ackSignal.Release();
        }

        private int Outstanding()
        {
            lock (run._lock) return run._messages.Values.Count(m => m.Pair == this && m.AcceptedAt > 0 && m.AckReceivedAt == 0);
        }

        public async Task SendAllAsync(CancellationToken stop)
        {
            var fresh = new Queue<Tracked>(run._messages.Values.Where(m => m.Pair == this).OrderBy(m => m.Id, StringComparer.Ordinal));
            var retry = new List<(Tracked Message, long Due)>();
            var pings = 0;
            try
            {
                while (fresh.Count > 0 || retry.Count > 0)
                {
                    stop.ThrowIfCancellationRequested();
                    var started = Stopwatch.GetTimestamp();
                    var now = Stopwatch.GetTimestamp();
                    // Retries first and never held back; new MMS only while fewer than Window await their ACK.
                    var batch = retry.Where(r => r.Due <= now).Select(r => r.Message).Take(run.Batch).ToList();
                    retry.RemoveAll(r => batch.Contains(r.Message));
                    if (batch.Count == 0 && fresh.Count > 0 && Outstanding() >= run.Window)
                    {
                        await _ackSignal.WaitAsync(TimeSpan.FromMilliseconds(200), stop);
                        continue;
                    }
                    while (batch.Count < run.Batch && fresh.Count > 0 && Outstanding() < run.Window) batch.Add(fresh.Dequeue());
                    if (batch.Count == 0)
                    {
                        await Task.Delay(100, stop);
                        continue;
                    }

                    var (client, generation) = await Sender.WaitConnectedAsync(stop);
                    var ping = $"sync-{Index}-{++pings}";
                    var answered = Sender.ExpectPing(ping);
                    lock (run._lock)
                    {
                        foreach (var m in batch)
                        {
                            m.Submissions++;
                            m.RefusedInAttempt = false;
                        }
                    }
                    var confirmed = false;
                    try
                    {
                        var text = new StringBuilder();
                        foreach (var m in batch) text.Append(m.Stanza);
                        text.Append($"<iq type='get' id='{ping}'><ping xmlns='urn:xmpp:ping'/></iq>");
                        await client.SendRawAsync(text.ToString());
                        // The ping's answer, or the stream's end (the terminal logs in again: a new generation).
                        var lost = Sender.WaitDisconnectedAsync(generation);
                        confirmed = await Task.WhenAny(answered, lost).WaitAsync(stop) == answered;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                    }
                    Sender.ForgetPing(ping);
                    var retryAt = Stopwatch.GetTimestamp();
                    lock (run._lock)
                    {
                        foreach (var m in batch)
                        {
                            if (confirmed && !m.RefusedInAttempt)
                            {
                                m.AcceptedAt = Stopwatch.GetTimestamp();
                                Interlocked.Increment(ref run._accepted);
                            }
                            else
                            {
                                // refused (FAIL 9): a second later; stream lost before the answer: at once, on the next stream
                                retry.Add((m, retryAt + (m.RefusedInAttempt ? Stopwatch.Frequency : 0)));
                            }
                        }
                    }
                    var pause = run.BatchInterval - Stopwatch.GetElapsedTime(started);
                    if (pause > TimeSpan.Zero && (fresh.Count > 0 || retry.Count > 0)) await Task.Delay(pause, stop);
                }
                if (Interlocked.Increment(ref run._pairsDone) == run._pairs.Length) run.Note("every MMS accepted");
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// A terminal: logs in through its home gateway, or the next one that takes it, reads its stream, and logs in again
    /// (through the next gateway first) whenever the stream ends.
    /// </summary>
    private sealed class Terminal(LoadRun run, string udn, int home)
    {
        private readonly object _lock = new();
        private readonly Dictionary<string, TaskCompletionSource> _pings = [];
        private TaskCompletionSource<(XmppClient, int)> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private XmppClient? _client;
        private int _generation;

        public string Udn { get; } = udn;
        public int Home { get; } = home;
        public int Logins { get; private set; }

        public XmppClient? Current
        {
            get
            {
                lock (_lock) return _client;
            }
        }

        public async Task<(XmppClient Client, int Generation)> WaitConnectedAsync(CancellationToken cancellationToken)
        {
            Task<(XmppClient, int)> connected;
            lock (_lock) connected = _connected.Task;
            return await connected.WaitAsync(cancellationToken);
        }

        /// <summary>Completes when the stream of <paramref name="generation"/> has ended.</summary>
        public Task WaitDisconnectedAsync(int generation)
        {
            lock (_lock) return _generation == generation && _client is not null ? _disconnected.Task : Task.CompletedTask;
        }

        public Task ExpectPing(string id)
        {
            var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock) _pings[id] = answered;
            return answered.Task;
        }

        public void ForgetPing(string id)
        {
            lock (_lock) _pings.Remove(id);
        }

        public async Task DisposeClientAsync()
        {
            XmppClient? client;
            lock (_lock) client = _client;
            if (client is not null) await client.DisposeAsync();
        }

        public async Task RunAsync(CancellationToken stop)
        {
            var gateways = run._cluster.Gateways;
            var next = Home;
            while (!stop.IsCancellationRequested)
            {
                XmppClient client;
                var gateway = gateways[next % gateways.Count];
                try
                {
                    client = await MmssCluster.LoginAsync(gateway, Udn);
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    next++; // that gateway is down or not serving: the next one
                    try
                    {
                        await Task.Delay(100, stop);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                    continue;
                }
                catch (Exception)
                {
                    return;
                }
                int generation;
                lock (_lock)
                {
                    _client = client;
                    generation = ++_generation;
                    Logins++;
                    _disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _connected.TrySetResult((client, generation));
                }
                if (Logins > 1) run.Note($"{Udn} logged in again through {gateway}");
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var element = await client.ReadAsync(TimeSpan.FromHours(1));
                        if (element is null) break;
                        await HandleAsync(client, element);
                    }
                }
                catch (Exception)
                {
                    // the stream is gone (a killed gateway, a closed stream): log in again
                }
                lock (_lock)
                {
                    _client = null;
                    _connected = new TaskCompletionSource<(XmppClient, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _disconnected.TrySetResult();
                }
                await client.DisposeAsync();
                next++; // the other gateway first: this one may be gone
            }
        }

        private async Task HandleAsync(XmppClient client, XmlElement element)
        {
            if (element.Name == "iq")
            {
                var id = element.Attribute("id");
                if (element.Attribute("type") == "get" && id is not null)
                {
                    // the server's keepalive ping (XEP-0199)
                    await client.SendRawAsync($"<iq type='result' id='{id}' to='{element.Attribute("from") ?? MmssCluster.Domain}'/>");
                    return;
                }
                TaskCompletionSource? ping;
                lock (_lock) _pings.TryGetValue(id ?? "", out ping);
                ping?.TrySetResult();
                return;
            }
            if (element.Name != "message" || element.Attribute("id") is not { } messageId) return;
            var from = element.Attribute("from") ?? "";
            if (from.StartsWith("ACK@", StringComparison.OrdinalIgnoreCase))
            {
                run.OnAnswer(this, element, isAck: true);
            }
            else if (from.StartsWith("FAIL@", StringComparison.OrdinalIgnoreCase))
            {
                run.OnAnswer(this, element, isAck: false);
            }
            else if (Property(element, "MsgType") == "1")
            {
                run.OnDelivery(this, element);
                try
                {
                    await client.SendRawAsync(Ack(messageId));
                }
                catch (Exception)
                {
                    // the stream died: the MMS stays unanswered and comes again after the next login
                }
            }
        }
    }
}

/// <summary>The outcome of a <see cref="LoadRun"/>.</summary>
public sealed record LoadFigures(
    string Run,
    int Sent,
    int Submissions,
    int AcceptedCount,
    int Refused,
    int Refusals,
    int Delivered,
    int RedeliveredBeforeAck,
    int RedeliveredAfterUnrecordedAck,
    int DuplicatesAfterAck,
    string[] DuplicateIds,
    int Lost,
    string[] LostIds,
    int AcksReceived,
    int DuplicateAcks,
    int AcksAfterRetry,
    string[] UnfinishedIds,
    string UnfinishedByPair,
    int UnexpectedFails,
    string[] UnexpectedFailSamples,
    int Relogins,
    TimeSpan Elapsed,
    string[] Events)
{
    public bool AllAccepted => AcceptedCount == Sent;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine($"run {Run}: sent {Sent} MMS ({Submissions} submissions), accepted {AcceptedCount}, refused {Refused} (FAIL 9 x{Refusals}), " +
                        $"delivered {Delivered}, duplicates after ACK {DuplicatesAfterAck}, lost {Lost}, ACKs received {AcksReceived} " +
                        $"({AcksAfterRetry} after the terminal sent the MMS again), in {Elapsed.TotalSeconds:F1}s");
        text.AppendLine($"  redeliveries before the ACK {RedeliveredBeforeAck}, redeliveries after an ACK the server had not recorded {RedeliveredAfterUnrecordedAck}, " +
                        $"answers received twice {DuplicateAcks}, unexpected FAILs {UnexpectedFails}, logins again {Relogins}");
        if (LostIds.Length > 0) text.AppendLine($"  lost: {string.Join(", ", LostIds)}");
        if (UnfinishedByPair.Length > 0) text.AppendLine($"  not delivered or not answered, by pair: {UnfinishedByPair}");
        if (DuplicateIds.Length > 0) text.AppendLine($"  duplicated after ACK: {string.Join(", ", DuplicateIds)}");
        if (UnexpectedFailSamples.Length > 0) text.AppendLine($"  unexpected: {string.Join(", ", UnexpectedFailSamples)}");
        foreach (var e in Events) text.AppendLine("  " + e);
        return text.ToString();
    }
}
