namespace Mmss.Protocol.Sasl;

/// <summary>The server side of one SASL exchange (RFC 4422). One instance per authentication attempt.</summary>
public interface ISaslServerMechanism
{
    string Name { get; }

    /// <summary>Handles &lt;auth/&gt; (<paramref name="isInitial"/>, with the initial response, possibly empty) or a &lt;response/&gt;.</summary>
    ValueTask<SaslStep> StepAsync(ReadOnlyMemory<byte> clientData, bool isInitial);
}
