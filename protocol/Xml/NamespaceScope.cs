namespace Mmss.Protocol.Xml;

/// <summary>The namespace bindings in force where a stanza starts: those the stream header declared.</summary>
public sealed class NamespaceScope
{
    private readonly (string Prefix, string Uri)[] _prefixes;

    public NamespaceScope(string defaultNamespace, params (string Prefix, string Uri)[] prefixes)
    {
        DefaultNamespace = defaultNamespace;
        _prefixes = prefixes;
    }

    public string DefaultNamespace { get; }

    public string? Lookup(ReadOnlySpan<char> prefix)
    {
        foreach (var (p, uri) in _prefixes)
        {
            if (prefix.SequenceEqual(p)) return uri;
        }
        return null;
    }
}
