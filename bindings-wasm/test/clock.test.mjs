// Clocks: every call without a time reads the ledger's clock and nothing else; a
// reading never rewinds the ledger; an explicit time older than the ledger's is an
// error naming both times.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Ledger, ManualClock, compileCatalog, fixedClock, systemClock } from "../js/node.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const NOON = Date.UTC(2026, 10, 29, 11, 0); // the Emstek opening, 12:00 in Berlin
const emstek = () =>
  compileCatalog(fs.readFileSync(`${ROOT}examples/emstek-vouchers/catalog.toml`, "utf8"), "toml", "emstek.toml");
const voucher = (id) => ({ requestId: id, customer: `c-${id}`, lines: [{ offer: "zur-post-20", quantity: 1 }] });

test("calls without a time are stamped by the ledger's clock", async () => {
  const clock = new ManualClock(NOON - 60_000);
  const l = Ledger.inMemory({ clock });
  assert.equal(l.clock, clock);
  await l.loadCatalog(emstek());
  assert.equal(l.now, NOON - 60_000, "the catalog loads at the clock's now");
  assert.deepEqual(await l.reserve(voucher("early")), { status: "refused", reason: "not_open_yet", opensAt: NOON });
  assert.equal(l.preview(voucher("p")).reason, "not_open_yet", "a preview without a time reads the clock too");
  clock.advance(61_000);
  assert.equal(l.preview(voucher("p")).status, "held");
  const held = await l.reserve(voucher("on-time"));
  assert.equal(held.expiresAt, NOON + 1000 + 5 * 60_000);
  assert.equal(l.whyUnavailable("zur-post-20"), null);
});

test("a clock reading behind the ledger's time is a floor, never a rewind", async () => {
  const clock = new ManualClock(NOON + 10_000);
  const l = Ledger.inMemory({ clock });
  await l.loadCatalog(emstek());
  clock.set(NOON - 3_600_000); // an hour back: stamps stay at the ledger's time
  const held = await l.reserve(voucher("a"));
  assert.equal(held.status, "held");
  assert.equal(held.expiresAt, NOON + 10_000 + 5 * 60_000);
  assert.equal(l.now, NOON + 10_000);
});

test("an explicit time older than the ledger's is an error naming both times, and changes nothing", async () => {
  const l = Ledger.inMemory({ clock: fixedClock(new Date(NOON)) });
  await l.loadCatalog(emstek());
  const before = l.digest;
  await assert.rejects(l.reserve(voucher("late"), NOON - 1), (e) => {
    assert.equal(e.code, "time_went_backwards");
    assert.match(e.message, new RegExp(`${NOON - 1}.*${NOON}`));
    return true;
  });
  assert.equal(l.digest, before);
});

test("the default clock is the system clock, and a bad clock is refused", async () => {
  assert.equal(Ledger.inMemory().clock, systemClock);
  const t = systemClock.now();
  assert.ok(Number.isSafeInteger(t) && t > Date.UTC(2020, 0, 1));
  for (const bad of [null, 42, {}, { now: 1 }]) {
    assert.throws(() => Ledger.inMemory({ clock: bad }), (e) => e.code === "invalid_input");
  }
  assert.throws(() => new ManualClock(-1), (e) => e.code === "invalid_input");
  assert.throws(() => fixedClock("noon"), (e) => e.code === "invalid_input");
});

// Issue 15, point 5: times are whole milliseconds end to end, never through a
// float division; a fraction is refused, a Date keeps its millisecond.
test("times are whole milliseconds: a fraction is refused, a Date keeps its millisecond, far years too", async () => {
  for (const bad of [1.5, NOON + 0.25, Number.MAX_SAFE_INTEGER + 2, -1, NaN, "1000"]) {
    assert.throws(() => new ManualClock(bad), (e) => e.code === "invalid_input", String(bad));
  }
  const l = Ledger.inMemory({ clock: fixedClock(0) });
  await l.loadCatalog(compileCatalog(JSON.stringify({
    hold: "10m",
    pools: [{ name: "p", capacity: 5 }],
    offers: [{ name: "o", draws: { p: 1 } }],
  }), "json", "t.json"));
  const before = l.digest;
  await assert.rejects(l.reserve({ requestId: "f", customer: "c", lines: [{ offer: "o", quantity: 1 }] }, NOON + 0.5),
    (e) => e.code === "invalid_input" || e.code === "out_of_range");
  assert.equal(l.digest, before, "a refused time changes nothing");
  const odd = new Date("1978-08-10T09:08:42.761Z");
  const held = await l.reserve({ requestId: "a", customer: "c", lines: [{ offer: "o", quantity: 1 }] }, odd);
  assert.equal(held.expiresAt, odd.getTime() + 600_000);
  assert.equal(new Date(held.expiresAt).toISOString(), "1978-08-10T09:18:42.761Z");
  const far = new Date("3999-12-31T23:00:00.001Z");
  const late = await l.reserve({ requestId: "b", customer: "d", lines: [{ offer: "o", quantity: 1 }] }, far);
  assert.equal(late.expiresAt, far.getTime() + 600_000);
  // At its own expiresAt a hold is over: confirming it then is too late.
  const again = await l.confirm(late.reservation, late.expiresAt);
  assert.equal(again.reason, "hold_expired", JSON.stringify(again));
});
