namespace Mmss.Protocol.Sasl;

/// <summary>The client side of a SASL exchange, used by the tests and the load tool.</summary>
public interface ISaslClientMechanism
{
    string Name { get; }

    /// <summary>The initial response sent with &lt;auth/&gt;, or null to wait for a challenge.</summary>
    byte[]? InitialResponse();

    byte[] Respond(byte[] challenge);

    /// <summary>Checks the server's additional data in &lt;success/&gt; (rspauth, SCRAM server signature).</summary>
    bool VerifySuccess(byte[]? additionalData);
}
