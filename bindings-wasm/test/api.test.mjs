// The JS API: outcomes, errors with codes, the preview and its deltas, hostile input.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Ledger, Preview, compileCatalog } from "../js/node.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const NOON = Date.UTC(2026, 10, 29, 11, 0); // 12:00 in Berlin
const emstek = () =>
  compileCatalog(fs.readFileSync(`${ROOT}examples/emstek-vouchers/catalog.toml`, "utf8"), "toml", "emstek.toml");

const code = (fn, want) => {
  let err;
  try { fn(); } catch (e) { err = e; }
  assert.ok(err instanceof Error, `expected an Error with code ${want}`);
  assert.equal(err.code, want, err.message);
  return err;
};

test("outcomes are values with camelCase fields and stable codes", async () => {
  const l = Ledger.inMemory();
  await l.loadCatalog(emstek(), NOON - 3_600_000);
  const early = await l.reserve({ requestId: "r0", customer: "ben", lines: [{ offer: "zur-post-20", quantity: 1 }] }, NOON - 1000);
  assert.deepEqual(early, { status: "refused", reason: "not_open_yet", opensAt: NOON });
  const held = await l.reserve({ requestId: "r1", customer: "anna", lines: [{ offer: "zur-post-20", quantity: 2 }] }, NOON + 46_000);
  assert.equal(held.status, "held");
  assert.equal(held.units, 2);
  assert.equal(held.expiresAt, NOON + 46_000 + 5 * 60_000);
  // A double click answers the same and changes nothing.
  const again = await l.reserve({ requestId: "r1", customer: "anna", lines: [{ offer: "zur-post-20", quantity: 2 }] }, NOON + 47_000);
  assert.deepEqual(again, held);
  assert.deepEqual(await l.confirm(held.reservation, NOON + 60_000), { status: "confirmed", reservation: held.reservation, units: 2 });
  const greedy = await l.reserve({ requestId: "r2", customer: "anna", lines: [{ offer: "zur-post-50", quantity: 2 }] }, NOON + 61_000);
  assert.equal(greedy.status, "refused");
  assert.equal(greedy.reason, "customer_limit");
  assert.equal(l.pool("zur-post").confirmed, 2);
});

test("errors are Errors with .code, and change nothing", async () => {
  const l = Ledger.inMemory();
  await l.loadCatalog(emstek(), NOON);
  const before = l.digest;
  const bad = [
    [{ requestId: "x", customer: "c", lines: [{ offer: "nope", quantity: 1 }] }, "unknown_offer"],
    [{ requestId: "x", customer: "c", lines: [{ offer: "zur-post-20", quantity: -1 }] }, "invalid_input"],
    [{ requestId: "x", customer: "c", lines: [{ offer: "zur-post-20", quantity: 1e300 }] }, "invalid_input"],
    [{ requestId: "x", customer: "c", lines: [{ offer: "zur-post-20", quantity: "1" }] }, "invalid_input"],
    [{ requestId: 7, customer: "c", lines: [] }, "invalid_input"],
    [{ requestId: "x".repeat(1_000_000), customer: "c", lines: [{ offer: "zur-post-20", quantity: 1 }] }, "too_long"],
    [null, "invalid_input"],
  ];
  for (const [req, want] of bad) {
    await assert.rejects(l.reserve(req, NOON + 1), (e) => e instanceof Error && e.code === want, JSON.stringify(req)?.slice(0, 80));
  }
  await assert.rejects(l.reserve({ requestId: "y", customer: "c", lines: [] }, -5), (e) => e.code === "out_of_range");
  await assert.rejects(l.reserve({ requestId: "y", customer: "c", lines: [] }, 2 ** 60), (e) => e.code === "out_of_range");
  code(() => compileCatalog("[[pools]]\nname = 3", "toml", "bad.toml"), "invalid_catalog");
  const e = code(() => compileCatalog("[[pools]]\nname = 3", "toml", "bad.toml"), "invalid_catalog");
  assert.ok(e.issues.length > 0 && e.issues[0].line === 2, JSON.stringify(e.issues));
  assert.equal(l.digest, before, "bad input changed nothing");
});

test("the preview answers as the server, follows deltas, refuses gaps and replays", async () => {
  const l = Ledger.inMemory();
  await l.loadCatalog(emstek(), NOON - 3_600_000);
  const p = new Preview(l.catalog(), l.snapshot());
  const start = p.seq;
  const r = await l.submit({ type: "reserve", requestId: "a", customer: "anna", lines: [{ offer: "eiscafe-venezia-20", quantity: 3 }] }, NOON + 1);
  const deltas = l.deltasAfter(start);
  assert.ok(deltas.length >= 1);
  const gap = { ...deltas[deltas.length - 1], seq: deltas[deltas.length - 1].seq + 5 };
  code(() => p.applyDelta(gap), "delta_gap");
  for (const d of deltas) p.applyDelta(d);
  code(() => p.applyDelta(deltas[0]), "delta_replayed");
  assert.deepEqual(p.snapshot(), l.snapshot());
  assert.equal(p.available("eiscafe-venezia-20", "web"), l.available("eiscafe-venezia-20"));
  const probe = { requestId: "new", customer: "new-customer", lines: [{ offer: "eiscafe-venezia-50", quantity: 1 }] };
  const strip = (o) => ({ ...o, reservation: o.reservation === undefined ? undefined : 0 });
  assert.deepEqual(strip(p.check(probe, NOON + 2)), strip(l.preview(probe, NOON + 2)));
  assert.deepEqual(p.check(probe, NOON - 10), { status: "refused", reason: "not_open_yet", opensAt: NOON });
  assert.equal(r.outcome.status, "held");
  // Hostile snapshots and deltas are errors, not crashes.
  code(() => new Preview(l.catalog(), { seq: "x" }), "invalid_input");
  code(() => new Preview(l.catalog(), "{not json"), "invalid_input");
  code(() => p.applyDelta({ seq: p.seq + 1, change: { type: "levels", changes: [{ pool: 0, held: -1e6, confirmed: 0 }] } }), "delta_out_of_range");
  code(() => p.applyDelta({ seq: p.seq + 1, change: { type: "levels", changes: [{ pool: 999, held: 1, confirmed: 0 }] } }), "delta_unknown_pool");
  code(() => p.applyDelta(42), "invalid_input");
  code(() => p.check({ requestId: "z" }, NOON), "invalid_input");
  code(() => p.check(probe, Number.NaN), "out_of_range");
  assert.deepEqual(p.snapshot(), l.snapshot(), "refused deltas changed nothing");
});

test("pause, resume and the host's queries answer as in Python", async () => {
  const l = Ledger.inMemory();
  await l.loadCatalog(emstek(), NOON - 3_600_000);
  assert.equal(l.paused, false);
  await l.pause(NOON);
  assert.equal(l.paused, true);
  const r = { requestId: "p1", customer: "anna", lines: [{ offer: "zur-post-20", quantity: 1 }] };
  assert.deepEqual(await l.reserve(r, NOON + 1000), { status: "refused", reason: "paused" });
  await l.resume(NOON + 2000);
  const held = await l.reserve({ ...r, requestId: "p2" }, NOON + 3000);
  assert.equal(held.status, "held");
  assert.deepEqual(l.customerUsage("anna"), { "zur-post-20": 1 });
  assert.equal(l.offers().length, l.catalog().offers.length);
  assert.equal(l.offer("zur-post-20").name, "zur-post-20");
  const view = l.reservation(held.reservation);
  assert.deepEqual([view.customer, view.state, view.expiresAt], ["anna", "held", held.expiresAt]);
  assert.deepEqual(l.waitlist("zur-post-20"), []);
  assert.equal(l.waitEntry(1), null);
  code(() => l.reservation(-1), "out_of_range");
});
