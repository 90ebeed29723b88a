// The web preview in headless Chromium (Debian's, driven by playwright-core):
// the countdown, availability after real reservations, a greyed-out full slot,
// screenshots, and 1,000 random requests answered in the browser exactly as the
// server answers them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Written on every run (ignored by git); examples/web-preview/screenshots/ keeps a reference copy.
const SHOTS = path.join(HERE, "..", "test-output");
let server, browser, page, base;

const api = async (story, what, body) => {
  const r = await fetch(`${base}/api/${story}/${what}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  return r.json();
};

before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-web-test-"));
  server = spawn(process.execPath, [path.join(HERE, "..", "server.mjs"), "--port", "0", "--dir", dir, "--frozen"], { stdio: ["ignore", "pipe", "inherit"] });
  base = await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => {
      const m = String(d).match(/http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    server.on("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(base);
  await page.waitForFunction(() => window.kontingent?.ready === true, null, { timeout: 20_000 });
  assert.deepEqual(errors, []);
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

const pageSeq = (story) => page.evaluate((s) => window.kontingent.stories[s].preview.seq, story);
async function caughtUp(story) {
  const want = (await api(story, "snapshot")).seq;
  await page.waitForFunction(([s, w]) => window.kontingent.stories[s].preview.seq === w, [story, want], { timeout: 10_000 });
}

test("a countdown to the opening", async () => {
  const text = await page.textContent("[data-testid=emstek-status]");
  assert.match(text, /^opens in 0[12]:\d\d$/);
  await page.screenshot({ path: path.join(SHOTS, "countdown.png") });
});

test("the README's browser block runs as written and answers as the server does", async () => {
  const readme = fs.readFileSync(path.join(HERE, "../../../README.md"), "utf8");
  const block = [...readme.matchAll(/```js\n(.*?)```/gs)].map((m) => m[1]).find((b) => b.includes("new Preview"));
  assert.ok(block, "the README has a browser block");
  const code = `${block.replace(`from "kontingent"`, `from "/js/browser.mjs"`)}\nwindow.__readme = { answer, now };\n`;
  await page.addScriptTag({ type: "module", content: code });
  const { answer, now } = await (await page.waitForFunction(() => window.__readme, null, { timeout: 10_000 })).jsonValue();
  const request = { requestId: "r1", customer: "anna", lines: [{ offer: "zur-post-20", quantity: 1 }] };
  const [server] = await api("emstek", "preview", { at: now, requests: [request] });
  assert.deepEqual(answer, server);
  const promised = block.match(/→ (\{.*\})/)[1].replace(/(\w+):/g, "\"$1\":");
  assert.deepEqual(answer, JSON.parse(promised));
});

test("after reservations the page shows the server's availability", async () => {
  const { now } = await api("emstek", "advance", { ms: 3 * 60_000 }); // 12:01: open
  const offers = ["eiscafe-venezia-20", "zur-post-10", "eiscafe-venezia-50", "dorfkrug-20"];
  for (let i = 0; i < 24; i++) {
    const out = await api("emstek", "reserve", {
      at: now + i,
      request: { requestId: `web-${i}`, customer: `c${i}@example.org`, lines: [{ offer: offers[i % 4], quantity: 1 + (i % 2) }] },
    });
    assert.ok(["held", "refused"].includes(out.status), JSON.stringify(out));
  }
  await caughtUp("emstek");
  const snap = await api("emstek", "snapshot");
  for (const p of snap.pools.filter((p) => p.name !== "budget")) {
    const shown = await page.textContent(`tr[data-pool="${p.name}"] td.left`);
    assert.equal(shown, `${Math.max(0, p.capacity - p.held - p.confirmed)} left`, p.name);
  }
  const venezia = snap.pools.find((p) => p.name === "eiscafe-venezia");
  assert.ok(venezia.held > 0, "the reservations reached the ledger");
  await page.screenshot({ path: path.join(SHOTS, "after-reservations.png") });
});

test("a full slot is greyed out and the next free one is shown", async () => {
  const slot = "delivery@2026-10-23T15:00";
  for (let i = 0; i < 4; i++) {
    const out = await api("pampanin", "reserve", {
      request: {
        requestId: `slot-${i}`, customer: `s${i}`, attributes: { postal_code: "49685" },
        lines: [{ offer: "vanilla-tub", quantity: 3 }, { offer: slot, quantity: 1 }],
      },
    });
    assert.equal(out.status, "held", JSON.stringify(out));
  }
  await caughtUp("pampanin");
  const button = page.locator(`button[data-offer="${slot}"]`);
  assert.equal(await button.isDisabled(), true);
  assert.match(await button.getAttribute("class"), /full/);
  // Too soon (lead time): greyed out too; a later one is free.
  assert.equal(await page.locator(`button[data-offer="delivery@2026-10-23T14:30"]`).isDisabled(), true);
  assert.equal(await page.locator(`button[data-offer="delivery@2026-10-23T15:30"]`).isDisabled(), false);
  assert.match(await page.textContent("[data-testid=pampanin-next]"), /next free slot: Friday 1[45]:\d\d/);
  await page.screenshot({ path: path.join(SHOTS, "slots.png") });
});

test("1,000 random requests: the browser's answer equals the server's", async () => {
  let seed = 42;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const catalogs = { emstek: await api("emstek", "catalog"), pampanin: await api("pampanin", "catalog") };
  const kinds = new Set();
  for (const story of ["emstek", "pampanin"]) {
    await caughtUp(story);
    const { now } = await api(story, "time");
    const offers = catalogs[story].offers.map((o) => o.name);
    const requests = Array.from({ length: 500 }, (_, i) => {
      const lines = [{ offer: offers[rnd(offers.length)], quantity: 1 + rnd(4) }];
      if (story === "pampanin" && rnd(2)) lines.push({ offer: offers[rnd(offers.length)], quantity: 1 });
      return {
        requestId: `rand-${story}-${i}`, customer: `rand-${story}-${i}`, lines,
        channel: rnd(4) === 0 ? "phone" : "web",
        attributes: { postal_code: ["49685", "49661", "10115"][rnd(3)] },
        confirm: rnd(3) === 0,
      };
    });
    const at = now + rnd(3_600_000); // the server refuses times before its own (time_went_backwards)
    const server = await api(story, "preview", { requests, at });
    const browserSide = await page.evaluate(([s, reqs, t]) => reqs.map((r) => {
      try { return window.kontingent.stories[s].preview.check(r, t); } catch (e) { return { error: { code: e.code } }; }
    }), [story, requests, at]);
    const strip = (o) => (o.error ? { error: { code: o.error.code } } : {
      ...o, ...(o.reservation !== undefined ? { reservation: 0 } : {}), ...(o.entry !== undefined ? { entry: 0 } : {}),
    });
    for (let i = 0; i < requests.length; i++) {
      assert.deepEqual(browserSide[i], strip(server[i]), JSON.stringify(requests[i]));
      kinds.add(server[i].error ? server[i].error.code : server[i].reason ?? server[i].status);
    }
  }
  // Not one kind of answer only: the comparison covered refusals and promises.
  for (const k of ["held", "confirmed", "sold_out", "closed", "rule"]) assert.ok(kinds.has(k), `no ${k} in ${[...kinds]}`);
  assert.ok(kinds.size >= 5, [...kinds].join(", "));
});
