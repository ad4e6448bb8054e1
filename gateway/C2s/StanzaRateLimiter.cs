namespace Mmss.Gateway.C2s;

/// <summary>
/// One connection's token bucket of stanzas, in longs only (it is consulted once per stanza on the read loop): a credit
/// counted in stanza-ticks, refilled by <c>perSecond</c> units per timestamp tick, one stanza costing a second's ticks.
/// </summary>
public sealed class StanzaRateLimiter
{
    private readonly long _perSecond;
    private readonly long _cost;
    private readonly long _capacity;
    private long _credit;
    private long _last;

    /// <param name="perSecond">at least 1</param>
    /// <param name="frequency">ticks per second of the timestamps given (TimeProvider.TimestampFrequency)</param>
    public StanzaRateLimiter(int perSecond, int burst, long frequency, long now)
    {
        _perSecond = perSecond;
        _cost = frequency;
        _capacity = burst * frequency;
        _credit = _capacity;
        _last = now;
    }

    /// <summary>Takes one stanza's token; returns the ticks to wait before the stanza is within the rate (0: at once).</summary>
    public long Take(long now)
    {
        // Bounded before multiplying: a long idle connection must not overflow the credit.
        var elapsed = Math.Clamp(now - _last, 0, _capacity / _perSecond);
        _last = now;
        _credit = Math.Min(_capacity, _credit + elapsed * _perSecond) - _cost;
        return _credit >= 0 ? 0 : (-_credit + _perSecond - 1) / _perSecond;
    }
}
