// Consumers from Node: journaled cursors, stable keys, errors with codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Ledger, fixedClock } from "../js/node.mjs";

const T0 = Date.UTC(2026, 4, 4, 9, 0);

async function campaign(l) {
  await l.submit({ type: "define_pool", pool: "vouchers", capacity: 2 }, T0);
  await l.submit({ type: "define_offer", offer: "voucher", draws: [{ pool: "vouchers", amount: 1 }] }, T0);
}

test("a consumer is given the events it names, with keys that survive a reopen", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-consumers-"));
  const file = path.join(dir, "journal");
  const l = Ledger.open(file, { clock: fixedClock(T0) });
  await campaign(l);
  assert.deepEqual(await l.defineConsumer("mailer", ["confirmed", "promoted"]), { status: "done" });
  const seq = l.seq;
  const held = await l.reserve({ requestId: "a", customer: "a@example.org", lines: [{ offer: "voucher", quantity: 1 }] });
  await l.confirm(held.reservation);
  await l.reserve({ requestId: "b", customer: "b@example.org", lines: [{ offer: "voucher", quantity: 1 }], confirm: true });
  await l.reserve({ requestId: "c", customer: "c@example.org", lines: [{ offer: "voucher", quantity: 1 }], waitlist: true });
  await l.release(held.reservation); // promotes c
  const d = l.consume("mailer");
  assert.deepEqual(d.notifications.map((n) => n.event.kind.type), ["confirmed", "confirmed", "promoted"]);
  assert.equal(d.cursor, 0);
  assert.equal(d.through, l.seq);
  assert.match(d.ledger, /^[0-9a-f]{32}$/);
  for (const n of d.notifications) assert.equal(n.key, `${d.ledger}-${n.event.seq}`);
  assert.ok(d.notifications.every((n) => n.event.seq > seq));
  assert.deepEqual(await l.ack("mailer", d.notifications[0].event.seq), { status: "done" });
  assert.equal(l.consumer("mailer").cursor, d.notifications[0].event.seq);
  assert.equal(l.consume("mailer", { limit: 1 }).notifications[0].key, d.notifications[1].key);
  await l.ack("mailer", d.through);
  assert.equal(l.consume("mailer").notifications.length, 0);
  l.close();
  const again = Ledger.open(file, { clock: fixedClock(T0) });
  assert.deepEqual(again.consumers(), [{ name: "mailer", events: ["confirmed", "promoted"], cursor: d.through }]);
  again.close();
});

test("consumer misuse is an Error with a code and changes nothing", async () => {
  const l = Ledger.inMemory({ clock: fixedClock(T0) });
  await campaign(l);
  await l.defineConsumer("mailer", ["confirmed"]);
  const digest = l.digest;
  const code = async (fn, want) => {
    let err;
    try { await fn(); } catch (e) { err = e; }
    assert.ok(err instanceof Error, `expected ${want}`);
    assert.equal(err.code, want, err.message);
  };
  await code(() => l.consume("nobody"), "unknown_consumer");
  await code(() => l.ack("nobody", 0), "unknown_consumer");
  await code(() => l.ack("mailer", l.seq + 1), "out_of_range");
  await code(() => l.consume("mailer", { limit: 0 }), "out_of_range");
  await code(() => l.defineConsumer("m2", []), "empty");
  await code(() => l.defineConsumer("m2", ["bought"]), "invalid_input");
  await code(() => l.defineConsumer("m2", ["held", "held"]), "duplicate");
  assert.equal(l.digest, digest);
});
