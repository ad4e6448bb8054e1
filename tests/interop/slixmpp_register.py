"""In-band registration (XEP-0077) from slixmpp: registers an account, logs in with it over SASL, changes its
password, then cancels the account.

Usage: slixmpp_register.py HOST PORT JID PASSWORD NEW_PASSWORD [TOKEN]
TOKEN, when given, goes in <key/> (the Admin policy's registration token).
Prints "REGISTERED", "LOGIN-OK <full jid>", "PASSWORD-CHANGED", "CANCELLED" and exits 0; on a refused registration
prints "REGISTER-FAILED <condition>" and exits 1; 2 on timeout.
"""
import sys

from slixmpp.exceptions import IqError
from slixmpp_login import Terminal as LoginTerminal
from terminal_run import run


class Terminal(LoginTerminal):
    """The login script's terminal (SASL, failure handling), registering first and then changing and cancelling."""

    def __init__(self, jid, password, new_password, token):
        super().__init__(jid, password, None)
        # slixmpp 1.8 holds back every iq but bind and session until a session starts, so the iqs sent before one
        # (registration, legacy login) would never leave; its own test harness lifts the hold the same way.
        self._always_send_everything = True
        self.new_password = new_password
        self.token = token
        self.register_plugin("xep_0077")
        self.add_event_handler("register", self.on_register)

    async def on_register(self, form):
        print("FIELDS", " ".join(sorted(form["register"]["fields"])), flush=True)
        iq = self.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = self.boundjid.user
        iq["register"]["password"] = self.password
        if self.token:
            iq["register"]["key"] = self.token
        try:
            await iq.send(timeout=10)
            print("REGISTERED", flush=True)
        except IqError as error:
            print("REGISTER-FAILED", error.iq["error"]["condition"], flush=True)
            self.outcome = 1
            self.disconnect()

    async def on_session_start(self, _event):
        print("LOGIN-OK", self.boundjid.full, flush=True)
        try:
            await self["xep_0077"].change_password(self.new_password, timeout=10)
            print("PASSWORD-CHANGED", flush=True)
            await self["xep_0077"].cancel_registration(timeout=10)
            print("CANCELLED", flush=True)
            self.outcome = 0
        except IqError as error:
            print("FAILED", error.iq["error"]["condition"], flush=True)
            self.outcome = 3
        self.disconnect()


if __name__ == "__main__":
    host, port, jid, password, new_password = sys.argv[1:6]
    token = sys.argv[6] if len(sys.argv) > 6 else None
    run(lambda: Terminal(jid, password, new_password, token), host, port, 20)
