// What the WordPress tests stand on, each a real process started here on
// 127.0.0.1 and stopped afterwards: MariaDB (a throwaway data directory),
// Debian's WordPress (a copy of /usr/share/wordpress, served by `php -S` with
// several workers) with the packaged plugin, kontingent-server (a manual clock,
// the server's mailer), an SMTP server (aiosmtpd) and Debian's Chromium.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "../../..");
export const CLIENT = "client-key-0123456789";
export const OPERATOR = "operator-key-0123456789";
export const ADMIN = { user: "admin", password: "admin-password-0123" };
/** 2026-10-24 12:00 in Berlin (CEST): the test campaign opens. */
export const OPENS = Date.UTC(2026, 9, 24, 10, 0, 0);

const children = [];
const dirs = [];

export function stopAll() {
  // Each child leads a process group of its own: `php -S` forks its workers,
  // which would outlive their parent and keep its output pipe (and this test) open.
  for (const c of children.reverse()) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch { /* gone already */ }
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}

export function tempDir(name) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `kontingent-wp-${name}-`));
  dirs.push(d);
  return d;
}

/** A port free now (the system's choice); the process that takes it binds it next. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, ...opts });
  child.output = "";
  child.stdout.on("data", (d) => (child.output += d));
  child.stderr.on("data", (d) => (child.output += d));
  children.push(child);
  return child;
}

async function until(what, ok, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await ok()) return;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => { s.end(); resolve(true); });
    s.on("error", () => resolve(false));
  });
}

/** MariaDB on a fresh data directory, grant tables off (nothing but this test reaches it). */
export async function startMariaDB() {
  const dir = tempDir("db");
  const port = await freePort();
  execFileSync("mariadb-install-db", ["--no-defaults", `--datadir=${dir}/data`, "--user=root",
    "--auth-root-authentication-method=normal", "--skip-test-db"], { stdio: "ignore" });
  const db = start("mariadbd", ["--no-defaults", `--datadir=${dir}/data`, `--socket=${dir}/sock`,
    `--port=${port}`, "--bind-address=127.0.0.1", "--user=root", "--skip-grant-tables",
    "--skip-log-bin", `--pid-file=${dir}/pid`, "--innodb-buffer-pool-size=64M", "--max-connections=200"]);
  await until("MariaDB", () => portOpen(port));
  execFileSync("mariadb", ["--no-defaults", "-h127.0.0.1", `-P${port}`, "-uroot", "-e", "CREATE DATABASE wp"]);
  return { port, process: db };
}

/** aiosmtpd keeping every message as a JSON line (server/tests/helpers/smtp_sink.py). */
export async function startSmtp() {
  const dir = tempDir("smtp");
  const log = path.join(dir, "mail.jsonl");
  const sink = start("python3", [path.join(ROOT, "server/tests/helpers/smtp_sink.py"), log, "0"]);
  let port;
  await until("the SMTP server", () => (port = Number(sink.output.split("\n")[0])) > 0);
  return {
    port,
    messages: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []),
  };
}

/**
 * kontingent-server with the rush campaign (`emstek`) and the Pampanin delivery
 * shop; `kill()` is a `kill -9`, `restart()` starts it again on the same journals,
 * port and clock.
 */
export async function startKontingent({ at, smtpPort, siteOrigin }) {
  const dir = tempDir("server");
  const binary = process.env.KONTINGENT_SERVER ?? path.join(ROOT, "target/debug/kontingent-server");
  let clock = at;
  let listen = "127.0.0.1:0";
  let child;
  const launch = async () => {
    child = start(binary, [
      "--journal", `emstek=${dir}/emstek.journal`, "--catalog", `emstek=${path.join(HERE, "campaign.toml")}`,
      "--journal", `pampanin=${dir}/pampanin.journal`,
      "--catalog", `pampanin=${path.join(ROOT, "examples/pampanin-delivery/catalog.toml")}`,
      "--listen", listen, "--clock", `manual:${clock}`,
      "--mailer", "emstek/mailer", "--smtp", `127.0.0.1:${smtpPort}`,
      "--mail-from", "Emstek vouchers <vouchers@example.org>", "--mail-template", path.join(HERE, "mail.toml"),
      "--console-frame-ancestor", siteOrigin,
    ], { env: { ...process.env, KONTINGENT_CLIENT_KEY: CLIENT, KONTINGENT_OPERATOR_KEY: OPERATOR, KONTINGENT_LOG: "warn" } });
    let base;
    await until("kontingent-server", () => (base = child.output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1]));
    listen = base.slice("http://".length);
    return base;
  };
  const base = await launch();
  const call = async (method, url, key, body) => {
    const headers = key ? { Authorization: `Bearer ${key}` } : {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(`${base}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${method} ${url}: ${r.status} ${text}`);
    return JSON.parse(text);
  };
  return {
    base,
    call,
    availability: (ledger = "emstek") => call("GET", `/v1/ledgers/${ledger}/availability`),
    setClock: async (ms) => {
      await call("POST", "/v1/clock", OPERATOR, { at: ms });
      clock = ms;
    },
    reserve: (ledger, body) => call("POST", `/v1/ledgers/${ledger}/reserve`, CLIENT, body),
    kill: async () => {
      process.kill(-child.pid, "SIGKILL");
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.on("exit", r)));
    },
    restart: launch,
  };
}

/**
 * Debian's WordPress, installed on `db` with the packaged plugin active and the
 * given pages, served at `port` by `php -S` with `workers` workers.
 */
export async function startWordPress({ port, db, settings, pages, workers = 16 }) {
  const dir = tempDir("site");
  const docroot = path.join(dir, "wordpress");
  // A copy, so that the site's own wp-config.php replaces Debian's, which reads
  // /etc/wordpress/config-HOST.php, and nothing outside the temporary directory changes.
  execFileSync("cp", ["-a", "/usr/share/wordpress", docroot]);
  const plugin = execFileSync("bash", [path.join(ROOT, "scripts/package-wordpress.sh")], { encoding: "utf8" }).trim();
  execFileSync("cp", ["-r", plugin, path.join(docroot, "wp-content/plugins/kontingent")]);
  const url = `http://127.0.0.1:${port}`;
  const salt = () => Math.random().toString(36).slice(2).repeat(4);
  fs.rmSync(path.join(docroot, "wp-config.php"));
  fs.writeFileSync(path.join(docroot, "wp-config.php"), `<?php
define('DB_NAME', 'wp');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '127.0.0.1:${db.port}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
${["AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"]
    .map((k) => `define('${k}', '${salt()}');`).join("\n")}
$table_prefix = 'wp_';
define('WP_HOME', '${url}');
define('WP_SITEURL', '${url}');
define('WP_DEBUG', true);
define('WP_DEBUG_DISPLAY', false);
define('WP_DEBUG_LOG', '${dir}/debug.log');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
// No network here but 127.0.0.1: WordPress's update checks would wait for it.
define('WP_HTTP_BLOCK_EXTERNAL', true);
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
`);
  const ids = JSON.parse(execFileSync("php", [path.join(HERE, "install.php"), docroot, url, JSON.stringify(settings), JSON.stringify(pages)], { encoding: "utf8" }));
  const php = start("php", ["-S", `127.0.0.1:${port}`, "-t", docroot], {
    env: { ...process.env, PHP_CLI_SERVER_WORKERS: String(workers) },
  });
  await until("WordPress", async () => (await fetch(`${url}/`)).status === 200);
  return {
    url,
    page: (slug) => `${url}/?page_id=${ids[slug]}`,
    debugLog: () => (fs.existsSync(`${dir}/debug.log`) ? fs.readFileSync(`${dir}/debug.log`, "utf8") : ""),
    process: php,
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

/** A browser context logged in to wp-admin as the administrator. */
export async function adminContext(browser, site) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${site.url}/wp-login.php`);
  await page.fill("#user_login", ADMIN.user);
  await page.fill("#user_pass", ADMIN.password);
  await Promise.all([page.waitForNavigation(), page.click("#wp-submit")]);
  if (!page.url().includes("/wp-admin")) throw new Error(`login failed: ${page.url()}`);
  return { context, page };
}
