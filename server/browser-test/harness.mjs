// What both browser tests stand on: a real kontingent-server process on
// 127.0.0.1 (a port the system chooses, a fresh journal, a manual clock), the
// test's own HTTP calls to it, and Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "../..");
export const CLIENT = "client-key-0123456789";
export const OPERATOR = "operator-key-0123456789";
/** 2026-11-29 12:00 in Berlin: the Emstek campaign opens. */
export const NOON = 1_795_950_000_000;

/** A server with one ledger, `emstek`, on the Emstek catalog, its clock standing
 * at `at`; `extra` are more flags (a webhook). */
export async function startServer(at, extra = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kontingent-browser-test-"));
  const binary = process.env.KONTINGENT_SERVER ?? path.join(ROOT, "target/debug/kontingent-server");
  const child = spawn(binary, [
    "--journal", `emstek=${path.join(dir, "emstek.journal")}`,
    "--catalog", `emstek=${path.join(ROOT, "examples/emstek-vouchers/catalog.toml")}`,
    "--listen", "127.0.0.1:0",
    "--clock", `manual:${at}`,
    ...extra,
  ], {
    env: { ...process.env, KONTINGENT_CLIENT_KEY: CLIENT, KONTINGENT_OPERATOR_KEY: OPERATOR },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/^listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`kontingent-server exited ${code} before listening (built? ${binary})`)));
  });
  const call = async (method, url, key, body) => {
    const headers = key ? { Authorization: `Bearer ${key}` } : {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(`${base}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, body: r.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : undefined };
  };
  return {
    base,
    dir,
    call,
    get: async (url, key) => (await call("GET", url, key)).body,
    post: async (url, key, body) => (await call("POST", url, key, body ?? {})).body,
    reserve: async (requestId, customer, offer, quantity = 1, extra = {}) =>
      (await call("POST", "/v1/ledgers/emstek/reserve", CLIENT, { request_id: requestId, customer, lines: [{ offer, quantity }], ...extra })).body,
    availability: async () => (await call("GET", "/v1/ledgers/emstek/availability")).body,
    setClock: async (ms) => {
      const r = await call("POST", "/v1/clock", OPERATOR, { at: ms });
      if (r.status !== 200) throw new Error(`clock: ${r.text}`);
    },
    stop() {
      child.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium (no browser download), headless. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}
