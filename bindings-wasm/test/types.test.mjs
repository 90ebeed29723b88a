// index.d.ts is written by hand; this keeps it honest against what the package
// really exports: every export, every class member and every error code.
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
