"""Logs in to the MMSS with slixmpp (a real third-party XMPP client) and pings the server.

Usage: slixmpp_login.py HOST PORT JID PASSWORD MECHANISM
Prints "LOGIN-OK <mechanism>" and exits 0 when the session started and the ping was answered;
exits 1 on authentication failure, 2 on timeout.
"""
import ssl
import sys

import slixmpp
from terminal_run import run


class Terminal(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mechanism):
        super().__init__(jid, password, sasl_mech=mechanism)
        # The embedded server's certificate is self-signed: trust it for this test only.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.register_plugin("xep_0199")
        self.outcome = None
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("failed_auth", self.on_failed_auth)

    async def on_session_start(self, _event):
        try:
            await self["xep_0199"].ping(self.boundjid.domain, timeout=10)
            self.outcome = 0
            print("LOGIN-OK", self.boundjid.full, flush=True)
        except Exception as error:  # noqa: BLE001 - any failure is reported
            print("PING-FAILED", error, flush=True)
            self.outcome = 3
        self.disconnect()

    def on_failed_auth(self, _event):
        print("AUTH-FAILED", flush=True)
        self.outcome = 1
        self.disconnect()


if __name__ == "__main__":
    host, port, jid, password, mechanism = sys.argv[1:6]
    run(lambda: Terminal(jid, password, mechanism), host, port, 15)
