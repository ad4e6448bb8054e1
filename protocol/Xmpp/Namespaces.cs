namespace Mmss.Protocol.Xmpp;

public static class Namespaces
{
    public const string Streams = "http://etherx.jabber.org/streams";
    public const string Client = "jabber:client";
    public const string Server = "jabber:server";
    public const string Tls = "urn:ietf:params:xml:ns:xmpp-tls";
    public const string Sasl = "urn:ietf:params:xml:ns:xmpp-sasl";
    public const string Bind = "urn:ietf:params:xml:ns:xmpp-bind";
    public const string Session = "urn:ietf:params:xml:ns:xmpp-session";
    public const string StreamErrors = "urn:ietf:params:xml:ns:xmpp-streams";
    public const string Stanzas = "urn:ietf:params:xml:ns:xmpp-stanzas";
    public const string Ping = "urn:xmpp:ping";
    public const string Roster = "jabber:iq:roster";
    public const string DiscoInfo = "http://jabber.org/protocol/disco#info";
    public const string DiscoItems = "http://jabber.org/protocol/disco#items";
    public const string StreamManagement = "urn:xmpp:sm:3";
    public const string JiveProperties = "http://www.jivesoftware.com/xmlns/xmpp/properties";
    public const string CompressFeature = "http://jabber.org/features/compress";
    public const string Compress = "http://jabber.org/protocol/compress";
    public const string IqAuthFeature = "http://jabber.org/features/iq-auth";
    public const string IqAuth = "jabber:iq:auth";
    public const string RegisterFeature = "http://jabber.org/features/iq-register";
    public const string Register = "jabber:iq:register";
    public const string DataForms = "jabber:x:data";
    public const string Xml = "http://www.w3.org/XML/1998/namespace";
}
