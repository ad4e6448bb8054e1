using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>
/// What every way of logging in shares — SASL, XEP-0078 legacy authentication — and what may happen before it: the
/// throttles, the per-connection failure count, the iqs allowed before authentication.
/// </summary>
public sealed partial class C2sConnection
{
    /// <summary>Passwords may be sent: the stream is encrypted, or the operator allowed plaintext (labs).</summary>
    public bool CredentialsMayTravel => IsSecure || _services.Options.AllowPlaintext;

    public Task<bool> IsAddressThrottledAsync() => _services.Throttle.IsAddressBlockedAsync(RemoteAddress);

    public Task<bool> IsUserThrottledAsync(string udn) => _services.Throttle.IsUserBlockedAsync(udn, RemoteAddress);

    /// <summary>Records a failed login cluster-wide; past the per-connection limit the stream ends with not-authorized.</summary>
    /// <param name="method">the SASL mechanism, iq-auth or register, as metrics and events name it</param>
    /// <param name="condition">the SASL failure or stanza error condition sent</param>
    public async ValueTask CountAuthFailureAsync(string? username, string method, string condition)
    {
        await _services.Throttle.RecordFailureAsync(RemoteAddress, username, method, condition);
        if (++_authFailures >= _services.Options.MaxAuthAttemptsPerConnection)
            throw new XmppStreamException(StreamErrorCondition.NotAuthorized, "too many failed authentication attempts");
    }

    /// <summary>The stream now belongs to <paramref name="udn"/>.</summary>
    public void Authenticated(string udn, string method)
    {
        Udn = udn;
        Log.LogInformation("{Udn} authenticated from {Address} with {Mechanism} on connection {ConnectionId}", udn, RemoteAddress, method, Id);
        Diagnostics.GatewayMetrics.LoggedIn(method);
        _logScope.Udn = udn;
    }

    private bool IsPreAuthenticationIq(XmlElement stanza) =>
        stanza.Name == "iq" && stanza.Namespace == Namespaces.Client && stanza.FirstElement() is { } payload &&
        _services.IqRouter.Find(payload) is { AllowedBeforeAuthentication: true };
}
