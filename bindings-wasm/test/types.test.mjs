// index.d.ts is written by hand; this keeps it honest against what the package
// really exports and gives: every export, every class member, every error code,
// and the fields and types of every outcome and refusal a real ledger returns.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import * as pkg from "../js/node.mjs";

const dts = fs.readFileSync(new URL("../index.d.ts", import.meta.url), "utf8");

/** The body of `export class Name ... { ... }` (classes here have no nested braces at depth 1 that close early). */
function classBody(name) {
  const start = dts.search(new RegExp(`export class ${name}\\b[^{]*\\{`));
  assert.ok(start >= 0, `index.d.ts declares class ${name}`);
  let depth = 0;
  for (let i = dts.indexOf("{", start); i < dts.length; i++) {
    if (dts[i] === "{") depth++;
    if (dts[i] === "}" && --depth === 0) return dts.slice(dts.indexOf("{", start) + 1, i);
  }
  throw new Error(`class ${name} is not closed`);
}

/** Member names declared at the top level of a class body; `static` ones apart. */
function declared(body) {
  const members = new Set(), statics = new Set();
  let depth = 0;
  for (const line of body.split("\n")) {
    if (depth === 0) {
      const m = line.match(/^  (static\s+)?(readonly\s+)?(constructor|[A-Za-z_]\w*)\s*[(:<]/);
      if (m && m[3] !== "constructor") (m[1] ? statics : members).add(m[3]);
    }
    for (const c of line.replace(/\/\*.*?\*\/|\/\/.*$/g, "")) {
      if (c === "{" || c === "(") depth++;
      if (c === "}" || c === ")") depth--;
    }
  }
  return { members, statics };
}

/** Public members of a JS class: its prototype's and its own (static) names. */
function actual(cls, hidden = []) {
  const skip = new Set(["constructor", "length", "name", "prototype", "__wrap", "__destroy_into_raw", ...hidden]);
  const members = new Set(Object.getOwnPropertyNames(cls.prototype).filter((n) => !skip.has(n) && !n.startsWith("__")));
  const statics = new Set(Object.getOwnPropertyNames(cls).filter((n) => !skip.has(n) && !n.startsWith("__")));
  return { members, statics };
}

const sorted = (s) => [...s].sort();

test("every export of the Node entry is declared, and every declared export exists", () => {
  const names = new Set([...dts.matchAll(/^export (?:declare )?(?:const|function|class) (\w+)/gm)].map((m) => m[1]));
  names.delete("init"); // browser only: `kontingent/browser`
  assert.deepEqual(sorted(Object.keys(pkg)), sorted(names));
});

test("Ledger, Preview and ManualClock declare exactly their members", () => {
  for (const [name, cls] of [["Ledger", pkg.Ledger], ["Preview", pkg.Preview], ["ManualClock", pkg.ManualClock]]) {
    const d = declared(classBody(name));
    const a = actual(cls);
    assert.deepEqual(sorted(a.members), sorted(d.members), `${name}'s members`);
    assert.deepEqual(sorted(a.statics), sorted(d.statics), `${name}'s static members`);
  }
});

test("the ErrorCode type lists exactly the codes the package raises", () => {
  const union = dts.match(/export type ErrorCode =([^;]*);/);
  assert.ok(union, "index.d.ts declares ErrorCode");
  const declaredCodes = [...union[1].matchAll(/"(\w+)"/g)].map((m) => m[1]);
  assert.deepEqual(sorted(declaredCodes), sorted(pkg.errorCodes()));
  assert.equal(new Set(declaredCodes).size, declaredCodes.length, "no code twice");
});

test("an error raised by the ledger carries a code the type names", async () => {
  const l = pkg.Ledger.inMemory({ clock: pkg.fixedClock(1000) });
  await assert.rejects(l.confirm(7), (e) => e.code === "unknown_reservation" && pkg.errorCodes().includes(e.code));
  assert.throws(() => pkg.compileCatalog("pools = 3", "toml", "c.toml"),
    (e) => e.code === "invalid_catalog" && e.file === "c.toml" && Array.isArray(e.issues) && e.issues.length > 0);
});

/** The variants of `export type Name = | {...} | ...` as {tag value → {field → "number" | "string" | ...}}. */
function variants(name, tag) {
  const m = dts.match(new RegExp(`export type ${name} =([\\s\\S]*?);\\n\\n`));
  assert.ok(m, `index.d.ts declares ${name}`);
  const out = {};
  for (const v of m[1].matchAll(/\{([^{}]*)\}/g)) {
    const fields = {};
    for (const f of v[1].split(";").map((s) => s.trim()).filter(Boolean)) {
      const [key, type] = f.split(":").map((s) => s.trim());
      fields[key] = type === "Millis" ? "number" : type;
    }
    if (fields[tag]) out[JSON.parse(fields[tag])] = fields;
  }
  return out;
}

/** A value's shape as the declaration writes it: literal tags quoted, else typeof. */
function shape(value, tags) {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tags.includes(k) ? JSON.stringify(v) : typeof v]));
}

test("every outcome and refusal the ledger gives has exactly the fields and types index.d.ts declares", async () => {
  const H = 3_600_000, DAY = Date.UTC(2026, 11, 1);
  const l = pkg.Ledger.inMemory({ clock: pkg.fixedClock(DAY) });
  const tour = fs.readFileSync(new URL("../../core/tests/catalogs/tour.toml", import.meta.url), "utf8");
  await l.loadCatalog(pkg.compileCatalog(tour, "toml", "tour.toml"), DAY);
  const seat = (id, who, extra = {}) => ({ requestId: id, customer: who, lines: [{ offer: "seat", quantity: 1 }], ...extra });
  const got = [];
  const keep = (o) => { got.push(o); return o; };
  const open = DAY + 11 * H;
  keep(await l.reserve(seat("r0", "ben"), DAY + 8 * H)); // not_open_yet
  const held = keep(await l.reserve(seat("r1", "anna"), open));
  keep(await l.reserve(seat("r2", "anna", { confirm: true }), open));
  keep(await l.reserve(seat("r3", "anna"), open)); // customer_limit
  const w1 = keep(await l.reserve(seat("r4", "ben", { waitlist: true }), open));
  keep(await l.reserve(seat("r5", "cem"), open)); // sold_out
  const w2 = keep(await l.reserve(seat("r6", "dora", { waitlist: true }), open));
  keep(await l.leaveWaitlist(w2.entry, open));
  keep(await l.release(held.reservation, open));
  const promoted = keep(await l.leaveWaitlist(w1.entry, open));
  keep(await l.confirm(promoted.reservation, open + 3 * 60_000)); // hold_expired
  const noon = DAY + 12 * H; // the VIP offer opens, with its attribute rule
  keep(await l.reserve({ requestId: "v1", customer: "v1", attributes: { city: "berlin" },
    lines: [{ offer: "vip", quantity: 1 }] }, noon)); // rule
  await l.pause(noon);
  keep(await l.reserve(seat("r8", "fritz"), noon)); // paused
  await l.resume(noon);
  keep(await l.tick(noon + 60_000)); // done
  keep(await l.reserve(seat("r9", "gina"), DAY + 18 * H)); // closed

  const outcomes = variants("Outcome", "status");
  const refusals = variants("Refusal", "reason");
  const seen = new Set();
  for (const o of got) {
    if (o.status === "refused") {
      const want = { status: '"refused"', ...refusals[o.reason] };
      assert.deepEqual(shape(o, ["status", "reason"]), want, `refusal ${o.reason}`);
      seen.add(o.reason);
    } else {
      assert.deepEqual(shape(o, ["status"]), outcomes[o.status], `outcome ${o.status}`);
      seen.add(o.status);
    }
  }
  // Every declared variant was met: the declaration has no case the ledger never gives.
  assert.deepEqual(sorted(seen), sorted([...Object.keys(outcomes).filter((s) => s !== "refused"), ...Object.keys(refusals)]));
});
