using System.Buffers;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Xml;

/// <summary>
/// Cuts an XMPP byte stream into tokens: the stream header, whole stanzas, the stream end.
/// Resumable: bytes already scanned are not scanned again when more arrive, so a stanza trickled in
/// one byte at a time costs linear time. The size limit is checked before more is buffered.
/// It rejects what RFC 6120 §11.1 forbids (comments, processing instructions, DTDs); the parser checks the rest.
/// </summary>
public sealed class XmlStreamFramer(int maxTokenBytes)
{
    private enum State : byte
    {
        Text,
        Open,          // just after '<'
        Bang,          // just after "<!"
        CDataOpen,     // inside "<![CDATA[" literal
        CData,
        ProcessingInstruction,
        StartTag,
        StartTagQuoted,
        EndTag,
    }

    private static readonly byte[] CDataLiteral = "[CDATA["u8.ToArray();

    private State _state;
    private int _depth;          // 0 = before the header, 1 = inside the stream, >1 = inside a stanza
    private long _scanned;       // bytes of the current token already examined
    private byte _quote;
    private byte _previous;
    private int _literalIndex;   // progress through "[CDATA[" or count of ']' / '?' seen
    private bool _sawHeader;
    private bool _inName;        // scanning the element name of a start or end tag
    private uint _nameHash;
    private uint[] _openNames = new uint[16];   // FNV-1a of each open element's qualified name, by depth

    /// <summary>Deeper nesting is refused: no stanza of this protocol needs it, and it bounds the work per byte.</summary>
    public const int MaxDepth = 64;

    private const uint FnvOffset = 2166136261;
    private const uint FnvPrime = 16777619;

    public int MaxTokenBytes { get; } = maxTokenBytes;

    /// <summary>Forget everything: a stream restart (after STARTTLS or SASL success, RFC 6120 §4.3.3).</summary>
    public void Reset()
    {
        _state = State.Text;
        _depth = 0;
        _scanned = 0;
        _previous = 0;
        _literalIndex = 0;
        _sawHeader = false;
        _inName = false;
    }

    /// <summary>
    /// Looks for the next token at the start of <paramref name="buffer"/>. On success <paramref name="end"/> is the
    /// position just past it; on false the caller keeps the buffer and calls again with more data.
    /// </summary>
    public bool TryReadToken(in ReadOnlySequence<byte> buffer, out XmlTokenKind kind, out SequencePosition end)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(_scanned);
        while (!reader.End)
        {
            var span = reader.UnreadSpan;
            var consumed = 0;
            var found = Scan(span, ref consumed, out kind);
            reader.Advance(consumed);
            if (found)
            {
                // The same limit when the whole token came in one read: the peer's segmentation must not decide.
                // Whitespace runs (keepalives) are exempt, as they are when they trickle in.
                if (reader.Consumed > MaxTokenBytes && (kind != XmlTokenKind.Ignorable || StartsWithMarkup(buffer)))
                {
                    throw new XmppStreamException(StreamErrorCondition.PolicyViolation,
                        $"stanza exceeds the limit of {MaxTokenBytes} bytes");
                }
                end = reader.Position;
                _scanned = 0;
                return true;
            }
            _scanned = reader.Consumed;
            if (_scanned > MaxTokenBytes)
            {
                throw new XmppStreamException(StreamErrorCondition.PolicyViolation,
                    $"stanza exceeds the limit of {MaxTokenBytes} bytes");
            }
        }
        kind = default;
        end = buffer.End;
        return false;
    }

    private static bool StartsWithMarkup(in ReadOnlySequence<byte> buffer) =>
        new SequenceReader<byte>(buffer).TryPeek(out var first) && first == (byte)'<';

    private bool Scan(ReadOnlySpan<byte> span, ref int i, out XmlTokenKind kind)
    {
        kind = default;
        while (i < span.Length)
        {
            switch (_state)
            {
                case State.Text:
                {
                    if (_depth <= 1)
                    {
                        // Between stanzas only whitespace may appear; each run of it is a token of its own
                        // so that keepalives are consumed and never count against the stanza limit.
                        var b = span[i];
                        if (b == (byte)'<') { i++; _state = State.Open; break; }
                        if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                        {
                            var run = span[i..].IndexOfAnyExcept(" \t\r\n"u8);
                            i = run < 0 ? span.Length : i + run;
                            kind = XmlTokenKind.Ignorable;
                            return true;
                        }
                        throw XmppStreamException.NotWellFormed("character data outside a stanza");
                    }
                    var lt = span[i..].IndexOf((byte)'<');
                    if (lt < 0) { i = span.Length; return false; }
                    i += lt + 1;
                    _state = State.Open;
                    break;
                }
                case State.Open:
                {
                    var b = span[i++];
                    switch (b)
                    {
                        case (byte)'/':
                            _state = State.EndTag;
                            _inName = true;
                            _nameHash = FnvOffset;
                            break;
                        case (byte)'!':
                            _state = State.Bang;
                            break;
                        case (byte)'?':
                            if (_depth != 0 || _sawHeader)
                                throw XmppStreamException.RestrictedXml("processing instructions are not allowed");
                            _state = State.ProcessingInstruction;
                            _previous = 0;
                            break;
                        default:
                            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'>' or (byte)'=')
                                throw XmppStreamException.NotWellFormed("'<' not followed by a name");
                            _state = State.StartTag;
                            _previous = b;
                            _inName = true;
                            _nameHash = (FnvOffset ^ b) * FnvPrime;
                            break;
                    }
                    break;
                }
                case State.Bang:
                {
                    var b = span[i++];
                    if (b == (byte)'[' && _depth > 1)
                    {
                        _state = State.CDataOpen;
                        _literalIndex = 1;
                        break;
                    }
                    if (b == (byte)'-') throw XmppStreamException.RestrictedXml("comments are not allowed");
                    if (b == (byte)'D') throw XmppStreamException.RestrictedXml("DTDs are not allowed");
                    throw XmppStreamException.NotWellFormed("malformed markup after '<!'");
                }
                case State.CDataOpen:
                {
                    if (span[i++] != CDataLiteral[_literalIndex++])
                        throw XmppStreamException.NotWellFormed("malformed CDATA section");
                    if (_literalIndex == CDataLiteral.Length)
                    {
                        _state = State.CData;
                        _literalIndex = 0;
                    }
                    break;
                }
                case State.CData:
                {
                    var b = span[i++];
                    if (b == (byte)']') { _literalIndex++; break; }
                    if (b == (byte)'>' && _literalIndex >= 2) _state = State.Text;
                    _literalIndex = 0;
                    break;
                }
                case State.ProcessingInstruction:
                {
                    var b = span[i++];
                    if (b == (byte)'>' && _previous == (byte)'?')
                    {
                        _state = State.Text;
                        kind = XmlTokenKind.Ignorable;
                        return true;
                    }
                    _previous = b;
                    break;
                }
                case State.StartTag:
                {
                    if (_inName && !ScanName(span, ref i)) return false;
                    if (i >= span.Length) return false;
                    var rest = span[i..];
                    var stop = rest.IndexOfAny((byte)'>', (byte)'"', (byte)'\'');
                    if (stop < 0)
                    {
                        if (rest.IndexOf((byte)'<') >= 0) throw XmppStreamException.NotWellFormed("'<' inside a tag");
                        _previous = rest[^1];
                        i = span.Length;
                        return false;
                    }
                    if (rest[..stop].IndexOf((byte)'<') >= 0) throw XmppStreamException.NotWellFormed("'<' inside a tag");
                    var before = stop > 0 ? rest[stop - 1] : _previous;
                    i += stop + 1;
                    if (rest[stop] != (byte)'>')
                    {
                        _quote = rest[stop];
                        _previous = rest[stop];
                        _state = State.StartTagQuoted;
                        break;
                    }
                    _state = State.Text;
                    if (before == (byte)'/')
                    {
                        if (_depth == 0) throw XmppStreamException.NotWellFormed("the stream header must not be empty");
                        if (_depth == 1) { kind = XmlTokenKind.Stanza; return true; }
                        break;
                    }
                    PushName();
                    _depth++;
                    if (_depth == 1)
                    {
                        _sawHeader = true;
                        kind = XmlTokenKind.StreamHeader;
                        return true;
                    }
                    break;
                }
                case State.StartTagQuoted:
                {
                    var rest = span[i..];
                    var close = rest.IndexOf(_quote);
                    if (close < 0) { i = span.Length; return false; }
                    i += close + 1;
                    _previous = _quote;
                    _state = State.StartTag;
                    break;
                }
                case State.EndTag:
                {
                    if (_inName && !ScanName(span, ref i)) return false;
                    if (i >= span.Length) return false;
                    var rest = span[i..];
                    var close = rest.IndexOf((byte)'>');
                    if (close < 0)
                    {
                        if (rest.IndexOfAnyExcept(" \t\r\n"u8) >= 0) throw XmppStreamException.NotWellFormed("malformed end tag");
                        i = span.Length;
                        return false;
                    }
                    if (rest[..close].IndexOfAnyExcept(" \t\r\n"u8) >= 0) throw XmppStreamException.NotWellFormed("malformed end tag");
                    i += close + 1;
                    _state = State.Text;
                    if (_depth == 0) throw XmppStreamException.NotWellFormed("end tag without a start tag");
                    if (_openNames[_depth - 1] != _nameHash) throw XmppStreamException.NotWellFormed("end tag does not match the start tag");
                    _depth--;
                    if (_depth == 0) { kind = XmlTokenKind.StreamEnd; return true; }
                    if (_depth < 0) throw XmppStreamException.NotWellFormed("end tag without a start tag");
                    if (_depth == 1) { kind = XmlTokenKind.Stanza; return true; }
                    break;
                }
            }
        }
        return false;
    }

    /// <summary>Hashes name bytes until the name ends; false when the span ended inside the name.</summary>
    private bool ScanName(ReadOnlySpan<byte> span, ref int i)
    {
        var hash = _nameHash;
        while (i < span.Length)
        {
            var b = span[i];
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'/' or (byte)'>' or (byte)'"' or (byte)'\'' or (byte)'=')
            {
                _nameHash = hash;
                _inName = false;
                return true;
            }
            if (b == (byte)'<') throw XmppStreamException.NotWellFormed("'<' inside a tag");
            hash = (hash ^ b) * FnvPrime;
            i++;
        }
        _nameHash = hash;
        return false;
    }

    private void PushName()
    {
        if (_depth >= MaxDepth) throw new XmppStreamException(StreamErrorCondition.PolicyViolation, $"elements nested deeper than {MaxDepth}");
        if (_depth >= _openNames.Length) Array.Resize(ref _openNames, _openNames.Length * 2);
        _openNames[_depth] = _nameHash;
    }
}
