// Browser scenarios of the dispatch console, in Debian's Chromium driven by playwright-core.
// Usage: node scenarios.mjs <scenario> '<json arguments>'   (ConsoleBrowser_Tests runs each one)
// Prints "SCENARIO-OK <name>" and exits 0, or prints what failed and exits 1. Screenshots go to args.out.
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [scenario, json] = process.argv.slice(2);
const args = JSON.parse(json);
const base = args.base;
const timeout = 30_000;
mkdirSync(args.out, { recursive: true });
// Files the scenarios upload live here, not among the screenshots.
const scratch = mkdtempSync(join(tmpdir(), "mmss-console-"));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // Root in a container needs --no-sandbox; the rest keep Chromium off a network this machine does not have.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});

async function newPage(name, viewport = { width: 1100, height: 720 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (error) => console.error(`[${name}] page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") console.error(`[${name}] console: ${message.text()}`);
  });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(args.out, `${name}.png`) });
}

async function login(page, udn, password) {
  await page.goto(`${base}/console`);
  await page.fill("#udn", udn);
  await page.fill("#password", password);
  await page.click("#login-button");
  await page.waitForSelector("body[data-screen=main] #status[data-kind=ok]");
}

async function openConversation(page, id) {
  await page.click(`[data-contact="${id}"]`);
  await page.waitForSelector(`#conversation-title:has-text("${id}")`);
}

// Sends from the open conversation; returns the new message's id.
async function send(page, { subject, text, file }) {
  const before = await page.locator(".msg.out").count();
  await page.fill("#subject", subject);
  await page.fill("#text", text);
  if (file) await page.setInputFiles("#files", file);
  await page.click("#send-button");
  const message = page.locator(".msg.out").nth(before);
  await message.waitFor();
  return message.getAttribute("data-id");
}

async function waitForDetail(page, id, text) {
  await page.waitForSelector(`.msg.out[data-id="${id}"] .detail:has-text("${text}")`);
}

// A real photo-like PNG for the thumbnail and the preview, drawn by the browser itself (no binary in the repository).
async function sceneImage() {
  const page = await newPage("image", { width: 640, height: 400 });
  await page.setContent(`<canvas id="c" width="640" height="400"></canvas><script>
    const g = document.getElementById("c").getContext("2d");
    const sky = g.createLinearGradient(0, 0, 640, 400);
    sky.addColorStop(0, "#0b5cad"); sky.addColorStop(1, "#f0a020");
    g.fillStyle = sky; g.fillRect(0, 0, 640, 400);
    g.fillStyle = "#fff"; g.font = "bold 56px sans-serif"; g.fillText("SCENE 42", 180, 220);
  </script>`);
  const path = join(scratch, "scene-42.png");
  await page.screenshot({ path });
  await page.context().close();
  return path;
}

async function imageLoaded(page, selector) {
  await page.waitForFunction((s) => {
    const image = document.querySelector(s);
    return image && image.complete && image.naturalWidth > 0;
  }, selector);
}

const scenarios = {
  // Two consoles exchange an MMS with an image: thumbnail made in the browser, attachment uploaded first,
  // ACK 1 on receipt, ACK 2 once the recipient has the conversation open.
  async "image-mms"({ a, b, password }) {
    const image = await sceneImage();
    const pageA = await newPage("A");
    const pageB = await newPage("B");
    await pageA.goto(`${base}/console`);
    await shot(pageA, "01-login");
    await login(pageA, a, password);
    await login(pageB, b, password);
    await openConversation(pageA, b);
    const id = await send(pageA, { subject: "Scene photo", text: "Vehicle at the north gate.", file: image });
    await waitForDetail(pageA, id, "ACK 1: received");
    await pageB.waitForSelector(`[data-contact="${a}"] .badge`);
    await openConversation(pageB, a);
    const incoming = `.msg.in[data-id="${id}"]`;
    await pageB.waitForSelector(`${incoming} .text:has-text("Vehicle at the north gate.")`);
    await pageB.waitForSelector(`${incoming}[data-thumbnail=yes]`);
    await imageLoaded(pageA, `.msg.out[data-id="${id}"] img.thumbnail`);
    await imageLoaded(pageB, `${incoming} img.preview`);
    await waitForDetail(pageA, id, "ACK 2: read");
    await shot(pageA, "02-sender-sees-read");
    await shot(pageB, "03-recipient-with-image");
    // A handset-sized window shows the conversation alone, with a way back to the contacts.
    await pageB.setViewportSize({ width: 390, height: 740 });
    await shot(pageB, "04-narrow-window");
    await pageB.click("#back");
    await pageB.waitForSelector("#sidebar", { state: "visible" });
  },

  // A group send: the sender sees the one aggregated answer and the Delivered / Pending report.
  async "group-mms"({ a, b, offline, gdn, password }) {
    const pageA = await newPage("A");
    const pageB = await newPage("B");
    await login(pageA, a, password);
    await login(pageB, b, password);
    await openConversation(pageA, gdn);
    const id = await send(pageA, { subject: "All units", text: "Regroup at the depot." });
    await pageB.waitForSelector(`[data-contact="${gdn}"] .badge`);
    await waitForDetail(pageA, id, "ACK 1: received");
    const report = `.msg.out[data-id="${id}"] .report`;
    await pageA.waitForSelector(`${report} .delivered:has-text("${b}")`);
    await pageA.waitForSelector(`${report} .pending:has-text("${offline}")`);
    await shot(pageA, "05-group-report");
  },

  // An upload the server refuses: the reason (413 and why) is shown, and no MMS leaves.
  async "upload-refused"({ a, b, password, bytes }) {
    const page = await newPage("A");
    await login(page, a, password);
    await openConversation(page, b);
    const big = join(scratch, "too-big.bin");
    writeFileSync(big, Buffer.alloc(bytes, 7));
    const id = await send(page, { subject: "Too big", text: "a large file", file: big });
    await page.waitForSelector("#compose-error:has-text('upload refused (413')");
    await page.waitForSelector(`.msg.out.failed[data-id="${id}"]`);
    await shot(page, "08-upload-refused");
  },

  // Server unreachable, then a dropped connection: the console says so, reconnects by itself, and works on.
  // Playwright stands between the page and the server's WebSocket, so that it can refuse it or cut it.
  async "reconnect"({ a, b, password }) {
    const recipient = await newPage("B");
    await login(recipient, b, password);
    const page = await newPage("A");
    let reachable = false;
    let current = null;
    await page.routeWebSocket(/xmpp-websocket/, (ws) => {
      if (!reachable) {
        ws.close({ code: 1011, reason: "test: server unreachable" });
        return;
      }
      ws.connectToServer();
      current = ws;
    });
    await page.goto(`${base}/console`);
    await page.fill("#udn", a);
    await page.fill("#password", password);
    await page.click("#login-button");
    await page.waitForSelector("#login-error:has-text('Cannot reach the server')");
    await shot(page, "09-server-unreachable");

    reachable = true;
    await login(page, a, password);
    const first = current;
    await first.close({ code: 1001, reason: "test: connection dropped" });
    await page.waitForSelector("#status[data-kind=warn]:has-text('reconnecting')");
    await page.waitForFunction(() => document.querySelector("#status").dataset.kind === "ok");
    if (current === first) throw new Error("the console did not open a new WebSocket");
    await openConversation(page, b);
    const id = await send(page, { subject: "After the drop", text: "still here" });
    await waitForDetail(page, id, "ACK 1: received");
  },

  // Presence in the contact list: a member of the same talk group goes online, then logs out. (A page merely closed
  // stays available while its session waits to be resumed, XEP-0198, until Mmss:C2s:ResumeTimeoutSeconds.)
  async "presence"({ a, b, password }) {
    const pageA = await newPage("A");
    await login(pageA, a, password);
    await pageA.waitForSelector(`[data-contact="${b}"][data-presence=offline]`);
    const pageB = await newPage("B");
    await login(pageB, b, password);
    await pageA.waitForSelector(`[data-contact="${b}"][data-presence=online]`);
    await pageB.waitForSelector(`[data-contact="${a}"][data-presence=online]`);
    await shot(pageA, "10-contact-online");
    await pageB.click("#logout");
    await pageA.waitForSelector(`[data-contact="${b}"][data-presence=offline]`);
    await shot(pageA, "11-contact-offline");
  },

  async "wrong-password"({ a }) {
    const page = await newPage("A");
    await page.goto(`${base}/console`);
    await page.fill("#udn", a);
    await page.fill("#password", "not-the-password");
    await page.click("#login-button");
    await page.waitForSelector("#login-error:has-text('Wrong UDN or password')");
    await shot(page, "06-wrong-password");
  },

  // A slixmpp handset and the console: the console's MMS is ACKed by the handset, the handset's by the console.
  async "ue-exchange"({ a, ue, password }) {
    const page = await newPage("A");
    await login(page, a, password);
    await openConversation(page, ue);
    const id = await send(page, { subject: "To the handset", text: "from the console" });
    await waitForDetail(page, id, "ACK 1: received");
    await page.waitForSelector(`.msg.in .text:has-text("from the handset")`);
    await shot(page, "07-console-and-handset");
  },
};

let exitCode = 0;
try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await scenarios[scenario](args);
  console.log(`SCENARIO-OK ${scenario}`);
} catch (error) {
  exitCode = 1;
  console.error(`SCENARIO-FAILED ${scenario}: ${error.stack ?? error}`);
  for (const context of browser.contexts()) {
    for (const [i, page] of context.pages().entries()) {
      await page.screenshot({ path: join(args.out, `failed-${scenario}-${i}.png`) }).catch(() => {});
    }
  }
} finally {
  await browser.close();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(exitCode);
