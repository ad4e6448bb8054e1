using System.IO.Compression;
using System.IO.Pipelines;

namespace Mmss.Gateway.Streams;

/// <summary>
/// XEP-0138 zlib compression as one more pipe layer, over the plain or TLS one: the framer above reads inflated bytes
/// (so the stanza limit applies to them), and every flush of a write batch is a zlib sync flush, so the peer can
/// decode each stanza without waiting for more.
/// </summary>
public sealed partial class XmppStreamCore
{
    private InflatingStream? _inflating;
    private PipeWriter? _belowCompression;

    public bool IsCompressed => _inflating is not null;

    /// <summary>
    /// After &lt;compressed/&gt; was written: both directions are compressed from the next byte on, and the stream restarts
    /// (XEP-0138 §5). The peer sends nothing between &lt;compress/&gt; and our answer, so no input is buffered here.
    /// </summary>
    public async Task StartCompressionAsync(int maxRatio)
    {
        await _writeLock.WaitAsync();
        try
        {
            _inflating = new InflatingStream(_input.AsStream(leaveOpen: true), maxRatio);
            // Zero-byte reads are not used: a zero-byte read on an inflater says nothing about the bytes below it.
            _input = PipeReader.Create(_inflating, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: false));
            _belowCompression = _output;
            // Flush() of a ZLibStream is Z_SYNC_FLUSH: the stanza is complete on the wire, the dictionary is kept.
            var deflating = new ZLibStream(_output.AsStream(leaveOpen: true), CompressionLevel.Optimal, leaveOpen: false);
            _output = PipeWriter.Create(deflating, new StreamPipeWriterOptions(leaveOpen: false));
            Restart();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Ends the compressed layer (its last block written below), leaving the output of the layer under it.</summary>
    private async ValueTask CompleteCompressionLockedAsync()
    {
        if (_belowCompression is not { } below) return;
        _belowCompression = null;
        await _output.CompleteAsync();
        _output = below;
    }
}
