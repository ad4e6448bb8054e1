"""A slixmpp terminal (a real third-party XMPP client) follows a contact's presence on the MMSS.

Usage: slixmpp_presence.py HOST PORT JID PASSWORD CONTACT_BARE_JID
Reads the roster, sends its initial presence, then prints, one line each:
  "ROSTER <subscription>"            the contact's roster item
  "AVAILABLE <full jid> <status>"    the contact's presence (what the server's probe brought)
  "UNAVAILABLE <full jid>"           when the contact goes away, then exits 0.
Exits 1 on authentication failure, 2 on timeout.
"""
import ssl
import sys

import slixmpp
from terminal_run import run


class Terminal(slixmpp.ClientXMPP):
    def __init__(self, jid, password, contact):
        super().__init__(jid, password)
        # The embedded server's certificate is self-signed: trust it for this test only.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.contact = contact
        self.outcome = None
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("failed_auth", lambda _e: self.finish(1, "AUTH-FAILED"))
        self.add_event_handler("presence_available", self.on_available)
        self.add_event_handler("presence_unavailable", self.on_unavailable)

    async def on_session_start(self, _event):
        await self.get_roster()
        print("ROSTER", self.client_roster[self.contact]["subscription"], flush=True)
        self.send_presence(pstatus="slixmpp terminal")

    def on_available(self, presence):
        if presence["from"].bare == self.contact:
            print("AVAILABLE", presence["from"].full, presence["status"], flush=True)

    def on_unavailable(self, presence):
        if presence["from"].bare == self.contact:
            self.finish(0, "UNAVAILABLE", presence["from"].full)

    def finish(self, outcome, *line):
        print(*line, flush=True)
        self.outcome = outcome
        self.disconnect()


if __name__ == "__main__":
    host, port, jid, password, contact = sys.argv[1:6]
    run(lambda: Terminal(jid, password, contact), host, port, 60)
