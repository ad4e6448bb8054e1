namespace Mmss.Gateway.Configuration;

/// <summary>What a connection sending faster than Mmss:C2s:MaxStanzasPerSecond gets.</summary>
public enum StanzaRatePolicy
{
    /// <summary>Its stream is not read until it is back under the rate: TCP backpressure slows the sender, no one else.</summary>
    Slow,

    /// <summary>Its stream ends with policy-violation.</summary>
    Cut,
}
