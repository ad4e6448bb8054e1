using System.IO.Compression;
using System.Text;
using Mmss.Protocol.Client;

namespace Mmss.Protocol.Tests;

/// <summary>The test client's XEP-0138 layer: every flush is a sync flush, so each stanza can be decoded on its own.</summary>
public class ZlibDuplexStream_Tests
{
    [Fact]
    public async Task Each_flushed_write_inflates_completely_before_the_stream_ends()
    {
        var wire = new MemoryStream();
        var compressed = new ZlibDuplexStream(wire);
        var inflated = new List<string>();
        long decodedUpTo = 0;
        var reader = new MemoryStream();
        await using var inflater = new ZLibStream(reader, CompressionMode.Decompress);
        foreach (var stanza in new[] { "<message id='1'><body>one</body></message>", "<message id='2'><body>two</body></message>" })
        {
            await compressed.WriteAsync(Encoding.UTF8.GetBytes(stanza));
            await compressed.FlushAsync();
            // Hand the inflater only what is on the wire so far: it must yield the whole stanza without more.
            var position = reader.Position;
            reader.Seek(0, SeekOrigin.End);
            reader.Write(wire.GetBuffer(), (int)decodedUpTo, (int)(wire.Length - decodedUpTo));
            reader.Position = position;
            decodedUpTo = wire.Length;
            var buffer = new byte[stanza.Length];
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await inflater.ReadAsync(buffer.AsMemory(read));
                Assert.True(n > 0, $"only {read} of {buffer.Length} bytes decodable after the flush");
                read += n;
            }
            inflated.Add(Encoding.UTF8.GetString(buffer));
        }
        Assert.Equal(["<message id='1'><body>one</body></message>", "<message id='2'><body>two</body></message>"], inflated);
        Assert.Equal(compressed.CompressedBytesWritten, wire.Length);
        Assert.Equal(84, compressed.PlainBytesWritten);
    }
}
