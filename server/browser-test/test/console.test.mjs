// The operator console in headless Chromium against a real kontingent-server:
// the key is asked for and kept in the tab only; pause and resume reach the
// ledger (the next HTTP reserve is refused `paused`, then sells again); a
// capacity edited in the page shows in its bars and in the availability; the CSV
// it offers is the ledger's reservations; and what it shows stays the server's.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { startServer, launchChromium, CLIENT, OPERATOR, NOON } from "../harness.mjs";

const WAIT = { timeout: 10_000 };
let server, browser, page;
const thrown = []; // errors the console's script threw
const made = {}; // request id → the reservation the test made, and what became of it

/** Wait until `fn(arg)` holds in the page; the failure says what was awaited. */
async function until(what, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, WAIT);
  } catch (e) {
    throw new Error(`the console never showed ${what}: ${e.message}`);
  }
}
const text = (selector) => page.textContent(selector);
const row = (pool) => `[data-testid=pools] tr[data-pool="${pool}"]`;

async function consoleCaughtUp() {
  const { seq } = await server.availability();
  await until(`seq ${seq}`, (s) => document.querySelector("[data-testid=seq]")?.textContent === `seq ${s}`, seq);
}

/** Every pool as the console shows it, against the server's snapshot. */
async function assertBarsAreTheServers() {
  await consoleCaughtUp();
  const snap = await server.availability();
  const shown = await page.$$eval("[data-testid=pools] tbody tr", (rows) => rows.map((r) => ({
    name: r.dataset.pool,
    confirmed: Number(r.querySelector("td.confirmed").textContent),
    held: Number(r.querySelector("td.held").textContent),
    capacity: Number(r.querySelector("td.capacity").textContent),
    label: r.querySelector(".bar").getAttribute("aria-label"),
  })));
  assert.deepEqual(shown, snap.pools.map((p) => ({
    name: p.name,
    confirmed: p.confirmed,
    held: p.held,
    capacity: p.capacity,
    label: `${p.confirmed} confirmed and ${p.held} held of ${p.capacity}`,
  })));
}

before(async () => {
  server = await startServer(NOON + 46_000); // 12:00:46: the campaign is open
  const reserve = async (id, customer, offer, quantity = 1) => {
    const r = await server.reserve(id, customer, offer, quantity);
    assert.equal(r.status, "held", JSON.stringify(r));
    made[id] = { id: r.reservation, customer, state: "held" };
  };
  await reserve("a", "anna@example.org", "zur-post-20");
  await reserve("b", "ben@example.org", "zur-post-50");
  await reserve("c", "cem@example.org", "zur-post-10");
  await reserve("d", "<img src=x onerror=alert(1)>", "eiscafe-venezia-20", 2);
  const confirmed = await server.post("/v1/ledgers/emstek/confirm", CLIENT, { reservation: made.b.id });
  assert.equal(confirmed.status, "confirmed");
  made.b.state = "confirmed";
  const released = await server.post("/v1/ledgers/emstek/release", CLIENT, { reservation: made.c.id });
  assert.equal(released.status, "released");
  made.c.state = "released";

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1300, height: 1200 }, acceptDownloads: true });
  page.on("pageerror", (e) => thrown.push(e.message));
  await page.goto(`${server.base}/console`);
});

afterEach(() => assert.deepEqual(thrown.splice(0), [], "the console's script threw"));

after(async () => {
  await browser?.close();
  server?.stop();
});

test("the console asks for the operator key and keeps only that one, in the tab", async () => {
  await page.waitForSelector("[data-testid=login]", { state: "visible", ...WAIT });
  await page.fill("[data-testid=key]", CLIENT);
  await page.click("[data-testid=login] button");
  await until("that the client key is not the operator's", () =>
    document.querySelector("#login-error").textContent.includes("not the operator key"));
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a refused key is not kept");
  assert.equal(await page.isVisible("#console"), false);

  await page.fill("[data-testid=key]", OPERATOR);
  await page.click("[data-testid=login] button");
  await page.waitForSelector(row("zur-post"), WAIT);
  assert.equal(await page.evaluate((key) => Object.values(sessionStorage).includes(key), OPERATOR), true);
  assert.ok(!page.url().includes("key"), `no key in the URL: ${page.url()}`);
  assert.equal(await page.evaluate(() => document.cookie), "", "no cookie");
  await assertBarsAreTheServers();
});

test("names and customers reach the page as text, never as HTML", async () => {
  await until("the hold of the customer named like a tag", () =>
    [...document.querySelectorAll("[data-testid=expiring] td")].some((td) => td.textContent === "<img src=x onerror=alert(1)>"));
  assert.equal(await page.$$eval("main img", (imgs) => imgs.length), 0);
  const holds = await page.$$eval("[data-testid=expiring] tbody tr", (rows) => rows.map((r) => Number(r.dataset.reservation)));
  assert.deepEqual(holds, [made.a.id, made.d.id], "the holds, soonest first (the confirmed and the released are none)");
});

test("pause makes the next HTTP reserve refused `paused`, and resume sells again", async () => {
  assert.equal(await text("[data-testid=selling]"), "selling");
  assert.equal(await text("[data-testid=pause]"), "Pause sales");
  await page.click("[data-testid=pause]");
  // The page shows `paused` from the ledger's own event: the pause is journaled.
  await until("the campaign paused", () => document.querySelector("[data-testid=selling]").textContent === "paused");
  const r = await server.call("POST", "/v1/ledgers/emstek/reserve", CLIENT,
    { request_id: "after-pause", customer: "finn@example.org", lines: [{ offer: "zur-post-20", quantity: 1 }] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: "refused", reason: "paused" });
  assert.equal((await server.availability()).paused, true);
  await until("the paused refusal counted in its minute", () => {
    const t = document.querySelector("[data-testid=refusals]");
    const col = [...t.querySelectorAll("th")].findIndex((th) => th.textContent === "paused");
    const first = t.querySelector("tbody tr");
    return col > 0 && first?.children[col].textContent === "1" && first.children[0].textContent === "12:00";
  });

  assert.equal(await text("[data-testid=pause]"), "Resume sales");
  await page.click("[data-testid=pause]");
  await until("the campaign selling again", () => document.querySelector("[data-testid=selling]").textContent === "selling");
  const again = await server.reserve("after-resume", "finn@example.org", "zur-post-20");
  assert.equal(again.status, "held", JSON.stringify(again));
  made["after-resume"] = { id: again.reservation, customer: "finn@example.org", state: "held" };
  assert.equal((await server.availability()).paused, false);
});

test("a capacity raised in the console shows in its bars and in the availability", async () => {
  const before = (await server.availability()).pools.find((p) => p.name === "zur-post");
  assert.equal(before.capacity, 80);
  await page.fill(`${row("zur-post")} input`, "95");
  await page.click(`${row("zur-post")} button`);
  await until("zur-post's capacity 95", (sel) => document.querySelector(`${sel} td.capacity`).textContent === "95", row("zur-post"));
  const after = (await server.availability()).pools.find((p) => p.name === "zur-post");
  assert.deepEqual(after, { ...before, capacity: 95 });
  assert.equal(await text(`${row("zur-post")} td.left`), String(95 - after.held - after.confirmed));
  const widths = await page.$eval(`${row("zur-post")} .bar`, (bar) =>
    [bar.querySelector(".confirmed").style.width, bar.querySelector(".held").style.width].map(parseFloat));
  assert.ok(Math.abs(widths[0] - (100 * after.confirmed) / 95) < 0.01, `confirmed bar ${widths[0]}%`);
  assert.ok(Math.abs(widths[1] - (100 * after.held) / 95) < 0.01, `held bar ${widths[1]}%`);
  await assertBarsAreTheServers();
});

test("a capacity lowered to what is held sends the next request to the waiting list, shown", async () => {
  await page.fill(`${row("eiscafe-venezia")} input`, "2");
  await page.click(`${row("eiscafe-venezia")} button`);
  await until("eiscafe-venezia full", (sel) => document.querySelector(sel).classList.contains("full"), row("eiscafe-venezia"));
  const r = await server.reserve("wait-1", "gabi@example.org", "eiscafe-venezia-10", 1, { waitlist: true });
  assert.equal(r.status, "waiting", JSON.stringify(r));
  await until("one waiting for eiscafe-venezia-10", () =>
    document.querySelector('[data-testid=waiting] tr[data-offer="eiscafe-venezia-10"] td:last-child')?.textContent === "1");
});

test("the CSV the console offers is the ledger's reservations", async () => {
  const download = async () => {
    const [file] = await Promise.all([page.waitForEvent("download", WAIT), page.click("[data-testid=csv]")]);
    return { name: file.suggestedFilename(), text: fs.readFileSync(await file.path(), "utf8") };
  };
  const all = await download();
  assert.equal(all.name, "emstek-all-pools-reservations.csv");
  const direct = await server.call("GET", "/v1/ledgers/emstek/reservations.csv", OPERATOR);
  assert.equal(all.text, direct.text, "the file is the export, byte for byte");

  const [header, ...rows] = all.text.trimEnd().split("\n");
  assert.equal(header, "reservation,state,customer,channel,offer,quantity,pool,units,expires_at");
  const listed = new Map(rows.map((r) => r.split(",")).map(([id, state, customer]) => [Number(id), { state, customer }]));
  const promised = Object.values(made).filter((m) => m.state !== "released");
  assert.deepEqual([...listed.keys()].sort((a, b) => a - b), promised.map((m) => m.id).sort((a, b) => a - b),
    "every held and confirmed reservation, and nothing else");
  for (const m of promised) {
    const ledger = await server.get(`/v1/ledgers/emstek/reservations/${m.id}`, CLIENT);
    assert.deepEqual(listed.get(m.id), { state: ledger.state, customer: ledger.customer }, `reservation ${m.id}`);
    assert.equal(ledger.state, m.state);
  }

  await page.selectOption("[data-testid=csv-pool]", "zur-post");
  const one = await download();
  assert.equal(one.name, "emstek-zur-post-reservations.csv");
  assert.equal(one.text, (await server.call("GET", "/v1/ledgers/emstek/reservations.csv?pool=zur-post", OPERATOR)).text);
  assert.ok(one.text.trimEnd().split("\n").slice(1).every((r) => r.split(",")[6] === "zur-post"), one.text);
});

test("the event stream is live, and the page stays the server's", async () => {
  const r = await server.reserve("live-1", "hans@example.org", "dorfkrug-20", 3);
  assert.equal(r.status, "held");
  const { seq } = await server.availability();
  await until(`event #${seq} at the top of the list`, (s) => {
    const top = document.querySelector("[data-testid=events] li");
    return top?.dataset.seq === String(s) && top.textContent.includes("dorfkrug held +3");
  }, seq);
  assert.match(await text("[data-testid=stream]"), /live/);
  // A burst, as in a rush: the page draws once a frame and still adds up to the server.
  const burst = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    server.reserve(`burst-${i}`, `b${i}@example.org`, ["landhaus-linde-10", "hofcafe-20", "asia-garden-50"][i % 3], 1 + (i % 2))));
  assert.ok(burst.every((r) => r.status === "held"), JSON.stringify(burst.find((r) => r.status !== "held")));
  await assertBarsAreTheServers();
});

test("a reload keeps the session; sign out forgets the key", async () => {
  await page.reload();
  await page.waitForSelector(row("zur-post"), WAIT);
  assert.equal(await page.isVisible("[data-testid=login]"), false);
  await page.click("[data-testid=sign-out]");
  await page.waitForSelector("[data-testid=login]", { state: "visible", ...WAIT });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  const other = await browser.newPage();
  await other.goto(`${server.base}/console`);
  await other.waitForSelector("[data-testid=login]", { state: "visible", ...WAIT });
  await other.close();
});
