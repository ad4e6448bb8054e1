"""A slixmpp handset (UE) facing the browser console (DC): it answers the console's MMS with ACK 1, then sends one
of its own and waits for the console's ACK (spec 7.5.1-7.5.2, both directions).

Usage: slixmpp_console_peer.py HOST PORT JID PASSWORD CONSOLE_UDN MESSAGE_ID
Prints "PEER-READY" once online, "PEER-OK" and exits 0 when the console acknowledged; exits 2 on timeout.
"""
import ssl
import sys

import slixmpp
from terminal_run import run
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

JIVE = "http://www.jivesoftware.com/xmlns/xmpp/properties"


def jive(msg):
    values = {}
    properties = msg.xml.find(f"{{{JIVE}}}properties")
    for prop in properties.findall(f"{{{JIVE}}}property") if properties is not None else []:
        values[prop.findtext(f"{{{JIVE}}}name")] = prop.findtext(f"{{{JIVE}}}value")
    return values


def property_xml(name, value):
    return f'<property><name>{name}</name><value type="string">{value}</value></property>'


class Handset(slixmpp.ClientXMPP):
    def __init__(self, jid, password, console, message_id):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.console = console
        self.message_id = message_id
        self.outcome = None
        self.add_event_handler("session_start", lambda _e: print("PEER-READY", flush=True))
        # slixmpp's "message" event only fires for messages with a <body/>; MMS and ACKs may carry none.
        self.register_handler(Callback("Jive message", MatchXPath(f"{{jabber:client}}message/{{{JIVE}}}properties"), self.on_message))
        self.add_event_handler("failed_auth", lambda _e: self.finish(1, "AUTH-FAILED"))

    def on_message(self, msg):
        values = jive(msg)
        sender = msg["from"].user
        domain = self.boundjid.domain
        if values.get("MsgType") == "1" and sender == self.console:
            self.send_raw(f'<message id="{msg["id"]}" to="ACK@{domain}" type="chat"><properties xmlns="{JIVE}">'
                          f'{property_xml("MsgType", "2")}{property_xml("ReturnCode", "1")}</properties></message>')
            self.send_raw(f'<message id="{self.message_id}" to="{self.console}@{domain}" type="chat"><subject>From the field</subject>'
                          f'<properties xmlns="{JIVE}">{property_xml("MsgType", "1")}{property_xml("MsgText", "from the handset")}'
                          f'{property_xml("original_image_attached", "false")}</properties></message>')
        elif msg["id"] == self.message_id and sender.upper() == "ACK" and values.get("MsgType") == "2":
            self.finish(0, f"PEER-OK {values.get('ReturnCode')}")

    def finish(self, code, text):
        print(text, flush=True)
        self.outcome = code
        self.disconnect()


if __name__ == "__main__":
    host, port, jid, password, console, message_id = sys.argv[1:7]
    run(lambda: Handset(jid, password, console, message_id), host, port, 60)
