using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Streams;
using Mmss.Protocol.Xmpp;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// XEP-0138 inflation: the input is what a client sends after &lt;compressed/&gt;, read by the gateway's own
/// <see cref="XmppStreamCore"/> once <see cref="XmppStreamCore.StartCompressionAsync"/> has put the
/// <see cref="InflatingStream"/> under its framer, with the default stanza limit and compression ratio.
/// Only <see cref="XmppStreamException"/> may come out (a corrupt stream is undefined-condition, a bomb
/// policy-violation, bad XML what the framer says). Invariant: the compression-bomb guard holds, i.e. between two
/// stanzas no more than <see cref="InflatingStream.AllowanceBytes"/> plus the ratio times the compressed bytes read
/// reach the framer; in total, (stanzas + 1) × allowance + ratio × compressed bytes.
/// </summary>
public sealed class ZlibTarget : FuzzTarget
{
    private static readonly C2sOptions Defaults = new();

    /// <summary>The core's input: a counting reader is put over the inflating one to see what reaches the framer.</summary>
    private static readonly FieldInfo CoreInput = typeof(XmppStreamCore).GetField("_input", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new MissingFieldException(nameof(XmppStreamCore), "_input");

    public override string Name => "zlib";

    public override IReadOnlyList<string> InstrumentedAssemblies => ["Mmss.Gateway.dll", "Mmss.Protocol.dll"];

    public override string Run(byte[] input)
    {
        var run = ReadAllAsync(input);
        if (!((IAsyncResult)run).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)))
            throw new InvariantException("reading the inflated stream did not finish within 10 s on an in-memory input");
        return run.GetAwaiter().GetResult();
    }

    private static async Task<string> ReadAllAsync(byte[] input)
    {
        var wire = new Pipe();
        await wire.Writer.WriteAsync(input);
        await wire.Writer.CompleteAsync();
        var compressed = new CountingPipeReader(wire.Reader);
        var output = new Pipe();
        var core = new XmppStreamCore(new DuplexPipe(compressed, output.Writer), Defaults.MaxStanzaBytes, Namespaces.Client, NullLogger.Instance);
        await core.StartCompressionAsync(Defaults.MaxCompressionRatio);
        var inflated = new CountingPipeReader((PipeReader)CoreInput.GetValue(core)!);
        CoreInput.SetValue(core, inflated);

        var stanzas = 0;
        var inflatedAtStanza = 0L;
        var compressedAtStanza = 0L;
        string ending;
        try
        {
            while (true)
            {
                var token = await core.ReadAsync();
                CheckBound(inflated.Seen - inflatedAtStanza, compressed.Seen - compressedAtStanza, $"after {stanzas} stanzas");
                if (token.Kind is StreamTokenKind.End or StreamTokenKind.Closed)
                {
                    ending = token.Kind.ToString();
                    break;
                }
                if (token.Kind == StreamTokenKind.Element)
                {
                    stanzas++;
                    (inflatedAtStanza, compressedAtStanza) = (inflated.Seen, compressed.Seen);
                }
            }
        }
        catch (XmppStreamException e)
        {
            ending = "stream error " + e.Condition.ToElementName();
        }
        CheckBound(inflated.Seen - inflatedAtStanza, compressed.Seen - compressedAtStanza, $"at the end, after {stanzas} stanzas");
        return $"{stanzas} stanzas, {ending}; {inflated.Seen} bytes inflated from {compressed.Seen}";
    }

    /// <summary>
    /// The guard counts from the stanza's token on, the framer may already hold the bytes after it: one read of the
    /// inflating pipe (4 KiB) of slack each way.
    /// </summary>
    private static void CheckBound(long inflatedSinceStanza, long compressedSinceStanza, string when)
    {
        const int readSlack = 2 * 4096;
        var bound = InflatingStream.AllowanceBytes + readSlack + (compressedSinceStanza + readSlack) * Defaults.MaxCompressionRatio;
        if (inflatedSinceStanza > bound)
        {
            throw new InvariantException(
                $"{inflatedSinceStanza} bytes inflated from {compressedSinceStanza} compressed since the last stanza ({when}): over the guard's {bound}");
        }
    }

    /// <summary>Passes everything through and counts the bytes handed out: consumed ones plus those still buffered.</summary>
    private sealed class CountingPipeReader(PipeReader inner) : PipeReader
    {
        private ReadOnlySequence<byte> _last;
        private long _consumed;

        /// <summary>Every byte this reader has returned so far.</summary>
        public long Seen { get; private set; }

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(cancellationToken));

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result)) return false;
            Count(result);
            return true;
        }

        private ReadResult Count(ReadResult result)
        {
            _last = result.Buffer;
            Seen = Math.Max(Seen, _consumed + result.Buffer.Length);
            return result;
        }

        public override void AdvanceTo(SequencePosition consumed)
        {
            _consumed += _last.Slice(0, consumed).Length;
            inner.AdvanceTo(consumed);
        }

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            _consumed += _last.Slice(0, consumed).Length;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    public override IEnumerable<string> Dictionary() =>
    [
        // zlib headers (levels 1, 6, 9, and 6 with a preset dictionary), the sync-flush marker, a stored block, the end of a
        // fixed-Huffman final block, an Adler-32 of nothing.
        "\x78\x01", "\x78\x9C", "\x78\xDA", "\x78\xBB", "\x00\x00\xFF\xFF", "\x01\x00\x00\xFF\xFF", "\x03\x00", "\x00\x00\x00\x01",
        "\xFF\xFF", "\x00\x00",
    ];

    /// <summary>zlib's tokens are bytes: each char of <see cref="Dictionary"/> is one byte (Latin-1).</summary>
    public override IEnumerable<byte[]> DictionaryBytes() => Dictionary().Select(Encoding.Latin1.GetBytes);

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        const string header =
            "<stream:stream to='20.20.20.99' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
        var stanzas = SpecStanzas.All.Select(s => s.Stanza).ToArray();
        // What a client sends: the restarted stream's header, then each stanza followed by a sync flush, never finished.
        yield return ("sync-flushed", Compress(CompressionLevel.Optimal, w =>
        {
            foreach (var part in (string[])[header, .. stanzas])
            {
                w.Write(Encoding.UTF8.GetBytes(part));
                w.Flush();
            }
        }, finish: false));
        yield return ("finished", Compress(CompressionLevel.Optimal, w => w.Write(Encoding.UTF8.GetBytes(header + string.Concat(stanzas) + "</stream:stream>")), finish: true));
        yield return ("stored-blocks", Compress(CompressionLevel.NoCompression, w => w.Write(Encoding.UTF8.GetBytes(header + stanzas[0])), finish: true));
        yield return ("fastest", Compress(CompressionLevel.Fastest, w => w.Write(Encoding.UTF8.GetBytes(header + stanzas[1] + stanzas[2])), finish: true));
        yield return ("smallest", Compress(CompressionLevel.SmallestSize, w => w.Write(Encoding.UTF8.GetBytes(header + stanzas[3] + " \n ")), finish: false));
        // A bomb: 8 MiB of whitespace keepalives after the header, about 8 KiB compressed: the guard must end it.
        yield return ("bomb-keepalives", Compress(CompressionLevel.SmallestSize, w =>
        {
            w.Write(Encoding.UTF8.GetBytes(header));
            var spaces = new byte[64 * 1024];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < 128; i++) w.Write(spaces);
        }, finish: true));
        // A bomb inside one stanza: the ratio ends it before the stanza limit (256 KiB) would.
        yield return ("bomb-stanza", Compress(CompressionLevel.SmallestSize, w =>
        {
            w.Write(Encoding.UTF8.GetBytes(header + "<message><body>"));
            var text = new byte[64 * 1024];
            Array.Fill(text, (byte)'A');
            for (var i = 0; i < 16; i++) w.Write(text);
        }, finish: false));
        // Found by this target, kept as a seed so that a regression fails at once: a preset dictionary asked for (FDICT).
        yield return ("preset-dictionary", [0x78, 0xBB, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00]);
    }

    private static byte[] Compress(CompressionLevel level, Action<ZLibStream> write, bool finish)
    {
        var buffer = new MemoryStream();
        var zlib = new ZLibStream(buffer, level, leaveOpen: true);
        write(zlib);
        zlib.Flush();
        if (finish) zlib.Dispose();
        return buffer.ToArray();
    }
}
