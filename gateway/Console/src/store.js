// The console's state: contacts from the roster and one conversation per user or talk group, in arrival order.
import { failMeaning } from "./mms.js";

export const TALK_GROUPS = "Talk groups";

export class Store {
  constructor() {
    this.contacts = new Map(); // local part (UDN or GDN) → { id, name, group, memberOf }
    this.conversations = new Map(); // contact id → [message]
    this.byId = new Map(); // message id → message, outgoing and incoming
    this.listeners = new Set();
  }

  changed() {
    for (const listener of this.listeners) listener();
  }

  setRoster(items) {
    this.contacts.clear();
    for (const item of items) {
      const id = item.jid.split("@")[0];
      const group = item.groups.includes(TALK_GROUPS);
      this.contacts.set(id, { id, name: item.name, group, memberOf: group ? [] : item.groups, presence: item.subscription === "both", resources: new Map() });
    }
    this.changed();
  }

  // RFC 6121 §4: presence per resource (full JID); a contact is online while any resource is available.
  presence(from, type, show) {
    const [bare, resource = ""] = from.split("/");
    const contact = this.contacts.get(bare.split("@")[0]);
    if (!contact || contact.group) return;
    contact.resources ??= new Map();
    if (type === "unavailable") contact.resources.delete(resource);
    else if (!type) contact.resources.set(resource, show ?? "");
    else return;
    this.changed();
  }

  // "online", "away" (every available resource away, xa or dnd) or "offline".
  availability(id) {
    const shows = [...(this.contacts.get(id)?.resources?.values() ?? [])];
    if (!shows.length) return "offline";
    return shows.some((show) => show === "" || show === "chat") ? "online" : "away";
  }

  contact(id) {
    if (!this.contacts.has(id)) this.contacts.set(id, { id, name: id, group: false, memberOf: [], unlisted: true, resources: new Map() });
    return this.contacts.get(id);
  }

  conversation(id) {
    if (!this.conversations.has(id)) this.conversations.set(id, []);
    return this.conversations.get(id);
  }

  add(conversationId, message) {
    if (this.byId.has(message.id) && this.byId.get(message.id).direction === message.direction) return this.byId.get(message.id);
    this.contact(conversationId);
    this.conversation(conversationId).push(message);
    this.byId.set(message.id, message);
    this.changed();
    return message;
  }

  // spec 7.5.2: ACK/FAIL with the MMS's id; for a group, the one aggregated answer (spec "Project decisions").
  answer(id, msgType, returnCode) {
    const message = this.byId.get(id);
    if (!message || message.direction !== "out") return;
    if (msgType === "2") {
      message.state = returnCode === "2" ? "read" : "delivered";
      message.detail = returnCode === "2" ? "ACK 2: read" : "ACK 1: received";
    } else {
      message.state = "failed";
      message.detail = `FAIL ${returnCode}: ${failMeaning(returnCode)}`;
    }
    this.changed();
  }

  report(id, report) {
    const message = this.byId.get(id);
    if (!message) return;
    message.report = report;
    this.changed();
  }

  unread(conversationId) {
    return this.conversation(conversationId).filter((m) => m.direction === "in" && !m.read).length;
  }
}
