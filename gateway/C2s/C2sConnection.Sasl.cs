using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>SASL negotiation (RFC 6120 §6) with failure counting and throttling.</summary>
public sealed partial class C2sConnection
{
    private async ValueTask HandleSaslAsync(XmlElement stanza)
    {
        if (Udn is not null) throw new XmppStreamException(StreamErrorCondition.PolicyViolation, "already authenticated");
        SaslStep step;
        switch (stanza.Name)
        {
            case "auth":
                if (!IsSecure && !_services.Options.AllowPlaintext)
                {
                    await SaslFailureAsync(SaslFailure.EncryptionRequired, "authentication before STARTTLS", null, countsAsFailure: false);
                    return;
                }
                if (await IsAddressThrottledAsync())
                {
                    await SaslFailureAsync(SaslFailure.TemporaryAuthFailure, "too many failures from this address", null, countsAsFailure: false);
                    return;
                }
                var mechanism = stanza.Attribute("mechanism");
                _sasl = SaslMechanisms.Create(mechanism, _services.Credentials.LookupAsync, Domain, _services.Domains.All);
                if (_sasl is null)
                {
                    await SaslFailureAsync(SaslFailure.InvalidMechanism, $"mechanism '{mechanism}' is not offered", null, countsAsFailure: true);
                    return;
                }
                if (!TryDecode(stanza.Text, out var initial))
                {
                    await SaslFailureAsync(SaslFailure.IncorrectEncoding, "initial response is not base64", null, countsAsFailure: true);
                    return;
                }
                step = await _sasl.StepAsync(initial, isInitial: true);
                break;
            case "response":
                if (_sasl is null)
                {
                    await SaslFailureAsync(SaslFailure.MalformedRequest, "<response/> without <auth/>", null, countsAsFailure: true);
                    return;
                }
                if (!TryDecode(stanza.Text, out var response))
                {
                    await SaslFailureAsync(SaslFailure.IncorrectEncoding, "response is not base64", null, countsAsFailure: true);
                    return;
                }
                step = await _sasl.StepAsync(response, isInitial: false);
                break;
            case "abort":
                _sasl = null;
                await SaslFailureAsync(SaslFailure.Aborted, "client aborted", null, countsAsFailure: false);
                return;
            default:
                await SaslFailureAsync(SaslFailure.MalformedRequest, $"<{stanza.Name}/> is not a SASL element", null, countsAsFailure: true);
                return;
        }

        switch (step.Kind)
        {
            case SaslStepKind.Challenge:
                await WriteSaslAsync("challenge", step.Data);
                return;
            case SaslStepKind.Failure:
                await SaslFailureAsync(step.Failure, step.Reason ?? "failed", step.Username, countsAsFailure: true);
                return;
        }

        var udn = step.Username!;
        if (await _services.Throttle.IsUserBlockedAsync(udn, RemoteAddress))
        {
            await SaslFailureAsync(SaslFailure.TemporaryAuthFailure, "too many recent failures for this user", udn, countsAsFailure: false);
            return;
        }
        Authenticated(udn, _sasl!.Name);
        _sasl = null;
        await WriteSaslAsync("success", step.Data);
        RestartStream();
    }

    private async ValueTask SaslFailureAsync(SaslFailure failure, string reason, string? username, bool countsAsFailure)
    {
        var mechanism = _sasl?.Name ?? "none";
        _sasl = null;
        Log.LogWarning("Authentication failed for {Username} from {Address} on connection {ConnectionId}: {Condition} ({Reason})",
            username ?? "(unknown)", RemoteAddress, Id, failure.ToElementName(), reason);
        var failureXml = new XmlElement("failure", Namespaces.Sasl);
        failureXml.Add(new XmlElement(failure.ToElementName(), Namespaces.Sasl));
        await SendNonzaAsync(failureXml);
        if (countsAsFailure) await CountAuthFailureAsync(username, mechanism, failure.ToElementName());
    }

    private ValueTask WriteSaslAsync(string name, byte[]? data)
    {
        var element = new XmlElement(name, Namespaces.Sasl);
        // RFC 6120 §6.4.2: a challenge with no data is sent as "="; success without data is empty.
        if (data is { Length: > 0 }) element.AddText(Convert.ToBase64String(data));
        else if (name == "challenge") element.AddText("=");
        return SendNonzaAsync(element);
    }

    private static bool TryDecode(string text, out byte[] data)
    {
        text = text.Trim();
        if (text.Length == 0 || text == "=")
        {
            data = [];
            return true;
        }
        data = new byte[text.Length * 3 / 4 + 3];
        if (Convert.TryFromBase64String(text, data, out var written))
        {
            data = data[..written];
            return true;
        }
        return false;
    }
}
