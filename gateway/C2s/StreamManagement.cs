namespace Mmss.Gateway.C2s;

/// <summary>
/// XEP-0198 state of one session: the count of stanzas handled from the client, and the stanzas sent to it that it
/// has not yet acknowledged, kept for resending on resumption. Counts wrap at 2^32 as the XEP says.
/// </summary>
public sealed class StreamManagement(string id, bool resumable, int maxUnacknowledged)
{
    private readonly Lock _lock = new();
    private readonly Queue<(uint Number, byte[] Stanza, long ConfirmSeq)> _unacknowledged = new();
    private uint _handled;
    private uint _sent;
    private uint _acknowledged;

    public string Id { get; } = id;

    public bool Resumable { get; } = resumable;

    public uint Handled
    {
        get
        {
            lock (_lock) return _handled;
        }
    }

    public void CountHandled()
    {
        lock (_lock) _handled++;
    }

    private volatile Task _counting = Task.CompletedTask;

    /// <summary>
    /// The last of the counts still to be made, in the order the stanzas were read (messages being routed, an &lt;r/&gt;
    /// answered after them); completed when none is. Set by the read loop of the connection holding the session.
    /// </summary>
    public Task Counting
    {
        get => _counting;
        set => _counting = value;
    }

    /// <summary>
    /// Completes once the counts under way are made, or after <paramref name="limit"/>: a session resumed on another
    /// connection tells the terminal what was handled, and the terminal sends again what it is not told of.
    /// </summary>
    public async Task CountedAsync(TimeSpan limit, TimeProvider time)
    {
        var counting = _counting;
        if (counting.IsCompleted) return;
        try
        {
            await counting.WaitAsync(limit, time);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>Records a stanza written (or queued while the session waits for resumption).</summary>
    /// <param name="confirmSeq">the mailbox entry to confirm once acknowledged; 0 for none.</param>
    public void Sent(byte[] stanza, long confirmSeq)
    {
        lock (_lock)
        {
            if (_unacknowledged.Count >= maxUnacknowledged)
                throw new Protocol.Xmpp.XmppStreamException(Protocol.Xmpp.StreamErrorCondition.PolicyViolation,
                    $"more than {maxUnacknowledged} stanzas unacknowledged");
            _sent++;
            _unacknowledged.Enqueue((_sent, stanza, confirmSeq));
        }
    }

    /// <summary>Applies the client's &lt;a h/&gt;; false when it acknowledges more than was sent.</summary>
    /// <param name="confirmed">mailbox entries whose stanzas are now acknowledged.</param>
    public bool Acknowledge(uint h, List<long> confirmed)
    {
        lock (_lock)
        {
            if (unchecked(h - _acknowledged) > unchecked(_sent - _acknowledged)) return false;
            while (_unacknowledged.Count > 0 && unchecked((int)(h - _unacknowledged.Peek().Number)) >= 0)
            {
                var acked = _unacknowledged.Dequeue();
                if (acked.ConfirmSeq != 0) confirmed.Add(acked.ConfirmSeq);
            }
            _acknowledged = h;
            return true;
        }
    }

    /// <summary>The stanzas not yet acknowledged, oldest first: what a resumed stream sends again.</summary>
    public byte[][] Unacknowledged()
    {
        lock (_lock) return _unacknowledged.Select(u => u.Stanza).ToArray();
    }
}
