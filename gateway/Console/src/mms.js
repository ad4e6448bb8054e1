// The spec's message stanzas (section 7.5): MMS (MsgType 1), ACK (2), FAIL (3), the group report (vendor 101).
import { xml } from "@xmpp/client";

export const JIVE = "http://www.jivesoftware.com/xmlns/xmpp/properties";

// The project's FAIL ReturnCode table (spec "Project decisions"), as a dispatcher should read it.
const FAIL_MEANINGS = {
  1: "recipient unknown",
  2: "not a member of the group / not allowed",
  3: "attachment missing",
  4: "message or attachment too large",
  5: "expired undelivered",
  6: "peer domain unreachable",
  7: "malformed message",
  8: "duplicate message id with different content",
  9: "storage unavailable",
  10: "rejected by the recipient",
  255: "unspecified failure",
};

export function failMeaning(code) {
  return FAIL_MEANINGS[Number(code)] ?? `code ${code}`;
}

export function properties(stanza) {
  const values = {};
  const props = stanza.getChild("properties", JIVE);
  if (!props) return null;
  for (const prop of props.getChildren("property")) {
    values[prop.getChildText("name")] = prop.getChildText("value") ?? "";
  }
  return values;
}

function propertyElements(values) {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([name, value]) => xml("property", {}, xml("name", {}, name), xml("value", { type: "string" }, String(value))));
}

// Unique per sender, as the spec's ids are: milliseconds and a random tail for two sends in one millisecond.
export function newMessageId() {
  return `${Date.now()}${Math.floor(Math.random() * 1000).toString().padStart(3, "0")}`;
}

export function mmsStanza({ id, to, subject, text, attach, thumbnail, originalImageAttached, group }) {
  const values = {
    MsgType: "1",
    MsgText: text || undefined,
    attach: attach.length ? attach.join(",") : undefined,
    original_image_attached: originalImageAttached ? "true" : "false",
    // Vendor extension (spec "Project decisions"): ask for the per-member report on group messages.
    DeliveryReport: group ? "true" : undefined,
  };
  return xml(
    "message",
    { id, to, type: "chat" },
    subject ? xml("subject", {}, subject) : null,
    xml("properties", { xmlns: JIVE }, ...propertyElements(values)),
    thumbnail ? xml("body", {}, thumbnail) : null,
  );
}

// spec 7.5.2: the terminal answers to ACK@domain / FAIL@domain with the MMS's id.
export function answerStanza({ id, domain, ack, returnCode }) {
  return xml(
    "message",
    { id, to: `${ack ? "ACK" : "FAIL"}@${domain}`, type: "chat" },
    xml("properties", { xmlns: JIVE }, ...propertyElements({ MsgType: ack ? "2" : "3", ReturnCode: returnCode })),
  );
}

export function splitList(value) {
  return value ? value.split(",").map((s) => s.trim()).filter(Boolean) : [];
}
