// A shop's page on another origin runs the browser Preview (WASM) on the
// server's catalog and availability and follows the server's event stream.
// Through 1,000 random HTTP reserves, confirms and releases (and the clock
// moving, so holds expire and waiting lists are served) its availability stays
// the server's: compared whole at checkpoints and at the end, with its seq equal
// to the server's. A second page that loses one delta on purpose shows that a
// lost delta is caught.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, launchChromium, ROOT, CLIENT, OPERATOR, NOON } from "../harness.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REQUESTS = 1000;
const CHECK_EVERY = 100;
const AT_ONCE = 8; // requests in flight together: the server's group commit orders them
const WAIT = { timeout: 15_000 };

// The shop's own tiny static server: the page, the binding's browser build.
const STATIC = {
  "/": [path.join(HERE, "../page/follow.html"), "text/html"],
  "/follow.mjs": [path.join(HERE, "../page/follow.mjs"), "text/javascript"],
  "/js/browser.mjs": [path.join(ROOT, "bindings-wasm/js/browser.mjs"), "text/javascript"],
  "/js/clock.mjs": [path.join(ROOT, "bindings-wasm/js/clock.mjs"), "text/javascript"],
  "/pkg-web/kontingent_wasm.js": [path.join(ROOT, "bindings-wasm/pkg-web/kontingent_wasm.js"), "text/javascript"],
  "/pkg-web/kontingent_wasm_bg.wasm": [path.join(ROOT, "bindings-wasm/pkg-web/kontingent_wasm_bg.wasm"), "application/wasm"],
};

let server, shop, shopBase, browser;
const thrown = []; // errors the pages' scripts threw

before(async () => {
  for (const [file] of Object.values(STATIC)) {
    assert.ok(fs.existsSync(file), `${file} is missing: build the binding first (bash scripts/build-wasm.sh)`);
  }
  server = await startServer(NOON + 46_000);
  shop = http.createServer((req, res) => {
    const found = STATIC[new URL(req.url, "http://127.0.0.1").pathname];
    if (!found) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": found[1] });
    fs.createReadStream(found[0]).pipe(res);
  });
  await new Promise((resolve) => shop.listen(0, "127.0.0.1", resolve));
  shopBase = `http://127.0.0.1:${shop.address().port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  shop?.close();
  server?.stop();
});

async function follow(drop) {
  const page = await browser.newPage();
  page.on("pageerror", (e) => thrown.push(e.message));
  const query = new URLSearchParams({ server: server.base, ledger: "emstek", ...(drop ? { drop: String(drop) } : {}) });
  await page.goto(`${shopBase}/?${query}`);
  await page.waitForFunction(() => window.follower?.ready === true, null, WAIT);
  return page;
}
const seen = (page) => page.evaluate(() => {
  const f = window.follower;
  return { seq: f.preview.seq, snapshot: f.preview.snapshot(), errors: f.errors, applied: f.applied,
    received: f.received, startSeq: f.startSeq, types: f.types };
});

/** Wait until the page has applied every delta up to the server's seq, then compare whole. */
async function assertEqual(page, label) {
  const server_ = await server.availability();
  try {
    await page.waitForFunction((s) => window.follower.preview.seq >= s || window.follower.errors.length > 0, server_.seq, WAIT);
  } catch {
    const mine = await seen(page);
    assert.fail(`${label}: the page is at seq ${mine.seq}, the server at ${server_.seq} (a delta missing?)`);
  }
  const mine = await seen(page);
  assert.deepEqual(mine.errors, [], label);
  assert.deepEqual(thrown, [], `${label}: the page threw`);
  assert.equal(mine.seq, server_.seq, `${label}: the page's seq is the server's`);
  assert.deepEqual(mine.snapshot, server_, `${label}: the page's availability is the server's`);
}

test("a browser preview on another origin follows the server's events through 1,000 random requests", async () => {
  const page = await follow();
  assert.notEqual(new URL(page.url()).origin, new URL(server.base).origin, "the page is on another origin");
  const start = await seen(page);
  assert.equal(start.seq, (await server.availability()).seq);
  // The control: a page that loses one delta early on.
  const lossy = await follow(start.seq + 3);

  // mulberry32: a fixed seed, so a failure replays (an LCG's low bits repeat too soon).
  let seed = 16;
  const rnd = (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const offers = (await server.get("/v1/ledgers/emstek/catalog")).offers.map((o) => o.name);
  // Mostly the small restaurants, so pools sell out and waiting lists fill.
  const hot = offers.filter((o) => /^(eiscafe-venezia|hofcafe)-[12]0$/.test(o));
  const offer = () => (rnd(4) ? hot[rnd(hot.length)] : offers[rnd(offers.length)]);
  const held = new Set();
  const confirmed = new Set();
  const answers = {};
  const note = (kind) => { answers[kind] = (answers[kind] ?? 0) + 1; };
  let now = NOON + 46_000;

  /** One random request; its answer moves what the test knows of the reservations. */
  const request = async (i, busy) => {
    const pick = (set) => [...set].filter((id) => !busy.has(id))[rnd(Math.max(1, set.size))];
    const roll = rnd(100);
    if (roll < 60 || held.size + confirmed.size === 0) {
      const body = {
        request_id: `r${i}`, customer: `c${rnd(300)}@example.org`,
        lines: [{ offer: offer(), quantity: 1 + rnd(3) }],
        ...(rnd(7) === 0 ? { confirm: true } : {}),
        ...(rnd(4) === 0 ? { waitlist: true } : {}),
        ...(rnd(3) === 0 ? { hold_ms: 30_000 + rnd(240_000) } : {}),
      };
      const r = await server.call("POST", "/v1/ledgers/emstek/reserve", CLIENT, body);
      assert.equal(r.status, 200, r.text);
      note(r.body.reason ?? r.body.status);
      if (r.body.status === "held") held.add(r.body.reservation);
      if (r.body.status === "confirmed") confirmed.add(r.body.reservation);
      return;
    }
    const verb = roll < 80 && held.size > 0 ? "confirm" : "release";
    const id = pick(verb === "confirm" ? held : rnd(2) && confirmed.size ? confirmed : held.size ? held : confirmed);
    if (id === undefined) return;
    busy.add(id);
    const r = await server.call("POST", `/v1/ledgers/emstek/${verb}`, CLIENT, { reservation: id });
    // A hold that expired answers `hold_expired` (confirm) or a reservation_state conflict (release).
    assert.ok(r.status === 200 || r.body?.code === "reservation_state", `${verb} ${id}: ${r.text}`);
    note(r.status === 200 ? (r.body.reason ?? r.body.status) : `${verb}: ${r.body.code}`);
    held.delete(id);
    if (r.body.status === "confirmed") confirmed.add(id);
    if (r.body.status === "released") confirmed.delete(id);
  };

  for (let i = 0; i < REQUESTS; i += AT_ONCE) {
    const busy = new Set();
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, REQUESTS - i) }, (_, k) => request(i + k, busy)));
    // Time passes: holds lapse at the next command and waiting lists are served.
    if (i % 48 === 0) await server.setClock((now += 40_000));
    if (i === 400) assert.deepEqual(await server.post("/v1/ledgers/emstek/pause", OPERATOR), { status: "done" });
    if (i === 440) assert.deepEqual(await server.post("/v1/ledgers/emstek/resume", OPERATOR), { status: "done" });
    if (i === 600) {
      const r = await server.post("/v1/ledgers/emstek/capacity", OPERATOR, { pool: "eiscafe-venezia", capacity: 40 });
      assert.deepEqual(r, { status: "done" });
    }
    if ((i + AT_ONCE) % CHECK_EVERY < AT_ONCE) await assertEqual(page, `after ${i + AT_ONCE} requests`);
  }
  await assertEqual(page, "at the end");

  const end = await seen(page);
  assert.equal(end.applied, end.seq - start.seq, "every delta was applied, one by one");
  // The run was not one kind of answer only.
  for (const kind of ["held", "confirmed", "released", "sold_out", "waiting", "paused", "customer_limit"]) {
    assert.ok(answers[kind] > 0, `no ${kind} among ${JSON.stringify(answers)}`);
  }
  for (const type of ["levels", "capacity", "paused", "resumed"]) {
    assert.ok(end.types[type] > 0, `no ${type} delta among ${JSON.stringify(end.types)}`);
  }
  assert.ok(end.seq - start.seq > 600, `only ${end.seq - start.seq} deltas`);
  console.log(`${end.seq - start.seq} deltas followed; answers ${JSON.stringify(answers)}; deltas ${JSON.stringify(end.types)}`);

  // The lossy page heard every delta but applies none after the lost one: caught.
  const server_ = await server.availability();
  await lossy.waitForFunction((s) => window.follower.received >= s, server_.seq, WAIT);
  const lost = await seen(lossy);
  assert.equal(lost.seq, start.seq + 2, "it stopped before the lost delta");
  assert.match(lost.errors[0], /^delta_gap/);
  assert.notEqual(lost.seq, server_.seq);
  assert.notDeepEqual(lost.snapshot, server_);
});
