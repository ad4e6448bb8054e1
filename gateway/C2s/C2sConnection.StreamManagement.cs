using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>XEP-0198 stream management: enable, acknowledgement requests and answers, resumption.</summary>
public sealed partial class C2sConnection
{
    private static readonly byte[] StreamManagementRequest = "<r xmlns='urn:xmpp:sm:3'/>"u8.ToArray();

    /// <summary>How long a resumption waits for the old connection's messages still being stored to be counted.</summary>
    private static readonly TimeSpan ResumeCountWait = TimeSpan.FromSeconds(5);

    private async ValueTask HandleStreamManagementAsync(XmlElement nonza)
    {
        switch (nonza.Name)
        {
            case "enable":
                await EnableStreamManagementAsync(nonza);
                break;
            case "r":
                if (Sm is { } sm) await AnswerAckRequestAsync(sm);
                else await SmFailedAsync("unexpected-request");
                break;
            case "a":
                await AcknowledgeAsync(nonza);
                break;
            case "resume":
                await ResumeAsync(nonza);
                break;
            default:
                await SmFailedAsync("feature-not-implemented");
                break;
        }
    }

    private async ValueTask EnableStreamManagementAsync(XmlElement enable)
    {
        if (Session is not { } session || session.StreamManagement is not null)
        {
            await SmFailedAsync("unexpected-request");
            return;
        }
        var resume = enable.Attribute("resume") is "true" or "1";
        var sm = new StreamManagement(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), resume, _services.Options.MaxUnacknowledgedStanzas);
        var enabled = new XmlElement("enabled", Namespaces.StreamManagement).SetAttribute("id", sm.Id);
        if (resume)
        {
            enabled.SetAttribute("resume", "true").SetAttribute("max", Format((uint)_services.Options.ResumeTimeoutSeconds));
            _services.Sessions.EnableResumption(session, sm.Id);
        }
        // The answer is written before counting starts, so <enabled/> is not itself counted.
        await SendNonzaAsync(enabled);
        session.StreamManagement = sm;
        Log.LogDebug("{FullJid}: stream management enabled (resume={Resume})", session.FullJid, resume);
    }

    private async ValueTask AcknowledgeAsync(XmlElement answer)
    {
        if (Sm is not { } sm) return;
        if (!uint.TryParse(answer.Attribute("h"), NumberStyles.None, CultureInfo.InvariantCulture, out var h))
            throw new XmppStreamException(StreamErrorCondition.BadFormat, "<a/> needs a numeric 'h'");
        await ApplyAcknowledgementAsync(sm, h);
    }

    private async ValueTask ApplyAcknowledgementAsync(StreamManagement sm, uint h)
    {
        var confirmed = new List<long>();
        if (!sm.Acknowledge(h, confirmed))
            throw new XmppStreamException(StreamErrorCondition.UndefinedCondition, "handled-count-too-high: more acknowledged than sent");
        if (confirmed.Count > 0) await Session!.ConfirmWrittenAsync(confirmed.ToArray());
    }

    /// <summary>
    /// XEP-0198 §5: after authentication, &lt;resume previd h/&gt; takes over a session of the same user that still waits
    /// (or whose old connection has not yet been found dead), then sends again what the client has not acknowledged.
    /// </summary>
    private async ValueTask ResumeAsync(XmlElement resume)
    {
        var previous = resume.Attribute("previd");
        if (Udn is null || Session is not null || previous is null ||
            !uint.TryParse(resume.Attribute("h"), NumberStyles.None, CultureInfo.InvariantCulture, out var h))
        {
            await SmFailedAsync("unexpected-request");
            return;
        }
        var session = _services.Sessions.FindResumable(previous);
        if (session is null || session.Udn != Udn || session.HasEnded || session.StreamManagement is not { } sm)
        {
            await SmFailedAsync("item-not-found");
            return;
        }
        if (session.Connection is { } old && !ReferenceEquals(old, this))
        {
            old._handedOver = true;
            _ = old.CloseAsync(StreamErrorCondition.Conflict, "the session was resumed on another connection");
        }
        Session = session;
        Domain = session.Domain;
        session.AttachConnection(this);
        // Messages the old connection read may still be being stored: the count the terminal is told includes them once
        // they are, rather than have them sent again.
        await sm.CountedAsync(ResumeCountWait, _services.Time);
        await SendNonzaAsync(new XmlElement("resumed", Namespaces.StreamManagement)
            .SetAttribute("previd", previous).SetAttribute("h", Format(sm.Handled)));
        await ApplyAcknowledgementAsync(sm, h);
        var resend = sm.Unacknowledged();
        using (var output = await _core.AcquireOutputAsync())
        {
            if (output.IsClosed) return;
            foreach (var stanza in resend) output.Writer.Write(stanza);
            if (resend.Length > 0) output.Writer.Write(StreamManagementRequest);
            await output.FlushAsync();
        }
        Log.LogInformation("{FullJid} resumed on connection {ConnectionId}; {Count} stanzas sent again", session.FullJid, Id, resend.Length);
    }

    private ValueTask SmFailedAsync(string condition)
    {
        var failed = new XmlElement("failed", Namespaces.StreamManagement);
        failed.Add(new XmlElement(condition, Namespaces.Stanzas));
        return SendNonzaAsync(failed);
    }

    private static string Format(uint value) => value.ToString(CultureInfo.InvariantCulture);
}
