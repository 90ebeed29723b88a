// The console's notifications panel in headless Chromium: a webhook whose
// receiver fails shows as dead at the event it is stuck on, with the error;
// the operator fixes the receiver and presses "Retry now"; the console then
// shows it delivered and caught up, and the receiver got each event once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startServer, launchChromium, OPERATOR, NOON } from "../harness.mjs";

const WAIT = { timeout: 15_000 };
let server, browser, page, receiver;
let failing = true;
const received = [];

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (failing) {
        res.writeHead(500).end();
        return;
      }
      received.push(JSON.parse(body).key);
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-secret-")), "secret");
  fs.writeFileSync(secret, "whsec-browser-test\n");
  server = await startServer(NOON + 46_000, [
    "--webhook", `emstek/webhook:kitchen=http://127.0.0.1:${receiver.address().port}/hook`,
    "--webhook-secret-file", secret,
    "--delivery-attempts", "3", "--retry-base-ms", "10",
  ]);
  const defined = await server.post("/v1/ledgers/emstek/consumers", OPERATOR,
    { consumer: "webhook:kitchen", events: ["confirmed"] });
  assert.equal(defined.status, "done", JSON.stringify(defined));
  for (const id of ["k1", "k2"]) {
    const r = await server.reserve(id, `${id}@example.org`, "zur-post-20", 1, { confirm: true });
    assert.equal(r.status, "confirmed", JSON.stringify(r));
  }
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1300, height: 1400 } });
  await page.goto(`${server.base}/console`);
  await page.fill("[data-testid=key]", OPERATOR);
  await page.click("button[type=submit]");
});

after(async () => {
  await browser?.close();
  server?.stop();
  receiver?.close();
});

test("a dead webhook shows in the console and is retried from it", async () => {
  const kitchen = '[data-testid=consumers] tr[data-consumer="webhook:kitchen"]';
  await page.waitForSelector(`${kitchen}[data-state=dead]`, WAIT);
  const shown = await page.textContent(kitchen);
  assert.match(shown, /dead at seq \d+ \(3 failures\)/);
  assert.match(shown, /500/);
  assert.match(shown, /webhook → http:\/\/127\.0\.0\.1:\d+\/hook/);
  assert.deepEqual(received, [], "nothing was acted on while it failed");
  failing = false;
  await page.click(`${kitchen} [data-testid=retry]`);
  await page.waitForSelector(`${kitchen}[data-state=idle]`, WAIT);
  await page.waitForFunction((sel) => document.querySelector(sel)?.children[3]?.textContent === "0", kitchen, WAIT);
  assert.equal(received.length, 2, "both confirmations, once each");
  assert.equal(new Set(received).size, 2);
});
