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

    // Clients of one kind open every stream with the same declarations; connections share the scope last opened rather
    // than each holding an equal copy (and its strings) for its whole life.
    private static NamespaceScope? s_lastOpened;

    /// <summary>An equal scope already held by another stream, else this one (which later streams may then share).</summary>
    public NamespaceScope Shared()
    {
        var last = Volatile.Read(ref s_lastOpened);
        if (last is not null && last.DefaultNamespace == DefaultNamespace && last._prefixes.AsSpan().SequenceEqual(_prefixes)) return last;
        Volatile.Write(ref s_lastOpened, this);
        return this;
    }

    public string? Lookup(ReadOnlySpan<char> prefix)
    {
        foreach (var (p, uri) in _prefixes)
        {
            if (prefix.SequenceEqual(p)) return uri;
        }
        return null;
    }
}
