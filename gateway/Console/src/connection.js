// The XMPP session of the console: @xmpp/client over the gateway's WebSocket (RFC 7395), SCRAM-SHA-1 only,
// so that the password never crosses the wire; it lives in this closure for reconnects and nowhere else.
import { client, xml } from "@xmpp/client";
import scramSha1 from "@xmpp/sasl-scram-sha-1";

export function webSocketUrl(location) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/xmpp-websocket`;
}

// What went wrong, in words a dispatcher can act on.
export function describeError(error, service) {
  const condition = error?.condition;
  if (condition === "not-authorized") return "Wrong UDN or password.";
  if (condition === "temporary-auth-failure") return "Too many failed logins: wait a few minutes and try again.";
  if (condition === "account-disabled") return "This UDN is disabled.";
  if (error?.name === "SASLError") return `Login refused (${condition ?? error.message}).`;
  if (error?.name === "StreamError") return `The server ended the session (${condition}${error.text ? ": " + error.text : ""}).`;
  if (/websocket|ECONNREFUSED|connect/i.test(error?.message ?? "") || error?.event)
    return `Cannot reach the server at ${service}. Is it running?`;
  return error?.message ?? String(error);
}

export function connect({ udn, password, service, domain, onStanza, onStatus, onOnline, onError }) {
  const xmpp = client({
    service,
    domain,
    resource: `console-${Math.random().toString(36).slice(2, 8)}`,
    credentials: async (authenticate, mechanisms) => {
      if (!mechanisms.includes("SCRAM-SHA-1")) throw new Error("the server offers no SCRAM-SHA-1 login");
      await authenticate({ username: udn, password }, "SCRAM-SHA-1");
    },
  });
  // Left out of @xmpp/client's browser build; it needs only WebCrypto, which every secure page has.
  scramSha1(xmpp.saslFactory);

  xmpp.on("status", (status) => onStatus(status));
  // A resumed session (XEP-0198) is online again without an "online" status event.
  xmpp.streamManagement.on("resumed", () => onStatus("online"));
  xmpp.on("error", (error) => onError(error));
  xmpp.on("online", (jid) => onOnline(jid));
  xmpp.on("stanza", (stanza) => onStanza(stanza));

  return {
    xmpp,
    start: () => xmpp.start(),
    stop: async () => {
      xmpp.reconnect.stop();
      await xmpp.stop().catch(() => {});
    },
    send: (stanza) => xmpp.send(stanza),
    roster: async () => {
      const result = await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
      return result.getChild("query", "jabber:iq:roster").getChildren("item").map((item) => ({
        jid: item.attrs.jid,
        name: item.attrs.name ?? item.attrs.jid,
        subscription: item.attrs.subscription ?? "none",
        groups: item.getChildren("group").map((g) => g.text()),
      }));
    },
    // RFC 6121 §4.2: the initial presence; the server answers with the contacts' presence and tells them ours.
    announce: () => xmpp.send(xml("presence")),
  };
}
