"""Logs in to the MMSS with XEP-0078 legacy authentication (jabber:iq:auth) from slixmpp, and pings the server.

Usage: slixmpp_legacy_auth.py HOST PORT JID PASSWORD
slixmpp 1.8's xep_0078 plugin gives the stanzas and the stream feature; its login routine reads the answer of an iq it
never awaits (and skips iq-auth whenever SASL is offered too), so the same two steps are run here, awaited: get the
fields, then set username, password or digest as the server asks, and resource.
Prints "FIELDS <names>" and "LOGIN-OK <full jid>" and exits 0; exits 1 on authentication failure, 2 on timeout.
"""
import hashlib
import sys

import slixmpp
from slixmpp.exceptions import IqError
from slixmpp_login import Terminal as LoginTerminal
from terminal_run import run


class Terminal(LoginTerminal):
    """The login script's terminal, its SASL left unused: iq-auth (order 15) runs first and marks SASL done."""

    def __init__(self, jid, password):
        super().__init__(jid, password, "PLAIN")
        # slixmpp 1.8 holds back every iq but bind and session until a session starts, so the iqs sent before one
        # (registration, legacy login) would never leave; its own test harness lifts the hold the same way.
        self._always_send_everything = True
        self.register_plugin("xep_0078")
        self.unregister_feature("auth", self["xep_0078"].order)
        self.register_feature("auth", self.legacy_auth, restart=False, order=self["xep_0078"].order)

    async def legacy_auth(self, _features):
        get = self.Iq()
        get["type"] = "get"
        get["to"] = self.requested_jid.host
        get["auth"]["username"] = self.requested_jid.user
        try:
            fields = await get.send(timeout=10)
            print("FIELDS", " ".join(sorted(fields["auth"]["fields"])), flush=True)
            iq = self.Iq()
            iq["type"] = "set"
            iq["auth"]["username"] = self.requested_jid.user
            iq["auth"]["resource"] = "legacy"
            if "digest" in fields["auth"]["fields"]:
                iq["auth"]["digest"] = hashlib.sha1((self.stream_id + self.password).encode()).hexdigest()
            else:
                iq["auth"]["password"] = self.password
            await iq.send(timeout=10)
        except IqError as error:
            print("AUTH-FAILED", error.iq["error"]["condition"], flush=True)
            self.outcome = 1
            self.disconnect()
            return True
        # What the plugin does after a successful login: no SASL, no bind; the session is started.
        self.features.add("auth")
        self.features.add("mechanisms")
        self.authenticated = True
        self.boundjid = slixmpp.JID(self.requested_jid)
        self.boundjid.resource = "legacy"
        self.event("session_bind", self.boundjid)
        self.sessionstarted = True
        self.event("session_start")
        return True


if __name__ == "__main__":
    host, port, jid, password = sys.argv[1:5]
    run(lambda: Terminal(jid, password), host, port, 15)
