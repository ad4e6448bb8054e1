"""A slixmpp terminal sends an MMS with Jive properties (spec 7.5.1) and waits for the relayed ACK (spec 7.5.2).

Usage: slixmpp_mms.py HOST PORT JID PASSWORD RECIPIENT_UDN MESSAGE_ID
Prints "ACK-OK <ReturnCode>" and exits 0 when the ACK arrives from ACK@<domain>; exits 2 on timeout.
"""
import ssl
import sys

import slixmpp
from terminal_run import run
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

JIVE = "http://www.jivesoftware.com/xmlns/xmpp/properties"


class Terminal(slixmpp.ClientXMPP):
    def __init__(self, jid, password, recipient, message_id):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.recipient = recipient
        self.message_id = message_id
        self.outcome = None
        self.add_event_handler("session_start", self.on_session_start)
        # slixmpp's "message" event only fires for messages with a <body/>; ACKs carry none (spec 7.5.2).
        self.register_handler(Callback("Jive message", MatchXPath(f"{{jabber:client}}message/{{{JIVE}}}properties"), self.on_message))
        self.add_event_handler("failed_auth", lambda _e: self.finish(1, "AUTH-FAILED"))

    def on_session_start(self, _event):
        domain = self.boundjid.domain
        self.send_raw(
            f'<message id="{self.message_id}" to="{self.recipient}@{domain}"><subject>HELLO</subject>'
            f'<properties xmlns="{JIVE}">'
            '<property><name>MsgType</name><value type="string">1</value></property>'
            '<property><name>MsgText</name><value type="string">from slixmpp</value></property>'
            '<property><name>original_image_attached</name><value type="string">false</value></property>'
            "</properties><body>dGh1bWI=</body></message>")

    def on_message(self, msg):
        if msg["id"] != self.message_id or msg["from"].user.upper() != "ACK":
            return
        values = {}
        properties = msg.xml.find(f"{{{JIVE}}}properties")
        for prop in properties.findall(f"{{{JIVE}}}property") if properties is not None else []:
            values[prop.findtext(f"{{{JIVE}}}name")] = prop.findtext(f"{{{JIVE}}}value")
        if values.get("MsgType") == "2":
            self.finish(0, f"ACK-OK {values.get('ReturnCode')}")

    def finish(self, code, text):
        print(text, flush=True)
        self.outcome = code
        self.disconnect()


if __name__ == "__main__":
    host, port, jid, password, recipient, message_id = sys.argv[1:7]
    run(lambda: Terminal(jid, password, recipient, message_id), host, port, 30)
