using System.Collections;
using System.Globalization;

namespace Mmss.Grains.Diagnostics;

/// <summary>
/// The fields that let one connection or one message be followed through the logs of gateways and silos: the UDN, the
/// message id and the connection id, as a logging scope (<c>ILogger.BeginScope</c>). The JSON console formatter writes
/// them as named fields. One small object per connection or per message handled; a connection's scope learns its UDN
/// once SASL succeeds.
/// </summary>
public sealed class LogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private object? _connectionId;

    public string? Udn { get; set; }

    public string? MessageId { get; init; }

    public long? ConnectionId
    {
        init => _connectionId = value;
    }

    public static LogScope ForConnection(long connectionId) => new() { ConnectionId = connectionId };

    public static LogScope ForMessage(string udn, string messageId) => new() { Udn = udn, MessageId = messageId };

    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Udn", Udn),
        1 => new("MessageId", MessageId),
        2 => new("ConnectionId", _connectionId),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>What the simple console formatter prints with IncludeScopes.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Udn:{Udn ?? "-"} MessageId:{MessageId ?? "-"} ConnectionId:{_connectionId ?? "-"}");
}
