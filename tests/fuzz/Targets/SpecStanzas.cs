namespace Mmss.Fuzz.Targets;

/// <summary>The stanzas of the spec (spec/mmss-interface.md, seed 7.1–7.5) and of the protocol tests, as seeds.</summary>
public static class SpecStanzas
{
    public static readonly (string Name, string Stanza)[] All =
    [
        ("mms", """
            <message id="1407488357552" from="c1@20.20.20.99" to="c2@20.20.20.99">
              <subject>HELLO</subject>
              <properties xmlns="http://www.jivesoftware.com/xmlns/xmpp/properties">
                <property><name>MsgType</name><value type="string">1</value></property>
                <property><name>MsgText</name><value type="string">Hello, greeting from console C.</value></property>
                <property><name>attach</name><value type="string">AA.jpg</value></property>
                <property><name>MsgGroup</name><value type="string">G</value></property>
                <property><name>original_image_attached</name><value type="string">false</value></property>
              </properties>
              <body>thumbnail, base64</body>
            </message>
            """),
        ("ack", """<message id="1364891610221" to="ACK" type="chat" from="B@20.20.20.99"><properties xmlns="http://www.jivesoftware.com/xmlns/xmpp/properties"><property><name>MsgType</name><value type="string">2</value></property><property><name>ReturnCode</name><value type="string">1</value></property></properties></message>"""),
        ("fail", """<message id="1364891610221" to="FAIL" type="chat" from="B@20.20.20.99"><properties xmlns="http://www.jivesoftware.com/xmlns/xmpp/properties"><property><name>MsgType</name><value type="string">3</value></property><property><name>ReturnCode</name><value type="string">10</value></property></properties></message>"""),
        ("auth-digest", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'/>"),
        ("response", "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dXNlcm5hbWU9IjExMDIiLHJlYWxtPSIyMC4yMC4yMC45OSI=</response>"),
        ("ping", "<iq type='get' id='p1' to='20.20.20.99'><ping xmlns='urn:xmpp:ping'/></iq>"),
        ("bind", "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>Smack</resource></bind></iq>"),
        ("presence", "<presence xml:lang='zh'><show>chat</show><status>on duty</status><priority>1</priority></presence>"),
        ("escapes", "<message id='e1' to='c2@20.20.20.99'><subject>HELLO &amp; 你好</subject><body><![CDATA[<thumb>]]>a &lt;b&gt; &#x4E2D;&#25991; 'q' \"dq\"</body></message>"),
        ("prefixes", "<message xmlns:x='urn:x' x:a='1' b='2'><x:c x:d='3'/><e xmlns=''/></message>"),
        ("sm", "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"),
    ];
}
