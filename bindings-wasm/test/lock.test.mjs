// Node has no flock: a journal is one Node process's at a time (js/lock.mjs).
// Two real processes on one journal, a second Ledger in one process, and a
// crashed owner (kill -9) whose lock must not block the restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { Ledger } from "../js/node.mjs";

const NODE_MJS = new URL("../js/node.mjs", import.meta.url).href;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-lock-"));

/** A child process that opens `file`, reserves `n` single units of "seat", prints its count, then waits for stdin to close. */
function seller(file, n) {
  const script = `
    import { Ledger } from ${JSON.stringify(NODE_MJS)};
    let l;
    try { l = Ledger.open(${JSON.stringify(file)}); }
    catch (e) { console.log(JSON.stringify({ refused: e.code })); process.exit(0); }
    const outs = await Promise.all(Array.from({ length: ${n} }, (_, i) =>
      l.reserve({ requestId: "p" + process.pid + "-" + i, customer: "c" + process.pid + "-" + i,
                  lines: [{ offer: "seat", quantity: 1 }] }, 1000 + i)));
    console.log(JSON.stringify({ held: outs.filter((o) => o.status === "held").length }));
    process.stdin.resume();
    process.stdin.on("end", () => { l.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  const line = new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]));
    });
    child.on("exit", (code) => reject(new Error(`the seller exited (${code}) before answering: ${out}`)));
  });
  return { child, line };
}

async function catalogued(file) {
  const l = Ledger.open(file);
  await l.submit({ type: "define_pool", pool: "hall", capacity: 100 }, 0);
  await l.submit({ type: "define_offer", offer: "seat", draws: [{ pool: "hall", amount: 1 }] }, 0);
  l.close();
}

test("four Node processes on one journal: one holds it, the others are refused, never a unit too many", async () => {
  const file = path.join(tmp(), "hall.journal");
  await catalogued(file);
  const sellers = Array.from({ length: 4 }, () => seller(file, 150));
  let answers;
  try {
    answers = await Promise.all(sellers.map((p) => p.line));
  } catch (e) {
    for (const p of sellers) p.child.kill("SIGKILL");
    throw e;
  }
  for (const p of sellers) p.child.stdin.end();
  const held = answers.filter((x) => "held" in x);
  const refused = answers.filter((x) => x.refused);
  // All start at once and hold the journal until told to stop: one takes it, the
  // others are refused at open. (A lock file created empty and written after let a
  // racing opener judge it torn, hence stale, and two processes sold from one journal.)
  assert.deepEqual(held, [{ held: 100 }], JSON.stringify(answers));
  assert.deepEqual(refused, Array(3).fill({ refused: "journal_locked" }), JSON.stringify(answers));
  await Promise.all(sellers.map((p) => new Promise((r) => (p.child.exitCode !== null ? r() : p.child.on("exit", r)))));
  const replay = Ledger.open(file);
  assert.equal(replay.pool("hall").held, 100, "the journal keeps exactly what was acknowledged");
  replay.close();
});

test("a second Ledger on one journal in one process is refused; close frees it", () => {
  const file = path.join(tmp(), "one.journal");
  const l = Ledger.open(file);
  assert.throws(() => Ledger.open(file), (e) => e.code === "journal_locked" && e.owner.pid === process.pid);
  l.close();
  const again = Ledger.open(file);
  again.close();
  assert.equal(fs.existsSync(`${file}.lock`), false, "close removes the lock file");
});

test("a crashed owner (kill -9) does not block the restart", async () => {
  const file = path.join(tmp(), "crash.journal");
  await catalogued(file);
  const a = seller(file, 10);
  assert.deepEqual(await a.line, { held: 10 });
  assert.throws(() => Ledger.open(file), (e) => e.code === "journal_locked" && e.owner.pid === a.child.pid);
  a.child.kill("SIGKILL");
  await new Promise((r) => a.child.on("exit", r));
  assert.ok(fs.existsSync(`${file}.lock`), "the killed owner left its lock file");
  const l = Ledger.open(file);
  assert.equal(l.pool("hall").held, 10);
  l.close();
  // A lock is linked into place whole, so a lock file that does not read as one was
  // made by someone else: refused (never judged stale), and opening works once removed.
  fs.writeFileSync(`${file}.lock`, '{"pid":');
  assert.throws(() => Ledger.open(file), (e) => e.code === "journal_locked" && /remove the lock file/.test(e.message));
  fs.rmSync(`${file}.lock`);
  Ledger.open(file).close();
  assert.deepEqual(fs.readdirSync(path.dirname(file)).filter((f) => f.includes(".lock")), [], "no lock or temporary file is left");
});
