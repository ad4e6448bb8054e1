using System.Buffers;
using System.Security.Cryptography;
using Mmss.Gateway.Messaging;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s;

/// <summary>Everything the connection writes: stanzas, deliveries, the stream header and features.</summary>
public sealed partial class C2sConnection
{
    // With stream management every stanza is rendered here first and kept until the client acknowledges it. Made on
    // first use: most connections never enable stream management, and an idle one should hold no buffer.
    private ArrayBufferWriter<byte>? _scratchBuffer;

    private ArrayBufferWriter<byte> Scratch()
    {
        var scratch = _scratchBuffer ??= new ArrayBufferWriter<byte>(1024);
        scratch.ResetWrittenCount();
        return scratch;
    }

    /// <summary>Writes a stanza under the write lock, counting and keeping it when stream management is on (XEP-0198 §4).</summary>
    private void WriteStanzaLocked(IBufferWriter<byte> output, XmlElement element)
    {
        if (Sm is not { } sm)
        {
            XmlWriter.Write(output, element, Namespaces.Client);
            return;
        }
        XmlWriter.Write(Scratch(), element, Namespaces.Client);
        CommitLocked(output, sm, confirmSeq: 0);
    }

    private void WriteDeliveryLocked(IBufferWriter<byte> output, Delivery delivery, C2sSession session, ref List<long>? confirmNow)
    {
        // An MMS stays stored until the terminal's ACK/FAIL; the rest is done once written, or once acknowledged.
        var confirmSeq = delivery.Kind == DeliveryKind.Mms ? 0 : delivery.Seq;
        if (session.StreamManagement is not { } sm)
        {
            DeliveryRenderer.Write(output, delivery, session.Udn, session.Domain);
            if (confirmSeq != 0) (confirmNow ??= []).Add(confirmSeq);
            return;
        }
        DeliveryRenderer.Write(Scratch(), delivery, session.Udn, session.Domain);
        CommitLocked(output, sm, confirmSeq);
    }

    private void CommitLocked(IBufferWriter<byte> output, StreamManagement sm, long confirmSeq)
    {
        var stanza = _scratchBuffer!.WrittenSpan.ToArray();
        output.Write(stanza);
        sm.Sent(stanza, confirmSeq);
    }

    /// <summary>Writes deliveries for this connection's session (pushed by a user grain, or its backlog).</summary>
    public async Task WriteDeliveriesAsync(C2sSession session, Delivery[] deliveries)
    {
        List<long>? written = null;
        try
        {
            using (var output = await _core.AcquireOutputAsync())
            {
                if (output.IsClosed) return;
                foreach (var delivery in deliveries) WriteDeliveryLocked(output.Writer, delivery, session, ref written);
                if (session.StreamManagement is not null) output.Writer.Write(StreamManagementRequest);
                await output.FlushAsync();
                Diagnostics.GatewayMetrics.StanzaSent(deliveries.Length);
            }
            if (written is not null) await session.ConfirmWrittenAsync(written.ToArray());
        }
        catch (Exception e)
        {
            Log.LogInformation("{FullJid}: writing {Count} deliveries failed, they stay stored: {Reason}", session.FullJid, deliveries.Length, e.Message);
        }
    }

    /// <summary>Writes other resources' presence to this connection's session (RFC 6121 §4); never stored, so never confirmed.</summary>
    public async Task WritePresencesAsync(C2sSession session, PresenceUpdate[] presences)
    {
        try
        {
            using var output = await _core.AcquireOutputAsync();
            if (output.IsClosed) return;
            foreach (var presence in presences)
            {
                if (session.StreamManagement is { } sm)
                {
                    PresenceRenderer.Write(Scratch(), presence, session.FullJid, session.Domain);
                    CommitLocked(output.Writer, sm, confirmSeq: 0);
                }
                else PresenceRenderer.Write(output.Writer, presence, session.FullJid, session.Domain);
            }
            await output.FlushAsync();
        }
        catch (Exception e)
        {
            Log.LogDebug("{FullJid}: writing {Count} presences failed: {Reason}", session.FullJid, presences.Length, e.Message);
        }
    }

    /// <summary>FAIL straight back to the originator for a message refused on arrival (spec 7.5.2, project FAIL table).</summary>
    public async ValueTask SendFailAsync(string messageId, int failCode)
    {
        var notice = new Delivery(0, DeliveryKind.Notice, messageId, "FAIL", "chat", null,
            [new("MsgType", "3"), new("ReturnCode", failCode.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        using var output = await _core.AcquireOutputAsync();
        if (output.IsClosed) return;
        if (Sm is { } sm)
        {
            DeliveryRenderer.Write(Scratch(), notice, Udn!, Domain);
            CommitLocked(output.Writer, sm, confirmSeq: 0);
        }
        else DeliveryRenderer.Write(output.Writer, notice, Udn!, Domain);
        await output.FlushAsync();
        Diagnostics.GatewayMetrics.StanzaSent();
        Diagnostics.GatewayMetrics.MmsRefusedAtOnce(failCode);
    }

    /// <summary>XEP-0199 ping from the server to an idle terminal (spec 7.3).</summary>
    public async ValueTask SendKeepalivePingAsync()
    {
        PingSentAt = _services.Time.GetTimestamp();
        var iq = new XmlElement("iq", Namespaces.Client)
            .SetAttribute("type", "get")
            .SetAttribute("id", $"mmss-ping-{Interlocked.Increment(ref _pingCounter)}")
            .SetAttribute("from", Domain)
            .SetAttribute("to", FullJid);
        iq.AddElement("ping", Namespaces.Ping);
        await SendAsync(iq);
    }

    public async ValueTask SendAsync(XmlElement element)
    {
        using var output = await _core.AcquireOutputAsync();
        if (output.IsClosed) return;
        WriteStanzaLocked(output.Writer, element);
        await output.FlushAsync();
        Diagnostics.GatewayMetrics.StanzaSent();
    }

    /// <summary>Writes a non-stanza element (SASL, stream management): never counted, never kept.</summary>
    private async ValueTask SendNonzaAsync(XmlElement element) => await _core.SendAsync(element);

    private ValueTask WriteHeaderAsync() => _core.SendHeaderAsync();

    /// <summary>The id of our current stream header (XEP-0078 digests are computed over it); empty before the first.</summary>
    public string StreamId { get; private set; } = "";

    /// <summary>Our stream header, written by the core once per stream (and before a stream error that comes first).</summary>
    private void WriteHeader(IBufferWriter<byte> output)
    {
        StreamId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        XmlWriter.WriteRaw(output, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='"u8);
        XmlWriter.WriteString(output, StreamId);
        XmlWriter.WriteRaw(output, "' from='"u8);
        XmlWriter.WriteEscaped(output, Domain, escapeQuotes: true);
        XmlWriter.WriteRaw(output, "' version='1.0' xml:lang='en'>"u8);
    }

    private async ValueTask WriteFeaturesAsync()
    {
        var features = new List<XmlElement>();
        if (Udn is null)
        {
            if (!IsSecure)
            {
                var starttls = new XmlElement("starttls", Namespaces.Tls);
                if (!_services.Options.AllowPlaintext) starttls.AddElement("required");
                features.Add(starttls);
            }
            if (IsSecure || _services.Options.AllowPlaintext)
            {
                var mechanisms = new XmlElement("mechanisms", Namespaces.Sasl);
                foreach (var name in SaslMechanisms.Offered) mechanisms.AddElement("mechanism", text: name);
                features.Add(mechanisms);
                if (_services.Options.LegacyAuth) features.Add(new XmlElement("auth", Namespaces.IqAuthFeature));
            }
            // Spec 7.1.2 advertises it whatever the policy; with Off every registration is refused not-allowed.
            features.Add(new XmlElement("register", Namespaces.RegisterFeature));
        }
        else
        {
            features.Add(new XmlElement("bind", Namespaces.Bind));
            var session = new XmlElement("session", Namespaces.Session);
            session.AddElement("optional");
            features.Add(session);
            features.Add(new XmlElement("sm", Namespaces.StreamManagement));
            if (CompressionOffered) features.Add(CompressionFeature());
        }
        await _core.WriteAsync(features, static (output, features) =>
        {
            XmlWriter.WriteRaw(output, "<stream:features>"u8);
            foreach (var feature in features) XmlWriter.Write(output, feature, Namespaces.Client);
            XmlWriter.WriteRaw(output, "</stream:features>"u8);
        });
    }
}
