namespace Mmss.Protocol.Xmpp;

/// <summary>A JID, localpart@domainpart/resourcepart (RFC 7622), parsed without stringprep.</summary>
public readonly record struct Jid(string? Local, string Domain, string? Resource)
{
    public static bool TryParse(string? text, out Jid jid)
    {
        jid = default;
        if (string.IsNullOrEmpty(text) || text.Length > 3071) return false;
        var slash = text.IndexOf('/');
        var bare = slash < 0 ? text : text[..slash];
        var resource = slash < 0 ? null : text[(slash + 1)..];
        if (resource is { Length: 0 }) return false;
        var at = bare.IndexOf('@');
        var local = at < 0 ? null : bare[..at];
        var domain = at < 0 ? bare : bare[(at + 1)..];
        if (local is { Length: 0 } || domain.Length == 0 || domain.Contains('@')) return false;
        jid = new Jid(local, domain, resource);
        return true;
    }

    public string Bare => Local is null ? Domain : $"{Local}@{Domain}";

    public override string ToString() => Resource is null ? Bare : $"{Bare}/{Resource}";
}
