// Clocks: where a Ledger takes "now" from for every call made without `at`.
// The ledger itself never reads a clock (every command carries its time). A clock is
// any object with `now()` returning milliseconds since the Unix epoch (or a Date).
// `systemClock` is the default, and the only read of the wall clock in this package;
// tests, examples and rehearsals pin time with `fixedClock` or a `ManualClock`.
// A reading is a floor, never a rewind: a command stamped "now" takes the reading or
// the ledger's own time, whichever is later (docs/SEMANTICS.md, "Time").

/** Milliseconds from a number or a Date; anything else is a TypeError naming `what`. */
export function toMillis(at, what = "at") {
  const ms = at instanceof Date ? at.getTime() : at;
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms < 0) {
    throw Object.assign(new TypeError(`${what}: expected whole milliseconds since 1970 or a Date, got ${String(at)}`), { code: "invalid_input" });
  }
  return ms;
}

/** The wall clock: the default clock of every Ledger. */
export const systemClock = Object.freeze({ now: () => Date.now() });

/** A clock that always answers `at` (ms or Date). */
export function fixedClock(at) {
  const ms = toMillis(at, "fixedClock");
  return Object.freeze({ now: () => ms });
}

/** A clock moved by hand: give it to a Ledger, keep it to move time. */
export class ManualClock {
  #at;
  constructor(at) { this.#at = toMillis(at, "ManualClock"); }
  now() { return this.#at; }
  /** Stand at `at` (earlier too: the ledger's stamps still never go back). */
  set(at) { this.#at = toMillis(at, "ManualClock.set"); }
  /** Move forward by `ms` milliseconds. */
  advance(ms) { this.#at = toMillis(this.#at + toMillis(ms, "ManualClock.advance"), "ManualClock.advance"); }
}
