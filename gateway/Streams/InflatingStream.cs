using System.IO.Compression;
using Mmss.Protocol.Compression;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Streams;

/// <summary>
/// The reading half of XEP-0138 zlib compression, guarded against decompression bombs. The framer above it counts the
/// inflated bytes of a stanza against the stanza limit; this counts the inflated bytes since the last stanza against the
/// compressed bytes they came from, so that a little input inflating to a flood (whitespace keepalives, say, which the
/// framer skips) ends the stream with policy-violation instead of burning CPU.
/// </summary>
public sealed class InflatingStream : Stream
{
    /// <summary>Inflated bytes allowed between two stanzas whatever the ratio: zlib reads ahead, so small counts mean little.</summary>
    public const int AllowanceBytes = 64 * 1024;

    private readonly ByteCountingStream _compressed;
    private readonly ZLibStream _zlib;
    private readonly int _maxRatio;
    private long _inflated;

    public InflatingStream(Stream compressed, int maxRatio)
    {
        _compressed = new ByteCountingStream(compressed);
        _zlib = new ZLibStream(_compressed, CompressionMode.Decompress, leaveOpen: true);
        _maxRatio = maxRatio;
    }

    /// <summary>A stanza was read: what came before it was legitimate, the next one starts a new count.</summary>
    public void StanzaRead()
    {
        _inflated = 0;
        _compressed.BytesRead = 0;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return Inflated(await _zlib.ReadAsync(buffer, cancellationToken));
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(e);
        }
        catch (IOException e) when (IsZlibError(e))
        {
            throw Corrupt(e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return Inflated(_zlib.Read(buffer, offset, count));
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(e);
        }
        catch (IOException e) when (IsZlibError(e))
        {
            throw Corrupt(e);
        }
    }

    private int Inflated(int read)
    {
        _inflated += read;
        if (_inflated > AllowanceBytes + _compressed.BytesRead * _maxRatio)
            throw new XmppStreamException(StreamErrorCondition.PolicyViolation, $"compressed input inflates more than {_maxRatio} times");
        return read;
    }

    /// <summary>
    /// What zlib itself refuses without it being invalid deflate data (a preset dictionary asked for: Z_NEED_DICT) comes
    /// as System.IO.Compression's internal ZLibException, an IOException; the transport's own IOExceptions (a reset
    /// connection) are of other assemblies and stay what they are: a dropped connection.
    /// </summary>
    private static bool IsZlibError(IOException e) => e.GetType().Assembly == typeof(ZLibStream).Assembly;

    // XEP-0138 §6: a stream that cannot be decompressed ends the stream.
    private static XmppStreamException Corrupt(Exception e) =>
        new(StreamErrorCondition.UndefinedCondition, "the compressed stream is corrupt: " + e.Message);

    public override bool CanRead => true;
    public override bool CanWrite => false;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _zlib.Dispose();
        base.Dispose(disposing);
    }
}
