// kontingent in Node: the browser preview, and the full ledger in memory or on a
// journal file in the same byte format as the Rust core's (a journal written here
// opens in Rust and Python, and the reverse). Requests that arrive in the same
// event-loop tick share one write and one fdatasync (group commit).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";

import { systemClock, toMillis } from "./clock.mjs";
import { lockJournal } from "./lock.mjs";

export { systemClock, fixedClock, ManualClock } from "./clock.mjs";

const require = createRequire(import.meta.url);
const wasm = require("../pkg-node/kontingent_wasm.js");

export const { Preview, compileCatalog, errorCodes } = wasm;

/** A journal file through Node's fs: what the core's Storage needs. */
class JournalFile {
  constructor(file) {
    this.path = file;
    this.unlock = lockJournal(file);
    try {
      this.fd = fs.openSync(file, "a+", 0o600);
    } catch (e) {
      this.unlock();
      throw e;
    }
  }
  len() {
    return fs.fstatSync(this.fd).size;
  }
  read(offset, len) {
    const buf = Buffer.alloc(len);
    let n = 0;
    while (n < len) {
      const got = fs.readSync(this.fd, buf, n, len - n, offset + n);
      if (got === 0) throw new Error(`short read at ${offset + n}`);
      n += got;
    }
    return buf;
  }
  append(data) {
    let n = 0; // O_APPEND: every write goes to the end
    while (n < data.length) n += fs.writeSync(this.fd, data, n, data.length - n);
  }
  truncate(len) {
    fs.ftruncateSync(this.fd, len);
  }
  sync() {
    fs.fdatasyncSync(this.fd);
  }
  replace(data) {
    const tmp = `${this.path}.${process.pid}.compact.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      this.constructor.writeAll(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.path);
    const dir = fs.openSync(path.dirname(this.path), "r");
    try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.path, "a+", 0o600);
  }
  randomId() {
    return crypto.randomBytes(16);
  }
  close() {
    fs.closeSync(this.fd);
    this.unlock();
  }
  static writeAll(fd, data) {
    let n = 0;
    while (n < data.length) n += fs.writeSync(fd, data, n, data.length - n);
  }
}

const isMs = (at) => (at instanceof Date ? at.getTime() : at);

function checkClock(clock) {
  if (clock === null || typeof clock !== "object" && typeof clock !== "function" || typeof clock.now !== "function") {
    throw Object.assign(new TypeError("clock: expected an object with now() (systemClock, fixedClock(at), new ManualClock(at))"), { code: "invalid_input" });
  }
  return clock;
}

/**
 * A quota ledger: in memory, or durable on a journal file. Calls without `at` take
 * their time from the ledger's clock (`{ clock }`, default `systemClock`).
 */
export class Ledger {
  #inner;
  #file;
  #clock;
  #pending = [];
  #scheduled = false;

  constructor(inner, file, clock = systemClock) {
    this.#inner = inner;
    this.#file = file;
    this.#clock = checkClock(clock);
  }

  /** The clock that calls without `at` read. */
  get clock() { return this.#clock; }

  /** `{at, clocked}`: an exact time, or a reading of the clock the ledger may overtake. */
  #time(at) {
    return at === undefined
      ? { at: toMillis(this.#clock.now(), "clock.now()"), clocked: true }
      : { at: isMs(at), clocked: false };
  }

  /**
   * Open (or create) a ledger on a journal file, replaying it. The journal is this
   * process's until `close()` (or exit): another opener, in this process or another,
   * is refused with `journal_locked` (see js/lock.mjs); a crashed owner's lock is
   * taken over.
   */
  static open(file, { durability = "full", clock = systemClock } = {}) {
    const exists = fs.existsSync(file);
    const jf = new JournalFile(file);
    if (!exists) {
      const dir = fs.openSync(path.dirname(path.resolve(file)), "r");
      try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
    }
    try {
      return new Ledger(wasm.WasmLedger.open(jf, durability), jf, clock);
    } catch (e) {
      jf.close();
      throw e;
    }
  }

  /** A ledger that keeps nothing on disk. */
  static inMemory({ clock = systemClock } = {}) {
    return new Ledger(wasm.WasmLedger.inMemory(), null, clock);
  }

  /**
   * Submit an action (`{type: "reserve", requestId, customer, lines, ...}`) at
   * `at` (ms or Date; default: now by the ledger's clock). Resolves once durable
   * with `{outcome, events}`; rejects with an Error carrying `.code`. Everything
   * submitted in one tick shares one journal write and one fdatasync.
   */
  submit(action, at) {
    return new Promise((resolve, reject) => {
      this.#pending.push({ command: { ...this.#time(at), action }, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush() {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    let results;
    try {
      results = this.#inner.submitBatch(batch.map((p) => p.command));
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => (results[i] instanceof Error ? p.reject(results[i]) : p.resolve(results[i])));
  }

  /** Ask for units; resolves with the outcome (`{status: "held", reservation, expiresAt, units}`, ...). */
  async reserve(request, at) {
    return (await this.submit({ type: "reserve", ...request }, at)).outcome;
  }
  async confirm(reservation, at) {
    return (await this.submit({ type: "confirm", reservation }, at)).outcome;
  }
  async release(reservation, at) {
    return (await this.submit({ type: "release", reservation }, at)).outcome;
  }
  async tick(at) {
    return (await this.submit({ type: "tick" }, at)).outcome;
  }
  async leaveWaitlist(entry, at) {
    return (await this.submit({ type: "leave_waitlist", entry }, at)).outcome;
  }
  /** Stop intake: every later reserve is refused `paused` (confirm and release still work). */
  async pause(at) {
    return (await this.submit({ type: "pause" }, at)).outcome;
  }
  async resume(at) {
    return (await this.submit({ type: "resume" }, at)).outcome;
  }
  async setCapacity(pool, capacity, at) {
    return (await this.submit({ type: "set_capacity", pool, capacity }, at)).outcome;
  }
  /** Load a catalog: a compiled one (`compileCatalog(text, "toml", name)`). */
  async loadCatalog(catalog, at) {
    return (await this.submit({ type: "load_catalog", ...catalog }, at)).outcome;
  }

  /**
   * Declare a consumer of the event stream (`"mailer"`, `"webhook:kitchen"`) given
   * the event types it names (`["confirmed", "promoted"]`), or change its types. A
   * new one starts at the first event unless `after` says where.
   */
  async defineConsumer(consumer, events, { after, at } = {}) {
    const action = { type: "define_consumer", consumer, events };
    if (after !== undefined) action.after = after;
    return (await this.submit(action, at)).outcome;
  }
  /**
   * What `consumer` is given now: up to `limit` events it names after its cursor,
   * each durable, as `{consumer, ledger, cursor, through, notifications: [{key, event}]}`.
   * Act on each (using `key` to de-duplicate), then `ack` its seq or `through`.
   */
  consume(consumer, { limit = 100 } = {}) { return this.#inner.consume(consumer, limit); }
  /** `consumer` has finished every event up to `seq`: its cursor moves there, durably. */
  async ack(consumer, seq, at) {
    return (await this.submit({ type: "ack", consumer, seq }, at)).outcome;
  }
  consumer(name) { return this.#inner.query("consumer", name); }
  consumers() { return this.#inner.query("consumers"); }

  preview(request, at) {
    const t = this.#time(at);
    return this.#inner.preview(request, t.at, t.clocked);
  }
  snapshot() { return this.#inner.query("snapshot"); }
  catalog() { return this.#inner.query("catalog"); }
  deltasAfter(seq, limit = 1000) { return this.#inner.deltasAfter(seq, limit); }
  eventsAfter(seq, limit = 1000) { return this.#inner.eventsAfter(seq, limit); }
  pool(name) { return this.#inner.query("pool", name); }
  pools() { return this.#inner.query("pools"); }
  offer(name) { return this.#inner.query("offer", name); }
  offers() { return this.#inner.query("offers"); }
  available(offer, channel = "web") { return this.#inner.query("available", offer, undefined, channel); }
  whyUnavailable(offer, channel = "web", at = undefined) {
    const t = this.#time(at);
    return this.#inner.query("why_unavailable", offer, undefined, channel, t.at, undefined, t.clocked);
  }
  nextSlots(template, at = undefined, channel = "web", count = 10) {
    const t = this.#time(at);
    return this.#inner.query("next_slots", template, undefined, channel, t.at, count, t.clocked);
  }
  reservation(id) { return this.#inner.query("reservation", undefined, id); }
  /** What `customer` holds or has confirmed, per offer: `{offer: units}`. */
  customerUsage(customer) { return Object.fromEntries(this.#inner.query("customer_usage", customer)); }
  waitlist(offer) { return this.#inner.query("waitlist", offer) ?? []; }
  waitEntry(id) { return this.#inner.query("wait_entry", undefined, id); }
  get paused() { return this.#inner.query("paused"); }
  get digest() { return this.#inner.query("digest"); }
  get seq() { return this.#inner.query("seq"); }
  /** The ledger's time: that of the last command applied (not the clock's). */
  get now() { return this.#inner.query("now"); }
  get recovery() { return this.#inner.recovery(); }
  get poisoned() { return this.#inner.isPoisoned(); }
  compact() { return this.#inner.compact(); }
  close() { this.#file?.close(); this.#file = null; }
}
