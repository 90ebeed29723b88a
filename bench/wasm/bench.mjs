// WASM figures (issue 8): .wasm size, time to apply a delta in Node, time to load
// a snapshot of 10,000 pools into a Preview. Usage: node bench/wasm/bench.mjs
import fs from "node:fs";
import zlib from "node:zlib";
import { Ledger, Preview } from "../../bindings-wasm/js/node.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const web = fs.readFileSync(`${ROOT}bindings-wasm/pkg-web/kontingent_wasm_bg.wasm`);
const out = { wasm_bytes: web.length, wasm_gzip_bytes: zlib.gzipSync(web, { level: 9 }).length };

// A catalog of 10,000 pools, one offer each.
const N = 10_000;
const catalog = {
  name: "big", time_zone: "UTC", default_hold_ms: 600_000, channels: ["web"],
  window: { opens_at: null, closes_at: null },
  pools: Array.from({ length: N }, (_, i) => ({ name: `pool-${i}`, capacity: 100 })),
  offers: Array.from({ length: N }, (_, i) => ({
    name: `offer-${i}`, price: 100, draws: [{ pool: `pool-${i}`, amount: 1 }], waitlist: "strict",
    window: { opens_at: null, closes_at: null }, slot: null,
  })),
  rules: [],
};
const server = Ledger.inMemory();
await server.loadCatalog(catalog, 0);
const snapshot = server.snapshot();
const snapshotText = JSON.stringify(snapshot);
const catalogText = JSON.stringify(server.catalog());
out.snapshot_json_bytes = snapshotText.length;

const time = (f, reps) => {
  f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) f();
  return Number(process.hrtime.bigint() - t0) / reps / 1e6; // ms
};
out.preview_10k_pools_ms = time(() => new Preview(catalogText, snapshotText).free(), 20);
out.preview_10k_pools_objects_ms = time(() => new Preview(server.catalog(), snapshot).free(), 20);
{
  const p = new Preview(catalogText, snapshotText);
  out.load_snapshot_10k_pools_ms = time(() => p.loadSnapshot(snapshotText), 50);
  out.load_snapshot_10k_pools_object_ms = time(() => p.loadSnapshot(snapshot), 50);
  p.free();
}

// 100,000 deltas from real reservations, confirmations and releases.
const reqs = [];
for (let i = 0; i < 40_000; i++) {
  reqs.push(server.submit({ type: "reserve", requestId: `r${i}`, customer: `c${i % 500}`, lines: [{ offer: `offer-${i % N}`, quantity: 1 }] }, 1));
}
await Promise.all(reqs);
for (let i = 1; i <= 20_000; i += 1) server.submit({ type: i % 2 ? "confirm" : "release", reservation: i }, 2);
await server.submit({ type: "tick" }, 3);
const deltas = server.deltasAfter(snapshot.seq, 200_000);
const texts = deltas.map((d) => JSON.stringify(d));
const applyAll = (items) => {
  const p = new Preview(catalogText, snapshotText);
  const t0 = process.hrtime.bigint();
  for (const d of items) p.applyDelta(d);
  const ns = Number(process.hrtime.bigint() - t0);
  if (p.seq !== deltas[items.length - 1].seq) throw new Error("not all deltas applied");
  p.free();
  return ns / items.length / 1000; // µs per delta
};
applyAll(deltas.slice(0, 1000));
out.deltas = deltas.length;
out.apply_delta_object_us = Math.min(applyAll(deltas), applyAll(deltas));
out.apply_delta_json_us = Math.min(applyAll(texts), applyAll(texts));
console.log(JSON.stringify(out, null, 1));
