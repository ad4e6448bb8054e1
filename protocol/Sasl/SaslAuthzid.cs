namespace Mmss.Protocol.Sasl;

internal static class SaslAuthzid
{
    /// <summary>An authorization identity is accepted only when it is empty or names the authenticated user (bare or as a JID).</summary>
    public static bool IsSameUser(string? authzid, string username)
    {
        if (string.IsNullOrEmpty(authzid)) return true;
        var at = authzid.IndexOf('@');
        var local = at < 0 ? authzid : authzid[..at];
        return string.Equals(local, username, StringComparison.Ordinal);
    }
}
