// One Node process per journal. Node has no flock, so the Rust core's per-batch
// lock cannot be taken from here, and two Node processes appending to one journal
// would each confirm units from their own stale view (the voucher story's failure).
// Instead the journal is taken for the life of the Ledger through a lock file
// beside it, created exclusively and naming its owner. A crashed owner cannot
// leave it stuck: an owner on this host whose process is gone (or whose pid now
// belongs to another process) is stale, and the next opener takes the lock over.
import fs from "node:fs";
import os from "node:os";

/** The process start time the kernel keeps (Linux), to tell a reused pid apart. */
function startOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function alive(owner) {
  if (owner.host !== os.hostname()) return true; // cannot tell: assume it lives
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if (e.code === "ESRCH") return false;
  }
  const start = startOf(owner.pid);
  return owner.start == null || start == null || start === owner.start;
}

function locked(file, owner) {
  const where = owner.host === os.hostname() ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.host}`;
  const e = new Error(`${file} is open in ${where} (lock file ${file}.lock): one Node process per journal; ` +
    "if that process is gone, remove the lock file");
  return Object.assign(e, { code: "journal_locked", owner });
}

/** Take `file`'s lock for this process; returns the function that releases it. */
export function lockJournal(file) {
  const lockPath = `${file}.lock`;
  const me = { pid: process.pid, host: os.hostname(), start: startOf(process.pid) };
  const text = JSON.stringify(me);
  // The lock appears whole or not at all: written and synced under a name of our
  // own, then linked into place (link fails if the lock exists). A lock file
  // created empty and written after would let a racing opener read it half-made,
  // judge it stale and take it over, and two processes would both own the journal.
  const mine = `${lockPath}.${process.pid}.new`;
  for (let attempt = 0; attempt < 3; attempt++) {
    const fd = fs.openSync(mine, "w", 0o600);
    try { fs.writeSync(fd, text); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    try {
      fs.linkSync(mine, lockPath);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener("exit", release);
        try {
          if (fs.readFileSync(lockPath, "utf8") === text) fs.unlinkSync(lockPath);
        } catch { /* already gone */ }
      };
      process.on("exit", release);
      return release;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
    } finally {
      fs.rmSync(mine, { force: true });
    }
    let owner;
    try {
      owner = JSON.parse(fs.readFileSync(lockPath, "utf8"));
    } catch (e) {
      if (e.code === "ENOENT") continue; // released meanwhile: try again
      // Never half-written (see above), so not ours to judge: someone made it by hand.
      throw locked(file, { pid: "?", host: me.host });
    }
    // This very process (same pid, same start) counts as alive too: a second
    // Ledger on one journal in one process would be as wrong as two processes.
    if (owner && alive(owner)) {
      throw locked(file, owner);
    }
    // Stale. Move it aside under a name of our own (atomic: of two processes
    // taking over, one moves it), then look at what was moved: if it is not the
    // stale lock we judged, someone took over first; put theirs back, and stop.
    const aside = `${lockPath}.${process.pid}.stale`;
    try { fs.renameSync(lockPath, aside); } catch { continue; }
    const moved = (() => { try { return fs.readFileSync(aside, "utf8"); } catch { return null; } })();
    if (moved !== JSON.stringify(owner)) {
      try { fs.linkSync(aside, lockPath); } catch { /* another owner since */ }
      fs.rmSync(aside, { force: true });
      throw locked(file, (() => { try { return JSON.parse(moved); } catch { return owner; } })());
    }
    fs.rmSync(aside, { force: true });
  }
  throw locked(file, { pid: "?", host: me.host });
}
