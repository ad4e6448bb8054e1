using System.Security.Cryptography;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;
using Mmss.Protocol.Client;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;
using Xunit.Abstractions;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>
/// XEP-0138 zlib stream compression with a client that really compresses: offered after authentication, MMS and ACK
/// over it, decompression bombs ended with policy-violation. The server's stanza limit here is 64 KiB.
/// </summary>
[Collection(ServerCollection.Name)]
public class Compression_Tests(ServerFixture fixture, ITestOutputHelper output)
{
    private EmbeddedServer Server => fixture.Server;

    /// <summary>Authenticates, compresses, binds: the order XEP-0138 §4 gives.</summary>
    private async Task<XmppClient> CompressedLoginAsync(string udn, string password, string resource)
    {
        var client = await XmppClient.AuthenticatedAsync(Server.Host, Server.C2sPort, Server.Host, EmbeddedServer.Mechanism("SCRAM-SHA-1", udn, password));
        var compression = client.Features!.Element("compression", Namespaces.CompressFeature);
        Assert.NotNull(compression);
        Assert.Contains(compression.Elements, m => m.Name == "method" && m.Text == "zlib");
        var answer = await client.CompressAsync(Server.Host);
        Assert.Equal(("compressed", Namespaces.Compress), (answer.Name, answer.Namespace));
        Assert.NotNull(client.Compression);
        await client.BindAsync(resource);
        return client;
    }

    /// <summary>An MMS as a handset sends it: a JPEG thumbnail (entropy-coded, so near-random bytes) in base64 in the body.</summary>
    private static string MmsWithThumbnail(string id, string to, int thumbnailBytes)
    {
        var thumbnail = new byte[thumbnailBytes];
        new Random(7).NextBytes(thumbnail);
        return Mms(id, to, "Unit 12 at the north gate, photo attached").Replace("dGh1bWJuYWls", Convert.ToBase64String(thumbnail));
    }

    [Fact]
    public async Task Two_compressed_terminals_exchange_an_mms_with_a_thumbnail_and_its_ack()
    {
        var (mo, mt) = await Server.ProvisionPairAsync("7731");
        await using var sender = await CompressedLoginAsync(mo, "pw", "zlib-mo");
        await using var recipient = await CompressedLoginAsync(mt, "pw", "zlib-mt");
        var mms = MmsWithThumbnail("zlib-1", mt, thumbnailBytes: 6 * 1024);

        var (plainBefore, compressedBefore) = (sender.Compression!.PlainBytesWritten, sender.Compression.CompressedBytesWritten);
        await sender.SendRawAsync(mms);
        var plain = sender.Compression.PlainBytesWritten - plainBefore;
        var compressed = sender.Compression.CompressedBytesWritten - compressedBefore;

        var received = await recipient.ReadUntilAsync(e => IsMessage(e, "zlib-1"));
        Assert.Equal("Unit 12 at the north gate, photo attached", Property(received, "MsgText"));
        Assert.Equal(XmlParser.ParseStanza(Encoding.UTF8.GetBytes(mms), new NamespaceScope(Namespaces.Client)).Element("body", Namespaces.Client)!.Text,
            received.Element("body", Namespaces.Client)!.Text);
        await recipient.SendRawAsync(Ack("zlib-1"));
        var ack = await sender.ReadUntilAsync(e => IsMessage(e, "zlib-1") && e.Attribute("from")!.StartsWith("ACK@", StringComparison.Ordinal));
        Assert.Equal("1", Property(ack, "ReturnCode"));

        // The figures README quotes: base64 of entropy-coded bytes carries 6 bits in 8, which is most of what zlib can take.
        var ratio = (double)compressed / plain;
        output.WriteLine($"MMS with a 6 KiB thumbnail: {plain} bytes, {compressed} compressed ({ratio:P0})");
        Assert.Equal(mms.Length, plain);
        Assert.InRange(ratio, 0.70, 0.85);

        // A sync flush keeps the dictionary, so the next MMS's Jive markup costs little: a text-only one shrinks far more.
        (plainBefore, compressedBefore) = (sender.Compression.PlainBytesWritten, sender.Compression.CompressedBytesWritten);
        await sender.SendRawAsync(Mms("zlib-2", mt, "Unit 12 leaving the north gate"));
        var textRatio = (double)(sender.Compression.CompressedBytesWritten - compressedBefore) / (sender.Compression.PlainBytesWritten - plainBefore);
        output.WriteLine($"Next MMS without thumbnail: {sender.Compression.PlainBytesWritten - plainBefore} bytes, " +
                         $"{sender.Compression.CompressedBytesWritten - compressedBefore} compressed ({textRatio:P0})");
        Assert.InRange(textRatio, 0.0, 0.4);
        await recipient.ReadUntilAsync(e => IsMessage(e, "zlib-2"));
        await recipient.SendRawAsync(Ack("zlib-2"));
        await sender.ReadUntilAsync(e => IsMessage(e, "zlib-2") && e.Attribute("from")!.StartsWith("ACK@", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Compression_before_authentication_is_refused_and_the_stream_goes_on()
    {
        await using var client = await XmppClient.ConnectAsync(Server.Host, Server.C2sPort);
        await client.OpenStreamAsync(Server.Host);
        await client.StartTlsAsync(Server.Host);
        Assert.Null(client.Features!.Element("compression", Namespaces.CompressFeature));
        var answer = await client.CompressAsync(Server.Host);
        Assert.Equal(("failure", Namespaces.Compress), (answer.Name, answer.Namespace));
        Assert.NotNull(answer.Element("setup-failed", Namespaces.Compress));
        var success = await client.AuthenticateAsync(EmbeddedServer.Mechanism("PLAIN", "1101", "pw-1101"), Server.Host);
        Assert.Equal("success", success.Name);
    }

    [Fact]
    public async Task An_unknown_method_gets_unsupported_method()
    {
        await using var client = await XmppClient.AuthenticatedAsync(Server.Host, Server.C2sPort, Server.Host, EmbeddedServer.Mechanism("PLAIN", "1101", "pw-1101"));
        var answer = await client.CompressAsync(Server.Host, method: "lzw");
        Assert.NotNull(answer.Element("unsupported-method", Namespaces.Compress));
        Assert.StartsWith("1101@127.0.0.1/", await client.BindAsync("after-lzw"));
    }

    [Fact]
    public async Task A_little_compressed_whitespace_inflating_to_megabytes_ends_the_stream_with_policy_violation()
    {
        await using var client = await CompressedLoginAsync("1102", "pw-1102", "bomb-1");
        var spaces = new byte[1024 * 1024];
        spaces.AsSpan().Fill((byte)' ');
        var compression = client.Compression!;
        // Deflated in one go and flushed once: the server ends the stream part way through inflating it, and a write
        // still under way then would meet a closed connection rather than let the test read the stream error.
        try
        {
            for (var i = 0; i < 8; i++) await compression.WriteAsync(spaces);
            await compression.FlushAsync();
        }
        catch (IOException)
        {
            // The server closed first: what it said before closing is read below.
        }
        Assert.True(compression.CompressedBytesWritten < 64 * 1024, $"{compression.CompressedBytesWritten} compressed bytes");
        await client.ExpectStreamErrorAsync("policy-violation");
    }

    [Fact]
    public async Task A_compressed_stanza_that_inflates_past_the_stanza_limit_ends_the_stream_with_policy_violation()
    {
        await using var client = await CompressedLoginAsync("1102", "pw-1102", "bomb-2");
        // Random base64 barely compresses, so the ratio guard stays quiet: only the framer's limit, applied to the
        // inflated bytes, can stop this 96 KiB stanza.
        await client.SendRawAsync("<message to='1101@127.0.0.1'><body>" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(72 * 1024)) + "</body></message>");
        await client.ExpectStreamErrorAsync("policy-violation");
    }

    [Fact]
    public async Task A_corrupt_compressed_stream_ends_with_a_stream_error()
    {
        await using var client = await CompressedLoginAsync("1103", "pw-1103", "corrupt");
        // Bytes below the deflater: not a deflate block.
        await client.Compression!.Inner.WriteAsync(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff });
        await client.Compression.Inner.FlushAsync();
        await client.ExpectStreamErrorAsync("undefined-condition");
    }
}
