// The dispatch console: log in, see whom you can reach, send and receive MMS with their ACK/FAIL.
import { connect, describeError, webSocketUrl } from "./connection.js";
import { answerStanza, mmsStanza, newMessageId, properties, splitList } from "./mms.js";
import { downloadUrl, isImageName, upload, UploadError } from "./attachments.js";
import { thumbnailBase64 } from "./thumbnail.js";
import { Store } from "./store.js";
import { $, h } from "./dom.js";

const store = new Store();
let session = null; // { connection, udn, domain }
let current = null; // the open conversation's contact id

const service = webSocketUrl(window.location);
const LOGIN_TIMEOUT_MS = 20_000;

function showScreen(name) {
  document.body.dataset.screen = name;
}

function setStatus(text, kind = "") {
  const status = $("#status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function showLoginError(text) {
  $("#login-error").textContent = text;
  $("#login-error").hidden = !text;
}

// --- login and the connection's life ---

async function login(event) {
  event.preventDefault();
  const udn = $("#udn").value.trim();
  const password = $("#password").value;
  if (!udn || !password) return showLoginError("Enter your UDN and password.");
  showLoginError("");
  $("#login-button").disabled = true;
  let everOnline = false;
  let serverError = null;
  // Before the first login succeeds, a closed WebSocket is a failed login, not a reason to retry forever.
  let failLogin;
  const loginFailed = new Promise((_, reject) => {
    failLogin = reject;
  });
  const connection = connect({
    udn,
    password,
    service,
    domain: window.location.hostname,
    onStanza,
    onStatus: (status) => {
      if (!everOnline) {
        if (status === "disconnect") failLogin(new Error(`websocket closed before login (${service})`));
        return;
      }
      if (status === "online") setStatus("online", "ok");
      else if (["disconnect", "connecting", "connect", "opening", "open"].includes(status)) setStatus("connection lost: reconnecting…", "warn");
    },
    onOnline: async (jid) => {
      everOnline = true;
      session = { connection, udn: jid.local, domain: jid.domain, jid: jid.toString() };
      $("#me").textContent = `${jid.local}`;
      setStatus("online", "ok");
      showScreen("main");
      // The browser's answer to "who can I reach": the talk groups and their members (roster, read-only).
      try {
        store.setRoster(await connection.roster());
      } catch (e) {
        setStatus(`online; contacts unavailable (${e.message})`, "warn");
      }
      // After the roster, so that the contacts' presence that answers it finds them listed.
      await connection.announce().catch(() => {});
      render();
    },
    onError: (error) => {
      if (error?.name === "SASLError") connection.stop();
      // The server's own reason (a SASL failure, a stream error) beats the closed socket that follows it.
      if (!everOnline && (error?.name === "SASLError" || error?.name === "StreamError")) serverError ??= error;
    },
  });
  // The password field is cleared at once: the closure above keeps it for reconnects, the page nowhere else.
  $("#password").value = "";
  const timeout = setTimeout(() => failLogin(new Error(`no answer from ${service}: cannot connect`)), LOGIN_TIMEOUT_MS);
  try {
    await Promise.race([connection.start(), loginFailed]);
  } catch (error) {
    await connection.stop();
    showLoginError(describeError(serverError ?? error, service));
  } finally {
    clearTimeout(timeout);
    $("#login-button").disabled = false;
  }
}

async function logout() {
  const connection = session?.connection;
  session = null;
  current = null;
  store.conversations.clear();
  store.byId.clear();
  store.contacts.clear();
  if (connection) await connection.stop();
  showScreen("login");
  $("#udn").focus();
}

// --- incoming stanzas ---

function onStanza(stanza) {
  if (!session) return;
  if (stanza.is("presence")) {
    if (stanza.attrs.from) store.presence(stanza.attrs.from, stanza.attrs.type, stanza.getChildText("show"));
    return;
  }
  if (!stanza.is("message")) return;
  const from = (stanza.attrs.from ?? "").split("/")[0];
  const local = from.split("@")[0];
  const id = stanza.attrs.id;
  const props = properties(stanza);
  if (!props) {
    // An ordinary chat message: shown, not answered.
    const body = stanza.getChildText("body");
    if (body) store.add(local, { id: id ?? newMessageId(), direction: "in", from: local, text: body, attach: [], time: new Date(), read: true, plain: true });
    return;
  }
  const msgType = props.MsgType;
  if ((local === "ACK" || local === "FAIL") && (msgType === "2" || msgType === "3")) {
    store.answer(id, msgType, props.ReturnCode);
    return;
  }
  if (msgType === "101" && props.Delivered !== undefined) {
    // The group report (vendor MsgType 101): who has the copy, who failed, who is still pending.
    store.report(id, { delivered: splitList(props.Delivered), failed: splitList(props.Failed), pending: splitList(props.Pending) });
    return;
  }
  const conversationId = props.MsgGroup || local;
  const message = store.add(conversationId, {
    id,
    direction: "in",
    from: local,
    subject: stanza.getChildText("subject") ?? "",
    text: props.MsgText ?? "",
    attach: splitList(props.attach),
    thumbnail: stanza.getChildText("body"),
    time: new Date(),
    read: false,
  });
  // spec 7.5.2: ACK 1 on receipt, at once; ACK 2 when the user has it in front of them.
  if (!message.received) {
    message.received = true;
    session.connection.send(answerStanza({ id, domain: session.domain, ack: true, returnCode: "1" }));
  }
  markReadIfVisible();
}

function markReadIfVisible() {
  if (!session || !current || document.visibilityState !== "visible") return;
  for (const message of store.conversation(current)) {
    if (message.direction !== "in" || message.read || message.plain) continue;
    message.read = true;
    session.connection.send(answerStanza({ id: message.id, domain: session.domain, ack: true, returnCode: "2" }));
  }
  render();
}

// --- sending ---

async function send(event) {
  event.preventDefault();
  if (!session || !current) return;
  const subject = $("#subject").value.trim();
  const text = $("#text").value.trim();
  const files = [...$("#files").files];
  if (!subject && !text && files.length === 0) return showComposeError("Write something or attach a file.");
  showComposeError("");
  const id = newMessageId();
  const contact = store.contact(current);
  const message = store.add(current, {
    id,
    direction: "out",
    subject,
    text,
    attach: files.map((f) => f.name),
    time: new Date(),
    state: files.length ? "uploading" : "sent",
    detail: files.length ? "uploading attachments…" : "sent, waiting for ACK",
    group: contact.group,
  });
  $("#send-button").disabled = true;
  try {
    const image = files.find((f) => f.type.startsWith("image/"));
    const thumbnail = image ? await thumbnailBase64(image) : null;
    message.thumbnail = thumbnail;
    if (files.length) await upload({ userid: session.udn, msgid: id, files });
    await session.connection.send(mmsStanza({
      id,
      to: `${current}@${session.domain}`,
      subject,
      text,
      attach: files.map((f) => f.name),
      thumbnail,
      originalImageAttached: Boolean(image),
      group: contact.group,
    }));
    if (message.state === "uploading") {
      message.state = "sent";
      message.detail = "sent, waiting for ACK";
    }
    $("#compose").reset();
  } catch (error) {
    message.state = "failed";
    message.detail = error instanceof UploadError ? error.message : `not sent: ${describeError(error, service)}`;
    showComposeError(message.detail);
  } finally {
    $("#send-button").disabled = false;
    store.changed();
  }
}

function showComposeError(text) {
  $("#compose-error").textContent = text;
  $("#compose-error").hidden = !text;
}

function open(contactId) {
  if (!contactId) return;
  current = contactId;
  store.contact(contactId);
  document.body.dataset.conversation = "open";
  render();
  markReadIfVisible();
  $("#text").focus();
}

// --- rendering ---

function render() {
  renderContacts();
  renderConversation();
}

function contactButton(contact) {
  const unread = store.unread(contact.id);
  // Presence flows only with the members the roster says are subscribed (both): not for groups, nor a typed UDN.
  const availability = contact.presence ? store.availability(contact.id) : null;
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", className: contact.id === current ? "contact current" : "contact", "data-contact": contact.id, "data-presence": availability, onclick: () => open(contact.id) },
      availability ? h("span", { className: `presence ${availability}`, title: availability, "aria-label": availability }) : null,
      h("span", { className: "name" }, contact.name),
      h("span", { className: "number" }, contact.id),
      unread ? h("span", { className: "badge", title: `${unread} unread` }, unread) : null,
    ),
  );
}

function renderContacts() {
  const all = [...store.contacts.values()];
  const groups = all.filter((c) => c.group);
  const people = all.filter((c) => !c.group);
  $("#contacts").replaceChildren(
    h("h2", {}, "Talk groups"),
    groups.length ? h("ul", {}, groups.map(contactButton)) : h("p", { className: "hint" }, "You belong to no talk group."),
    h("h2", {}, "Users"),
    people.length ? h("ul", {}, people.map(contactButton)) : h("p", { className: "hint" }, "Nobody shares a talk group with you yet: type a UDN above."),
  );
}

function stateLabel(message) {
  return { uploading: "…", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "✗" }[message.state] ?? "";
}

function attachmentList(message, sender) {
  if (!message.attach.length) return null;
  return h(
    "ul",
    { className: "attachments" },
    message.attach.map((file) => {
      const url = downloadUrl({ userid: sender, msgid: message.id, file });
      return h(
        "li",
        {},
        isImageName(file) && message.direction === "in" ? h("img", { src: url, alt: file, className: "preview", loading: "lazy" }) : null,
        h("a", { href: url, download: file, title: "Download" }, file),
      );
    }),
  );
}

function messageView(message) {
  const sender = message.direction === "out" ? session.udn : message.from;
  const group = store.contact(current).group;
  return h(
    "li",
    { className: `msg ${message.direction} ${message.state ?? ""}`, "data-id": message.id, "data-thumbnail": message.thumbnail ? "yes" : null },
    group && message.direction === "in" ? h("div", { className: "from" }, store.contacts.get(message.from)?.name ?? message.from) : null,
    message.subject ? h("div", { className: "subject" }, message.subject) : null,
    message.text ? h("div", { className: "text" }, message.text) : null,
    // The thumbnail stands for an image until the attachment itself is previewed (incoming images are).
    message.thumbnail && !(message.direction === "in" && message.attach.some(isImageName))
      ? h("img", { className: "thumbnail", alt: "thumbnail", src: `data:image/jpeg;base64,${message.thumbnail}` })
      : null,
    attachmentList(message, sender),
    h(
      "div",
      { className: "meta" },
      h("time", {}, message.time.toLocaleTimeString()),
      message.direction === "out" ? h("span", { className: "state", title: message.detail }, stateLabel(message), " ", h("span", { className: "detail" }, message.detail)) : null,
    ),
    message.report
      ? h(
          "div",
          { className: "report" },
          h("span", { className: "delivered" }, `Delivered: ${message.report.delivered.join(", ") || "—"}`),
          h("span", { className: message.report.failed.length ? "failed some" : "failed" }, `Failed: ${message.report.failed.join(", ") || "—"}`),
          h("span", { className: "pending" }, `Pending: ${message.report.pending.join(", ") || "—"}`),
        )
      : null,
  );
}

function renderConversation() {
  if (!current) {
    $("#conversation-title").textContent = "";
    $("#messages").replaceChildren(h("li", { className: "hint" }, "Choose a talk group or a user, or type a UDN."));
    $("#compose").hidden = true;
    return;
  }
  const contact = store.contact(current);
  $("#conversation-title").textContent = contact.group ? `${contact.name} · talk group ${contact.id}` : `${contact.name} · ${contact.id}`;
  $("#compose").hidden = false;
  const list = $("#messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...store.conversation(current).map(messageView));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// --- wiring ---

store.listeners.add(render);
$("#login-form").addEventListener("submit", login);
$("#compose").addEventListener("submit", send);
$("#logout").addEventListener("click", logout);
$("#back").addEventListener("click", () => {
  document.body.dataset.conversation = "";
});
$("#open-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const udn = $("#open-udn").value.trim();
  if (udn) open(udn);
  $("#open-udn").value = "";
});
// Ctrl+Enter sends, as in most messaging consoles.
$("#text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("#compose").requestSubmit();
});
document.addEventListener("visibilitychange", markReadIfVisible);
showScreen("login");
$("#udn").focus();
