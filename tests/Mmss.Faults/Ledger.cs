using System.Collections.Concurrent;

namespace Mmss.Faults;

/// <summary>
/// Per message id, what the workload sent and what each terminal saw: copies, ACKs sent, answers. The verdict is
/// read from it after the run: every copy delivered exactly once after its ACK was recorded, every answer home.
/// </summary>
public sealed class Ledger
{
    /// <summary>FAIL codes with which the MMSS refuses an MMS at once (spec 7.5.3): nothing is stored, no copy is due.</summary>
    private static readonly HashSet<string> Refusals = ["1", "2", "6", "7", "8", "9"];

    private readonly ConcurrentDictionary<string, Message> _messages = new();
    private int _sent;

    public int SentCount => Volatile.Read(ref _sent);

    /// <summary>Copies that reached a terminal during the final check, after everything had been answered.</summary>
    public int LeftPending;

    /// <summary>MMS resent by a terminal after a reconnection because no answer had come (a real terminal's retry).</summary>
    public int Resent;

    public void Sent(string id, string sender, IReadOnlyList<string> recipients, bool toGroup)
    {
        _messages[id] = new Message(sender, recipients, toGroup);
        Interlocked.Increment(ref _sent);
    }

    /// <summary>The MMS went to its terminal (after its upload, for one with an attachment): its answer's latency starts here.</summary>
    public void Submitted(string id)
    {
        if (!_messages.TryGetValue(id, out var message)) return;
        lock (message) message.SubmittedAt ??= DateTime.UtcNow;
    }

    /// <summary>A copy reached <paramref name="recipient"/> on its connection number <paramref name="connection"/>.</summary>
    public void Delivered(string id, string recipient, int connection, bool finalCheck)
    {
        if (finalCheck) Interlocked.Increment(ref LeftPending);
        if (!_messages.TryGetValue(id, out var message)) return;
        lock (message)
        {
            var copy = message.Copy(recipient);
            copy.Count++;
            if (copy.Count == 1) return;
            // Proof that the recipient's ACK was recorded: the sender of a one-to-one MMS got it relayed; for a group,
            // the member ACKed on this same live connection (the MMSS read it) and the aggregated answer has gone out.
            var recorded = message.Answer is not null && copy.AckedOn is { } ackedOn
                           && (message.ToGroup ? ackedOn == connection : message.Answer.Value.Type == "2");
            if (recorded) copy.AfterAck++;
            else copy.BeforeAck++;
        }
    }

    public void AckSent(string id, string recipient, int connection)
    {
        if (!_messages.TryGetValue(id, out var message)) return;
        lock (message) message.Copy(recipient).AckedOn = connection;
    }

    /// <summary>An ACK or FAIL reached the sender: the first one is the message's answer, later ones (to retries) are counted.</summary>
    public void Answered(string id, string msgType, string? returnCode)
    {
        if (!_messages.TryGetValue(id, out var message)) return;
        lock (message)
        {
            message.Answers++;
            if (message.Answer is null) message.AnsweredAt = DateTime.UtcNow;
            message.Answer ??= (msgType, returnCode);
        }
    }

    /// <summary>Whether every message has its answer and every copy due has arrived: the workload has settled.</summary>
    public bool Settled() => _messages.Values.All(IsSettled);

    /// <summary>What is still missing, for a run that did not settle: up to <paramref name="count"/> messages, each with what it lacks.</summary>
    public List<string> Unsettled(int count) => _messages
        .Where(p => !IsSettled(p.Value))
        .Take(count)
        .Select(p =>
        {
            var m = p.Value;
            lock (m)
            {
                var missing = m.Recipients.Where(r => m.Copy(r).Count == 0).ToList();
                return $"{p.Key} from {m.Sender}: " + (m.Answer is null ? "no answer" : $"answered {m.Answer.Value.Type}") +
                       (m.Refused || missing.Count == 0 ? "" : $", no copy at {string.Join(", ", missing)}");
            }
        })
        .ToList();

    private static bool IsSettled(Message m)
    {
        lock (m) return m.Answer is not null && (m.Refused || m.Recipients.All(r => m.Copy(r).Count > 0));
    }

    /// <summary>The answers (ACK, FAIL n) of the messages whose ids match, by kind.</summary>
    public Dictionary<string, int> AnswersOf(Func<string, bool> ids)
    {
        var answers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (id, message) in _messages)
        {
            if (!ids(id)) continue;
            lock (message)
            {
                var key = message.Answer is not { } answer ? "none" : answer.Type == "2" ? "ACK" : $"FAIL {answer.Code}";
                answers[key] = answers.GetValueOrDefault(key) + 1;
            }
        }
        return answers;
    }

    /// <summary>Submission to first answer, in milliseconds, of the answered messages whose ids match, in order.</summary>
    public List<double> AnswerMilliseconds(Func<string, bool> ids)
    {
        var latencies = new List<double>();
        foreach (var (id, message) in _messages)
        {
            if (!ids(id)) continue;
            lock (message)
            {
                if (message is { SubmittedAt: { } submitted, AnsweredAt: { } answered }) latencies.Add((answered - submitted).TotalMilliseconds);
            }
        }
        latencies.Sort();
        return latencies;
    }

    /// <summary>What was sent so far and how it was answered, for a loop's own checks (the events an MMS should raise).</summary>
    public List<SentMessage> Snapshot(Func<string, bool> ids)
    {
        var sent = new List<SentMessage>();
        foreach (var (id, message) in _messages)
        {
            if (!ids(id)) continue;
            lock (message) sent.Add(new SentMessage(id, message.Sender, message.Recipients, message.ToGroup, message.Answer?.Type == "2",
                message.SubmittedAt, message.AnsweredAt));
        }
        return sent;
    }

    public FaultCounts Count(string fault)
    {
        var counts = new FaultCounts { Fault = fault };
        foreach (var (id, message) in _messages.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            lock (message)
            {
                counts.Sent++;
                if (message.Answer is { } answer)
                {
                    counts.AnswersReceived++;
                    var key = answer.Type == "2" ? "ACK" : $"FAIL {answer.Code}";
                    counts.AnswersByCode[key] = counts.AnswersByCode.GetValueOrDefault(key) + 1;
                    counts.AnswersRepeated += message.Answers - 1;
                }
                else
                {
                    counts.AnswersMissing++;
                }
                foreach (var recipient in message.Recipients)
                {
                    var copy = message.Copy(recipient);
                    if (message.Refused)
                    {
                        if (copy.Count == 0) continue;
                        counts.DeliveredThoughRefused++;
                        if (counts.DeliveredThoughRefused <= 5)
                        {
                            counts.Failures.Add($"{id} ({(message.ToGroup ? "to a group" : "one-to-one")}) answered FAIL {message.Answer!.Value.Code} " +
                                                $"but delivered to {recipient}");
                        }
                        continue;
                    }
                    counts.CopiesDue++;
                    if (copy.Count == 0)
                    {
                        counts.Lost++;
                        if (counts.Lost <= 5) counts.Failures.Add($"{id} ({(message.ToGroup ? "to a group" : "one-to-one")}) from {message.Sender} never reached {recipient}");
                    }
                    else
                    {
                        counts.Delivered++;
                    }
                    counts.RedeliveredBeforeAck += copy.BeforeAck;
                    if (copy.AfterAck > 0 && counts.DuplicatedAfterAck < 5)
                        counts.Failures.Add($"{id} ({(message.ToGroup ? "to a group" : "one-to-one")}) from {message.Sender} came again to {recipient} after its ACK was recorded");
                    counts.DuplicatedAfterAck += copy.AfterAck;
                }
            }
        }
        counts.LeftPending = LeftPending;
        counts.Resent = Resent;
        return counts;
    }

    private sealed class Message(string sender, IReadOnlyList<string> recipients, bool toGroup)
    {
        private readonly Dictionary<string, CopyState> _copies = [];

        public string Sender { get; } = sender;
        public IReadOnlyList<string> Recipients { get; } = recipients;
        public bool ToGroup { get; } = toGroup;
        public (string Type, string? Code)? Answer { get; set; }
        public int Answers { get; set; }
        public DateTime? SubmittedAt { get; set; }
        public DateTime? AnsweredAt { get; set; }
        public bool Refused => Answer is { Type: not "2" } answer && answer.Code is { } code && Refusals.Contains(code);

        public CopyState Copy(string recipient)
        {
            if (!_copies.TryGetValue(recipient, out var copy)) _copies[recipient] = copy = new CopyState();
            return copy;
        }
    }

    private sealed class CopyState
    {
        public int Count;
        public int BeforeAck;
        public int AfterAck;
        public int? AckedOn;
    }
}
