// The README's Node block runs as written (with "kontingent" resolved to this
// package) and answers what its comment says, on any day: it pins its own clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");

test("the README's Node block runs and its ledger holds what the comment says", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const block = [...readme.matchAll(/```js\n(.*?)```/gs)].map((m) => m[1]).find((b) => b.includes("Ledger.open"));
  assert.ok(block, "the README has a Node block");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-readme-"));
  fs.symlinkSync(path.join(ROOT, "examples"), path.join(dir, "examples"));
  const script = path.join(dir, "readme.mjs");
  const node = path.join(ROOT, "bindings-wasm/js/node.mjs");
  fs.writeFileSync(script, `${block.replace(`from "kontingent"`, `from ${JSON.stringify(node)}`)}\nconsole.log(JSON.stringify(outcome));\n`);
  const out = JSON.parse(execFileSync(process.execPath, [script], { cwd: dir, encoding: "utf8" }));
  const promised = block.match(/\/\/ → (\{.*\})/)[1].replace(/(\w+):/g, "\"$1\":");
  assert.deepEqual(out, JSON.parse(promised));
  assert.ok(fs.existsSync(path.join(dir, "emstek.journal")));
});
