using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Bench;

/// <summary>
/// The ceiling the driver allows on this machine: a trivial "server" that logs users in (plain text, SASL PLAIN,
/// bind; nothing checked) and then copies every byte a user sends to its partner (b0 ↔ b1, b2 ↔ b3, …) without
/// parsing it. Round trips through it cost the driver what they cost against a real server and the server next to
/// nothing, so its figures bound what any server can show here.
/// </summary>
public sealed class Forwarder(BenchOptions options)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Stream>> _bound = new();

    public async Task RunAsync(CancellationToken stop)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Parse(options.Host), options.Port));
        listener.Listen(4096);
        Console.WriteLine($"forwarder listening on {options.Host}:{options.Port}");
        while (!stop.IsCancellationRequested)
        {
            var socket = await listener.AcceptAsync(stop);
            socket.NoDelay = true;
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream);
        string? user = null;
        try
        {
            user = await LogInAsync(reader, stream);
            if (user is null) return;
            _bound.GetOrAdd(user, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(stream);
            var partner = await _bound.GetOrAdd(Partner(user), _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            while (true)
            {
                var result = await reader.ReadAsync();
                foreach (var segment in result.Buffer) await partner.WriteAsync(segment);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) return;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or XmppStreamException)
        {
        }
        finally
        {
            if (user is not null) _bound.TryRemove(user, out _);
        }
    }

    /// <summary>Stream header, PLAIN, stream restart, bind; returns the user name, or null if the client left.</summary>
    private async Task<string?> LogInAsync(PipeReader reader, Stream stream)
    {
        var framer = new XmlStreamFramer(64 * 1024);
        NamespaceScope? scope = null;
        string? user = null;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            while (framer.TryReadToken(buffer, out var kind, out var end))
            {
                var token = buffer.Slice(0, end);
                buffer = buffer.Slice(end);
                if (kind == XmlTokenKind.StreamHeader)
                {
                    XmlParser.ParseStreamHeader(token, out scope);
                    await WriteAsync(stream, StreamHeader + (user is null
                        ? "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
                        : "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"));
                    continue;
                }
                if (kind != XmlTokenKind.Stanza || scope is null) continue;
                var stanza = XmlParser.ParseStanza(token, scope);
                if (stanza.Name == "auth")
                {
                    // PLAIN: authzid NUL authcid NUL password.
                    user = Encoding.UTF8.GetString(Convert.FromBase64String(stanza.Text)).Split('\0')[1];
                    await WriteAsync(stream, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
                    framer = new XmlStreamFramer(64 * 1024);
                }
                else if (stanza.Name == "iq" && user is not null)
                {
                    await WriteAsync(stream, $"<iq type='result' id='{stanza.Attribute("id")}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>{user}@{options.Domain}/bench</jid></bind></iq>");
                    reader.AdvanceTo(buffer.Start);
                    return user;
                }
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) return null;
        }
    }

    private string StreamHeader =>
        $"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='{options.Domain}' id='f'>";

    private static Task WriteAsync(Stream stream, string xml) => stream.WriteAsync(Encoding.UTF8.GetBytes(xml)).AsTask();

    /// <summary>b0 ↔ b1, b2 ↔ b3: the pairs the round-trip scenario forms.</summary>
    private string Partner(string user)
    {
        var index = int.Parse(user.AsSpan(options.UserPrefix.Length), System.Globalization.CultureInfo.InvariantCulture);
        return options.User(index ^ 1);
    }
}
