// The Node ledger on a journal file: group commit per tick, recovery, and the
// same bytes as the Rust core's (shared vectors; Node's journal read by Rust and Python).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { Ledger, compileCatalog } from "../js/node.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const NOON = Date.UTC(2026, 10, 29, 11, 0);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-node-"));
const emstek = () =>
  compileCatalog(fs.readFileSync(`${ROOT}examples/emstek-vouchers/catalog.toml`, "utf8"), "toml", "emstek.toml");

test("requests of one tick share one fdatasync; a restart replays them", async () => {
  const file = path.join(tmp(), "shop.journal");
  const l = Ledger.open(file);
  await l.loadCatalog(emstek(), NOON - 3_600_000);
  const real = fs.fdatasyncSync;
  let syncs = 0;
  fs.fdatasyncSync = (fd) => { syncs += 1; return real(fd); };
  try {
    const outs = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        l.reserve({ requestId: `r${i}`, customer: `c${i}`, lines: [{ offer: "eiscafe-venezia-20", quantity: 1 }] }, NOON + 1000)),
    );
    assert.equal(syncs, 1, "50 requests in one tick, one fdatasync");
    assert.equal(outs.filter((o) => o.status === "held").length, 15, "eiscafe-venezia has 15");
    assert.equal(outs.filter((o) => o.status === "refused" && o.reason === "sold_out").length, 35);
  } finally {
    fs.fdatasyncSync = real;
  }
  assert.equal((fs.statSync(file).mode & 0o777), 0o600, "journals are private");
  const digest = l.digest;
  l.close();
  const again = Ledger.open(file);
  assert.equal(again.digest, digest);
  assert.equal(again.recovery.tornBytes, 0);
  // A torn tail is cut on open; the state is the committed prefix.
  again.close();
  fs.appendFileSync(file, Buffer.from([9, 0, 0, 0, 1, 2]));
  const torn = Ledger.open(file);
  assert.equal(torn.digest, digest);
  assert.equal(torn.recovery.tornBytes, 6);
  assert.equal(torn.recovery.tornBatch, false, "a torn tail, not a torn group commit");
  torn.close();
  // A flipped bit in the middle is corruption, named by its offset.
  const bytes = fs.readFileSync(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0x20;
  fs.writeFileSync(file, bytes);
  assert.throws(() => Ledger.open(file), (e) => e.code === "journal_corrupted" && typeof e.offset === "number");
});

test("shared vectors written by Rust replay to their digests in Node", () => {
  const dir = `${ROOT}shell/tests/vectors`;
  const vectors = fs.readdirSync(dir).filter((f) => f.endsWith(".journal"));
  assert.ok(vectors.length >= 2);
  for (const v of vectors) {
    const copy = path.join(tmp(), v);
    fs.copyFileSync(path.join(dir, v), copy);
    const l = Ledger.open(copy);
    assert.equal(l.digest, fs.readFileSync(path.join(dir, v.replace(".journal", ".digest")), "utf8").trim(), v);
    l.close();
  }
});

test("a journal written by Node opens in Rust and Python to the same digest", async () => {
  const file = path.join(tmp(), "node.journal");
  const l = Ledger.open(file);
  await l.loadCatalog(emstek(), NOON - 3_600_000);
  const held = await l.reserve({ requestId: "a", customer: "anna", lines: [{ offer: "zur-post-20", quantity: 2 }] }, NOON + 1);
  await l.confirm(held.reservation, NOON + 2);
  await l.reserve({ requestId: "b", customer: "ben", lines: [{ offer: "hofcafe-10", quantity: 1 }], attributes: { postal_code: "49685" } }, NOON + 3);
  l.compact();
  await l.release(held.reservation, NOON + 4);
  const digest = l.digest;
  l.close();
  const cli = `${ROOT}target/debug/kontingent`;
  // Built by scripts/test.sh before the Node tests (never here: cargo hangs under faketime).
  assert.ok(fs.existsSync(cli), `${cli} is missing: cargo build -p kontingent-cli`);
  const out = execFileSync(cli, ["verify", file], { encoding: "utf8" });
  assert.ok(out.includes(digest), out);
  const py = execFileSync("python3", ["-c", "import sys, kontingent; print(kontingent.Ledger.open(sys.argv[1]).digest)", file], { encoding: "utf8" });
  assert.equal(py.trim(), digest);
});
