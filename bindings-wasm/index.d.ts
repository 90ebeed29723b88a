// Types for the `kontingent` package (browser: Preview; Node: Preview, Ledger, compileCatalog).

/** Milliseconds since the Unix epoch. */
export type Millis = number;

/** Every error code (`errorCodes()` at run time; the same in Rust, Python and HTTP). */
export type ErrorCode =
  | "time_went_backwards"
  | "out_of_range"
  | "zero"
  | "empty"
  | "too_long"
  | "too_many"
  | "unknown_pool"
  | "unknown_offer"
  | "unknown_reservation"
  | "unknown_wait_entry"
  | "duplicate"
  | "overflow"
  | "request_id_reused"
  | "reservation_state"
  | "misuse"
  | "unknown_channel"
  | "invalid_catalog"
  | "catalog_change"
  | "unknown_consumer"
  | "io"
  | "bad_header"
  | "journal_corrupted"
  | "poisoned"
  | "delta_gap"
  | "delta_replayed"
  | "delta_unknown_pool"
  | "delta_out_of_order"
  | "delta_out_of_range"
  | "invalid_input"
  | "journal_locked"
  | "internal";

/** An Error from kontingent: `.code` is stable (e.g. "unknown_offer", "delta_gap"). */
export interface KontingentError extends Error {
  code: ErrorCode;
  /** `journal_corrupted`: the byte offset of the bad record. */
  offset?: number;
  /** `journal_locked`: the process holding the journal. */
  owner?: { pid: number; host: string };
  /** `invalid_catalog`: what is wrong, and where. */
  issues?: { path: string; message: string; line: number | null; column: number | null }[];
}

export interface Line { offer: string; quantity: number }

export interface Request {
  requestId: string;
  customer: string;
  lines: Line[];
  channel?: string;
  attributes?: Record<string, string>;
  holdMs?: number;
  confirm?: boolean;
  upTo?: boolean;
  waitlist?: boolean;
}

export type Refusal =
  | { reason: "sold_out"; pool: string; requested: number; left: number }
  | { reason: "customer_limit"; name: string; limit: number; used: number }
  | { reason: "not_open_yet"; opensAt: Millis }
  | { reason: "closed"; closedAt: Millis }
  | { reason: "paused" }
  | { reason: "rule"; name: string; detail: string }
  | { reason: "hold_expired"; expiredAt: Millis };

export type Outcome =
  | { status: "held"; reservation: number; expiresAt: Millis; units: number }
  | { status: "confirmed"; reservation: number; units: number }
  | { status: "released"; reservation: number }
  | { status: "waiting"; entry: number; position: number }
  | { status: "left"; entry: number }
  | { status: "promoted"; entry: number; reservation: number }
  | ({ status: "refused" } & Refusal)
  | { status: "done" };

export interface Slot { offer: string; startsAt: Millis; endsAt: Millis; available: number }

/** Wire formats: the server's JSON, passed through as is. */
export type Catalog = Record<string, unknown>;
export interface Snapshot {
  seq: number;
  paused: boolean;
  pools: { name: string; capacity: number; held: number; confirmed: number;
           shares?: { channel: number; name: string; keep: number; promised: number }[] }[];
  offers: { name: string; draws: { pool: number; amount: number }[] }[];
}
/** An event's `type`, as a consumer names the ones it wants. */
export type EventType =
  | "catalog_loaded" | "pool_defined" | "offer_defined" | "capacity_changed"
  | "default_hold_changed" | "held" | "confirmed" | "released" | "expired"
  | "waitlist_joined" | "waitlist_left" | "promoted" | "paused" | "resumed";
/** One numbered event (wire format). */
export interface Event { seq: number; at: Millis; kind: { type: EventType; [k: string]: unknown } }
/** A consumer of the event stream: the types it is given, and the last seq it finished. */
export interface Consumer { name: string; events: EventType[]; cursor: number }
/** What one `consume` gave: act on each notification, then `ack` `through`. */
export interface Delivery {
  consumer: string;
  /** The ledger's id, 32 hex digits. */
  ledger: string;
  cursor: number;
  through: number;
  /** `key` is `LEDGER-SEQ`: the same on every retry and restart, to de-duplicate by. */
  notifications: { key: string; event: Event; current: boolean }[];
}
export interface Delta { seq: number; change: { type: string; [k: string]: unknown } }

/** The browser preview: catalog + snapshot + deltas, the server's rule code. */
export class Preview {
  constructor(catalog: Catalog | string, snapshot: Snapshot | string);
  /** A delta as JSON text (what SSE delivers) is the fastest to apply. */
  applyDelta(delta: Delta | string): void;
  /** A fresh snapshot of the same catalog (after a reconnect that missed deltas). */
  loadSnapshot(snapshot: Snapshot | string): void;
  /** The outcome the server would give (ids are 0). */
  check(request: Request, at: Millis): Outcome;
  available(offer: string, channel: string): number | undefined;
  whyUnavailable(offer: string, channel: string, at: Millis): Refusal | null;
  nextSlots(template: string, at: Millis, channel: string, count: number): Slot[];
  snapshot(): Snapshot;
  readonly seq: number;
  free(): void;
}

/** Browser only: load the module once before using Preview. */
export function init(input?: string | URL | Response | BufferSource): Promise<unknown>;

/** Node only: compile a catalog file's text (`format`: "toml" | "json"). */
export function compileCatalog(text: string, format: "toml" | "json", file: string): Catalog;

/** Node only: every error code this package can raise. */
export function errorCodes(): ErrorCode[];

/**
 * Where a Ledger takes "now" from for calls without `at`. A reading is a floor: a
 * command takes it or the ledger's own time, whichever is later.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (or a Date). */
  now(): Millis | Date;
}
/** The wall clock: the default, and the only read of it in this package. */
export const systemClock: Clock;
/** A clock that always answers `at`. */
export function fixedClock(at: Millis | Date): Clock;
/** A clock moved by hand (tests, rehearsing a campaign at its own dates). */
export class ManualClock implements Clock {
  constructor(at: Millis | Date);
  now(): Millis;
  /** Stand at `at` (earlier too: the ledger's stamps still never go back). */
  set(at: Millis | Date): void;
  /** Move forward by `ms` milliseconds. */
  advance(ms: Millis): void;
}

/** Node only: the full ledger, in memory or on a journal file. */
export class Ledger {
  /** The journal is this process's until `close()`: another opener gets `journal_locked`. */
  static open(file: string, options?: { durability?: "full" | "buffered" | "none"; clock?: Clock }): Ledger;
  static inMemory(options?: { clock?: Clock }): Ledger;
  /** The clock that calls without `at` read. */
  readonly clock: Clock;
  submit(action: { type: string; [k: string]: unknown }, at?: Millis | Date):
    Promise<{ outcome: Outcome; events: unknown[] }>;
  reserve(request: Request, at?: Millis | Date): Promise<Outcome>;
  confirm(reservation: number, at?: Millis | Date): Promise<Outcome>;
  release(reservation: number, at?: Millis | Date): Promise<Outcome>;
  tick(at?: Millis | Date): Promise<Outcome>;
  leaveWaitlist(entry: number, at?: Millis | Date): Promise<Outcome>;
  /** Stop intake: every later reserve is refused `paused` (confirm and release still work). */
  pause(at?: Millis | Date): Promise<Outcome>;
  resume(at?: Millis | Date): Promise<Outcome>;
  setCapacity(pool: string, capacity: number, at?: Millis | Date): Promise<Outcome>;
  loadCatalog(catalog: Catalog, at?: Millis | Date): Promise<Outcome>;
  /** Declare a consumer of the event stream given the event types it names, or change them. */
  defineConsumer(consumer: string, events: EventType[], options?: { after?: number; at?: Millis | Date }): Promise<Outcome>;
  /** What `consumer` is given: the events it names after its cursor, durable, each with its key. */
  consume(consumer: string, options?: { limit?: number }): Delivery;
  /** `consumer` has finished every event up to `seq`. */
  ack(consumer: string, seq: number, at?: Millis | Date): Promise<Outcome>;
  consumer(name: string): Consumer | null;
  consumers(): Consumer[];
  preview(request: Request, at?: Millis | Date): Outcome;
  snapshot(): Snapshot;
  catalog(): Catalog | null;
  deltasAfter(seq: number, limit?: number): Delta[];
  eventsAfter(seq: number, limit?: number): unknown[];
  pool(name: string): { name: string; capacity: number; held: number; confirmed: number; available: number } | null;
  pools(): { name: string; capacity: number; held: number; confirmed: number; available: number }[];
  available(offer: string, channel?: string): number | null;
  whyUnavailable(offer: string, channel?: string, at?: Millis | Date): Refusal | null;
  nextSlots(template: string, at?: Millis | Date, channel?: string, count?: number): Slot[];
  offer(name: string): { name: string; [k: string]: unknown } | null;
  offers(): { name: string; [k: string]: unknown }[];
  reservation(id: number): unknown;
  /** What `customer` holds or has confirmed, per offer. */
  customerUsage(customer: string): Record<string, number>;
  waitlist(offer: string): unknown[];
  waitEntry(id: number): unknown;
  /** True while intake is paused. */
  readonly paused: boolean;
  readonly digest: string;
  readonly seq: number;
  /** The ledger's time: that of the last command applied (not the clock's). */
  readonly now: Millis;
  /** What opening found; `tornBatch`: the cut was a torn group commit (a hole, then a later part of it: docs/FORMAT.md). */
  readonly recovery: { records: number; tornBytes: number; tornRecords: number; tornBatch: boolean; base: number | null };
  readonly poisoned: boolean;
  compact(): number;
  close(): void;
}
