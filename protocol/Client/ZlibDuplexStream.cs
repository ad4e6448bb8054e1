using System.IO.Compression;
using Mmss.Protocol.Compression;

namespace Mmss.Protocol.Client;

/// <summary>
/// The client side of XEP-0138 zlib compression: writes deflated with a sync flush on every Flush (so the server can
/// decode each stanza at once), reads inflated. Counts bytes on both sides of the deflater, to measure what compression saves.
/// </summary>
public sealed class ZlibDuplexStream(Stream inner) : Stream
{
    private readonly ZLibStream _inflater = new(inner, CompressionMode.Decompress, leaveOpen: true);
    private readonly ByteCountingStream _compressed = new(inner);
    private ZLibStream? _deflater;

    public Stream Inner { get; } = inner;

    /// <summary>Bytes given to the deflater.</summary>
    public long PlainBytesWritten { get; private set; }

    /// <summary>Bytes the deflater wrote to the layer below.</summary>
    public long CompressedBytesWritten => _compressed.BytesWritten;

    private ZLibStream Deflater => _deflater ??= new ZLibStream(_compressed, CompressionLevel.Optimal, leaveOpen: true);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inflater.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inflater.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => _inflater.Read(buffer, offset, count);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        PlainBytesWritten += buffer.Length;
        await Deflater.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        PlainBytesWritten += count;
        Deflater.Write(buffer, offset, count);
    }

    /// <summary>Z_SYNC_FLUSH (what ZLibStream.Flush does), then the layer below.</summary>
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await Deflater.FlushAsync(cancellationToken);
        await Inner.FlushAsync(cancellationToken);
    }

    public override void Flush()
    {
        Deflater.Flush();
        Inner.Flush();
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inflater.Dispose();
            _deflater?.Dispose();
            Inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
