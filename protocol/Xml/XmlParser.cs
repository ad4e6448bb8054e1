using System.Buffers;
using System.Text;
using System.Text.Unicode;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Xml;

/// <summary>
/// Parses one framed token (a stanza, or the stream header's open tag) into an <see cref="XmlElement"/>.
/// The bytes are decoded once into a pooled char buffer; only names, attribute values and text become strings.
/// Anything RFC 6120 §11 forbids fails with a typed stream error.
/// </summary>
public static class XmlParser
{
    /// <summary>No stanza of this protocol needs more attributes (namespace declarations included) on one element.</summary>
    public const int MaxAttributes = 64;

    public static XmlElement ParseStanza(ReadOnlySequence<byte> bytes, NamespaceScope scope)
    {
        if (bytes.IsSingleSegment) return ParseStanza(bytes.FirstSpan, scope);
        var rented = ArrayPool<byte>.Shared.Rent((int)bytes.Length);
        try
        {
            bytes.CopyTo(rented);
            return ParseStanza(rented.AsSpan(0, (int)bytes.Length), scope);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static XmlElement ParseStanza(ReadOnlySpan<byte> utf8, NamespaceScope scope) =>
        Decode(utf8, scope, headerOnly: false, out _);

    /// <summary>Parses &lt;stream:stream ...&gt; and returns the namespace scope it opens for the stanzas.</summary>
    public static XmlElement ParseStreamHeader(ReadOnlySequence<byte> bytes, out NamespaceScope scope)
    {
        var array = bytes.ToArray();
        var header = Decode(array, new NamespaceScope(string.Empty), headerOnly: true, out var opened);
        scope = opened.Shared();
        return header;
    }

    private static XmlElement Decode(ReadOnlySpan<byte> utf8, NamespaceScope scope, bool headerOnly, out NamespaceScope opened)
    {
        var chars = ArrayPool<char>.Shared.Rent(utf8.Length);
        try
        {
            var status = Utf8.ToUtf16(utf8, chars, out _, out var written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done) throw XmppStreamException.NotWellFormed("invalid UTF-8");
            var text = chars.AsSpan(0, written);
            if (ContainsIllegalCharacter(text)) throw XmppStreamException.NotWellFormed("character not allowed in XML");
            // The parser's working lists are kept per thread: allocating three lists per stanza was a tenth of the bytes
            // the gateway allocated per MMS round trip. Parsing never yields, so no other parse can use them meanwhile.
            var scratch = t_scratch ?? new ParserScratch();
            t_scratch = null;
            try
            {
                var parser = new Parser(scope, scratch);
                return parser.Parse(text, headerOnly, out opened);
            }
            finally
            {
                scratch.Clear();
                t_scratch = scratch;
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private static bool ContainsIllegalCharacter(ReadOnlySpan<char> text) =>
        text.ContainsAnyInRange('\u0000', '\u0008') || text.ContainsAny('\u000B', '\u000C') ||
        text.ContainsAnyInRange('\u000E', '\u001F') || text.ContainsAny('\uFFFE', '\uFFFF');

    [ThreadStatic] private static ParserScratch? t_scratch;

    private sealed class ParserScratch
    {
        public readonly List<(string Prefix, string Uri)> Bindings = [];
        public readonly List<(int BindingCount, string DefaultNs, XmlElement Element, int NameStart, int NameLength)> Open = [];
        public readonly List<(int NameStart, int NameLength, string Value)> RawAttributes = [];

        public void Clear()
        {
            Bindings.Clear();
            Open.Clear();
            RawAttributes.Clear();
        }
    }

    private ref struct Parser(NamespaceScope scope, ParserScratch scratch)
    {
        private readonly List<(string Prefix, string Uri)> _bindings = scratch.Bindings;
        private readonly List<(int BindingCount, string DefaultNs, XmlElement Element, int NameStart, int NameLength)> _open = scratch.Open;
        private readonly List<(int NameStart, int NameLength, string Value)> _rawAttributes = scratch.RawAttributes;
        private string _defaultNs = scope.DefaultNamespace;
        private int _pos;

        public XmlElement Parse(ReadOnlySpan<char> s, bool headerOnly, out NamespaceScope opened)
        {
            SkipWhitespace(s);
            XmlElement? root = null;
            opened = scope;
            while (true)
            {
                if (_pos >= s.Length)
                {
                    if (root is not null && _open.Count == 0) return root;
                    throw XmppStreamException.NotWellFormed("unexpected end of element");
                }
                if (s[_pos] != '<')
                {
                    if (_open.Count == 0) throw XmppStreamException.NotWellFormed("character data outside the element");
                    ReadText(s);
                    continue;
                }
                if (_pos + 1 >= s.Length) throw XmppStreamException.NotWellFormed("unexpected end of element");
                var next = s[_pos + 1];
                if (next == '/')
                {
                    ReadEndTag(s);
                    if (_open.Count == 0)
                    {
                        SkipWhitespace(s);
                        if (_pos != s.Length) throw XmppStreamException.NotWellFormed("data after the element");
                        return root!;
                    }
                    continue;
                }
                if (next == '!')
                {
                    if (s[_pos..].StartsWith("<![CDATA[") && _open.Count > 0)
                    {
                        var end = s[(_pos + 9)..].IndexOf("]]>");
                        if (end < 0) throw XmppStreamException.NotWellFormed("unterminated CDATA section");
                        _open[^1].Element.AddText(new string(s.Slice(_pos + 9, end)));
                        _pos += 9 + end + 3;
                        continue;
                    }
                    throw XmppStreamException.RestrictedXml("comments and DTDs are not allowed");
                }
                if (next == '?') throw XmppStreamException.RestrictedXml("processing instructions are not allowed");
                if (root is not null && _open.Count == 0) throw XmppStreamException.NotWellFormed("data after the element");

                var parent = _open.Count > 0 ? _open[^1].Element : null;
                var element = ReadStartTag(s, out var selfClosing);
                if (root is null) root = element;
                else parent!.Add(element);
                if (headerOnly)
                {
                    if (selfClosing) throw XmppStreamException.NotWellFormed("the stream header must not be empty");
                    opened = new NamespaceScope(_defaultNs, [.. _bindings]);
                    return element;
                }
                if (selfClosing) PopScope();
                if (_open.Count == 0 && selfClosing)
                {
                    SkipWhitespace(s);
                    if (_pos != s.Length) throw XmppStreamException.NotWellFormed("data after the element");
                    return root;
                }
            }
        }

        private XmlElement ReadStartTag(ReadOnlySpan<char> s, out bool selfClosing)
        {
            _pos++; // '<'
            var nameStart = _pos;
            var nameLength = ReadName(s);
            _rawAttributes.Clear();
            var bindingCount = _bindings.Count;
            var defaultNs = _defaultNs;
            selfClosing = false;
            while (true)
            {
                var hadSpace = SkipWhitespace(s);
                if (_pos >= s.Length) throw XmppStreamException.NotWellFormed("unterminated start tag");
                var c = s[_pos];
                if (c == '>') { _pos++; break; }
                if (c == '/')
                {
                    if (_pos + 1 >= s.Length || s[_pos + 1] != '>') throw XmppStreamException.NotWellFormed("'/' inside a start tag");
                    _pos += 2;
                    selfClosing = true;
                    break;
                }
                if (!hadSpace) throw XmppStreamException.NotWellFormed("attributes must be separated by whitespace");
                var attrStart = _pos;
                var attrLength = ReadName(s);
                SkipWhitespace(s);
                if (_pos >= s.Length || s[_pos] != '=') throw XmppStreamException.NotWellFormed("attribute without a value");
                _pos++;
                SkipWhitespace(s);
                if (_pos >= s.Length || (s[_pos] != '"' && s[_pos] != '\'')) throw XmppStreamException.NotWellFormed("attribute value must be quoted");
                var quote = s[_pos++];
                var close = s[_pos..].IndexOf(quote);
                if (close < 0) throw XmppStreamException.NotWellFormed("unterminated attribute value");
                var rawValue = s.Slice(_pos, close);
                if (rawValue.Contains('<')) throw XmppStreamException.NotWellFormed("'<' in an attribute value");
                _pos += close + 1;
                var attrName = s.Slice(attrStart, attrLength);
                // Bounds the duplicate check below, which is quadratic in the number of attributes.
                if (_rawAttributes.Count + _bindings.Count >= MaxAttributes)
                    throw new XmppStreamException(StreamErrorCondition.PolicyViolation, $"more than {MaxAttributes} attributes on one element");
                foreach (var (ps, pl, _) in _rawAttributes)
                {
                    if (s.Slice(ps, pl).SequenceEqual(attrName)) throw XmppStreamException.NotWellFormed("duplicate attribute");
                }
                var value = Unescape(rawValue, normalizeWhitespace: true);
                if (attrName.SequenceEqual("xmlns")) _defaultNs = value;
                else if (attrName.StartsWith("xmlns:"))
                {
                    if (value.Length == 0) throw XmppStreamException.NotWellFormed("empty namespace for a prefix");
                    _bindings.Add((new string(attrName[6..]), value));
                }
                else _rawAttributes.Add((attrStart, attrLength, value));
            }

            var qname = s.Slice(nameStart, nameLength);
            var colon = LocalPartAt(qname);
            XmlElement element;
            if (colon < 0) element = new XmlElement(KnownNames.Get(qname), _defaultNs);
            else
            {
                var uri = LookupPrefix(qname[..colon]) ?? throw XmppStreamException.NotWellFormed("undeclared namespace prefix");
                element = new XmlElement(KnownNames.Get(qname[(colon + 1)..]), uri);
            }
            if (_rawAttributes.Count > 0) element.ReserveParsedAttributes(_rawAttributes.Count);
            foreach (var (ps, pl, value) in _rawAttributes)
            {
                var an = s.Slice(ps, pl);
                var ac = LocalPartAt(an);
                if (ac < 0) element.AddParsedAttribute(new XmlAttribute(KnownNames.Get(an), value));
                else
                {
                    var prefix = an[..ac];
                    var uri = prefix.SequenceEqual("xml") ? Namespaces.Xml
                        : LookupPrefix(prefix) ?? throw XmppStreamException.NotWellFormed("undeclared attribute prefix");
                    element.AddParsedAttribute(new XmlAttribute(KnownNames.Get(an[(ac + 1)..]), value, uri));
                }
            }
            _open.Add((bindingCount, defaultNs, element, nameStart, nameLength));
            return element;
        }

        /// <summary>
        /// The colon of a prefixed name, or -1. Namespaces in XML §3: QName = Prefix ':' LocalPart and neither part
        /// holds a colon, and the local part starts as a name does (<see cref="IsNameStart"/>, as for the prefix); any
        /// other local part could not be written back as it was read.
        /// </summary>
        private static int LocalPartAt(ReadOnlySpan<char> qname)
        {
            var colon = qname.IndexOf(':');
            if (colon >= 0 && (colon == qname.Length - 1 || qname[(colon + 1)..].Contains(':') || !IsNameStart(qname[colon + 1])))
                throw XmppStreamException.NotWellFormed("invalid qualified name");
            return colon;
        }

        private void PopScope()
        {
            var top = _open[^1];
            _open.RemoveAt(_open.Count - 1);
            _bindings.RemoveRange(top.BindingCount, _bindings.Count - top.BindingCount);
            _defaultNs = top.DefaultNs;
        }

        private void ReadEndTag(ReadOnlySpan<char> s)
        {
            _pos += 2; // "</"
            var nameStart = _pos;
            var nameLength = ReadName(s);
            SkipWhitespace(s);
            if (_pos >= s.Length || s[_pos] != '>') throw XmppStreamException.NotWellFormed("malformed end tag");
            _pos++;
            if (_open.Count == 0) throw XmppStreamException.NotWellFormed("end tag without a start tag");
            var top = _open[^1];
            if (!s.Slice(nameStart, nameLength).SequenceEqual(s.Slice(top.NameStart, top.NameLength)))
                throw XmppStreamException.NotWellFormed("end tag does not match the start tag");
            PopScope();
        }

        private void ReadText(ReadOnlySpan<char> s)
        {
            var end = s[_pos..].IndexOf('<');
            if (end < 0) throw XmppStreamException.NotWellFormed("unexpected end of element");
            var raw = s.Slice(_pos, end);
            if (raw.Contains("]]>", StringComparison.Ordinal)) throw XmppStreamException.NotWellFormed("']]>' in character data");
            _open[^1].Element.AddText(Unescape(raw, normalizeWhitespace: false));
            _pos += end;
        }

        private int ReadName(ReadOnlySpan<char> s)
        {
            var start = _pos;
            while (_pos < s.Length)
            {
                var c = s[_pos];
                if (c is ' ' or '\t' or '\r' or '\n' or '>' or '/' or '=' or '<' or '"' or '\'') break;
                _pos++;
            }
            var length = _pos - start;
            if (length == 0) throw XmppStreamException.NotWellFormed("missing name");
            if (!IsNameStart(s[start]) || s[start] == ':') throw XmppStreamException.NotWellFormed("invalid name");
            return length;
        }

        /// <summary>Not a digit, '-' or '.' (XML 1.0 §2.3), nor '!' or '?', which after '&lt;' begin other markup.</summary>
        private static bool IsNameStart(char c) => !char.IsAsciiDigit(c) && c is not ('-' or '.' or '!' or '?');

        private bool SkipWhitespace(ReadOnlySpan<char> s)
        {
            var start = _pos;
            while (_pos < s.Length && s[_pos] is ' ' or '\t' or '\r' or '\n') _pos++;
            return _pos > start;
        }

        private string? LookupPrefix(ReadOnlySpan<char> prefix)
        {
            for (var i = _bindings.Count - 1; i >= 0; i--)
            {
                if (prefix.SequenceEqual(_bindings[i].Prefix)) return _bindings[i].Uri;
            }
            return scope.Lookup(prefix);
        }
    }

    /// <summary>Resolves the five predefined entities and character references; any other entity is restricted XML.</summary>
    internal static string Unescape(ReadOnlySpan<char> raw, bool normalizeWhitespace)
    {
        if (raw.IsEmpty) return string.Empty;
        if (raw.IndexOf('&') < 0 && (!normalizeWhitespace || raw.IndexOfAny('\t', '\r', '\n') < 0))
        {
            return raw.Length <= 16 ? KnownNames.Get(raw) : new string(raw);
        }
        var sb = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            var amp = raw.IndexOf('&');
            var plain = amp < 0 ? raw : raw[..amp];
            if (normalizeWhitespace)
            {
                foreach (var c in plain) sb.Append(c is '\t' or '\r' or '\n' ? ' ' : c);
            }
            else sb.Append(plain);
            if (amp < 0) break;
            raw = raw[(amp + 1)..];
            var semi = raw.IndexOf(';');
            if (semi <= 0) throw XmppStreamException.NotWellFormed("malformed entity reference");
            var entity = raw[..semi];
            raw = raw[(semi + 1)..];
            switch (entity)
            {
                case "lt": sb.Append('<'); break;
                case "gt": sb.Append('>'); break;
                case "amp": sb.Append('&'); break;
                case "quot": sb.Append('"'); break;
                case "apos": sb.Append('\''); break;
                default:
                    if (entity[0] != '#') throw XmppStreamException.RestrictedXml("entity references are not allowed");
                    AppendCharacterReference(sb, entity[1..]);
                    break;
            }
        }
        return sb.ToString();
    }

    private static void AppendCharacterReference(StringBuilder sb, ReadOnlySpan<char> digits)
    {
        var hex = digits.Length > 0 && digits[0] == 'x';
        if (hex) digits = digits[1..];
        if (!int.TryParse(digits, hex ? System.Globalization.NumberStyles.AllowHexSpecifier : System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var code)
            || !(code is 0x9 or 0xA or 0xD || code is >= 0x20 and <= 0xD7FF || code is >= 0xE000 and <= 0xFFFD || code is >= 0x10000 and <= 0x10FFFF))
        {
            throw XmppStreamException.NotWellFormed("invalid character reference");
        }
        sb.Append(char.ConvertFromUtf32(code));
    }
}
