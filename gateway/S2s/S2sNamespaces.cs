namespace Mmss.Gateway.S2s;

/// <summary>Namespaces only server-to-server streams use.</summary>
public static class S2sNamespaces
{
    /// <summary>XEP-0220 elements (&lt;db:result/&gt;, &lt;db:verify/&gt;), declared on the stream header with the prefix db.</summary>
    public const string Dialback = "jabber:server:dialback";

    /// <summary>XEP-0220 §2.4 stream feature announcing dialback (with &lt;errors/&gt;: dialback errors are understood).</summary>
    public const string DialbackFeature = "urn:xmpp:features:dialback";
}
