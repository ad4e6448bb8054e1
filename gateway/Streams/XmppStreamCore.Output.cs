using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Mmss.Gateway.C2s;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.Streams;

/// <summary>Everything written: the header, elements, raw bytes, all under the one write lock.</summary>
public sealed partial class XmppStreamCore
{
    /// <summary>Writes our stream header (through <see cref="WriteHeader"/>) unless already sent on this stream.</summary>
    public async ValueTask SendHeaderAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed || _headerSent) return;
            WriteHeaderLocked();
            await _output.FlushAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteHeaderLocked()
    {
        _headerSent = true;
        WriteHeader?.Invoke(_output);
    }

    /// <summary>Writes one element (stanza or nonza) in the stream's content namespace. False when the output is closed.</summary>
    public ValueTask<bool> SendAsync(XmlElement element) =>
        WriteAsync((element, ContentNamespace), static (output, state) => XmlWriter.Write(output, state.element, state.ContentNamespace));

    /// <summary>
    /// Runs <paramref name="write"/> under the write lock and flushes; the callback sees a consistent order with every
    /// other writer (what XEP-0198 counting needs). False when the output is already closed.
    /// </summary>
    public async ValueTask<bool> WriteAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, bool closeAfter = false)
    {
        using var output = await AcquireOutputAsync();
        if (output.IsClosed) return false;
        write(output.Writer, state);
        if (closeAfter) output.MarkClosed();
        await output.FlushAsync();
        return true;
    }

    /// <summary>
    /// Takes the write lock for a sequence of writes that must not interleave with others (a run of deliveries and their
    /// &lt;r/&gt;); dispose the lease to release it. Check <see cref="OutputLease.IsClosed"/> before writing.
    /// </summary>
    public async ValueTask<OutputLease> AcquireOutputAsync()
    {
        await _writeLock.WaitAsync();
        return new OutputLease(this);
    }

    /// <summary>The write lock held, and the writer of the current transport (plain or TLS).</summary>
    public readonly struct OutputLease : IDisposable
    {
        private readonly XmppStreamCore _core;

        internal OutputLease(XmppStreamCore core) => _core = core;

        /// <summary>The stream has ended in this direction (stream error or close written): write nothing more.</summary>
        public bool IsClosed => _core._outputClosed;

        public PipeWriter Writer => _core._output;

        /// <summary>Whatever is written now is the last: nothing may follow it on the stream.</summary>
        public void MarkClosed() => _core._outputClosed = true;

        public ValueTask<FlushResult> FlushAsync() => _core._output.FlushAsync();

        public void Dispose() => _core._writeLock.Release();
    }

    public ValueTask<bool> WriteRawAsync(ReadOnlyMemory<byte> bytes, bool closeAfter = false) =>
        WriteAsync(bytes, static (output, b) => output.Write(b.Span), closeAfter);
}
