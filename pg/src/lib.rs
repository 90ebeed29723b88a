//! The ordered log in PostgreSQL: every app server runs the same state machine
//! over one log kept in a table, so several machines serve one ledger.
//!
//! [`PgStorage`] is a [`Storage`]: the journal's records (the same bytes as in a
//! journal file, `docs/FORMAT.md`) are rows of `kontingent_log`, one row per
//! record, numbered by the record's sequence number (gap-free, the primary key).
//! The file journal's protocol carries over unchanged:
//!
//! | file journal | PostgreSQL |
//! |---|---|
//! | `flock` | `BEGIN` + `pg_advisory_xact_lock` on the ledger's name |
//! | tail what other processes appended | select the rows after ours |
//! | append a batch | insert its rows (the next numbers, atomically) |
//! | unlock, then `fdatasync` | `COMMIT` (synchronous_commit=on): durable when it returns |
//!
//! So every server judges each command on the state just before it, all agree on
//! the digest at every seq, and a command is acknowledged only after its
//! transaction committed. Requests that arrive while a batch is in flight go into
//! the next batch (the durable ledger's group commit): one transaction per batch.
//!
//! ```no_run
//! use kontingent::{Durability, DurableLedger};
//! let storage = kontingent_pg::PgStorage::connect("host=127.0.0.1 port=5432 user=postgres", "emstek").unwrap();
//! let (ledger, _) = DurableLedger::open_storage(storage, Durability::Full).unwrap();
//! ```

pub mod cluster;

use kontingent::storage::Storage;
use postgres::{Client, NoTls};
use std::io;

/// Open (or create) the ledger `ledger` on the log in PostgreSQL at `url`, replaying
/// it: the same ledger API as a journal file's `kontingent::open`.
pub fn open(
    url: &str,
    ledger: &str,
    durability: kontingent::Durability,
) -> Result<kontingent::DurableLedger<PgStorage>, kontingent::JournalError> {
    let storage = PgStorage::connect(url, ledger)?;
    Ok(kontingent::DurableLedger::open_storage(storage, durability)?.0)
}

/// Wakes when another server commits to a ledger's log (LISTEN/NOTIFY), so a
/// server can apply it (any read tails) and push deltas to browsers at once;
/// `wait` returning `false` after its timeout is the polling fallback.
pub struct Watcher {
    client: Client,
}

impl Watcher {
    pub fn connect(url: &str, ledger: &str) -> io::Result<Watcher> {
        let mut client = Client::connect(url, NoTls).map_err(pg)?;
        if !ledger
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "ledger name"));
        }
        client
            .batch_execute(&format!("LISTEN \"kontingent_{ledger}\""))
            .map_err(pg)?;
        Ok(Watcher { client })
    }

    /// Block until a commit is announced (`true`) or `timeout` passes (`false`).
    /// Several announcements that arrived meanwhile count as one.
    pub fn wait(&mut self, timeout: std::time::Duration) -> io::Result<bool> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut n = self.client.notifications();
        let got = n.timeout_iter(timeout).next().map_err(pg)?.is_some();
        while n.iter().next().map_err(pg)?.is_some() {}
        Ok(got)
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kontingent_ledgers (
    ledger      text PRIMARY KEY,
    -- bumped by a compaction, so other servers know to find their place again
    generation  bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS kontingent_log (
    ledger  text   NOT NULL,
    seq     bigint NOT NULL,      -- the record's sequence number; 0 is the header (and base state)
    start   bigint NOT NULL,      -- byte offset of the record in the journal's byte stream
    record  bytea  NOT NULL,      -- the framed record, exactly as in a journal file
    PRIMARY KEY (ledger, seq)
);";

/// A journal kept in PostgreSQL. Not shared between threads: the durable ledger
/// owns it and calls it from its write leader only.
pub struct PgStorage {
    client: Client,
    /// Kept to open a second connection for reading the log from the start.
    url: String,
    hold_limit: std::time::Duration,
    ledger: String,
    /// Byte length of the journal as of the last look (rows are immutable, so
    /// appended bytes are known without asking).
    len: Option<u64>,
    in_tx: bool,
    generation: i64,
    replaced: bool,
    /// The journal's length after our last append or look: where other servers'
    /// records start next time.
    known_end: u64,
    /// The sequence number of the last row we know of (-1: none yet).
    known_seq: i64,
    /// Rows fetched with the lock (what other servers appended since `known_end`),
    /// so the tail costs no extra round trip: `(start, record)`, in order.
    prefetched: Vec<(u64, Vec<u8>)>,
    /// Rows appended under the lock, sent with the COMMIT in one round trip.
    pending: String,
}

fn pg(e: postgres::Error) -> io::Error {
    io::Error::other(format!("postgres: {e}"))
}

/// How long a server may hold a ledger's lock without a word to PostgreSQL before
/// PostgreSQL ends its session ([`PgStorage::connect_with`]).
pub const HOLD_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

impl PgStorage {
    /// Connect (`url`: a libpq connection string or `postgresql://` URL; no TLS)
    /// to the log of the ledger named `ledger`, creating the tables if needed, with
    /// the default [`HOLD_LIMIT`].
    pub fn connect(url: &str, ledger: &str) -> io::Result<PgStorage> {
        PgStorage::connect_with(url, ledger, HOLD_LIMIT)
    }

    /// As [`PgStorage::connect`]. `hold_limit` bounds what a frozen or cut-off
    /// server costs the others: a session that holds the ledger's lock (an open
    /// transaction) and says nothing for that long is ended by PostgreSQL
    /// (`idle_in_transaction_session_timeout`, set on our own sessions only), its
    /// uncommitted batch rolled back (none of it was acknowledged) and the lock
    /// freed. A batch's own silence under the lock is the time to apply it in
    /// memory (microseconds), so the limit never ends a working server.
    pub fn connect_with(
        url: &str,
        ledger: &str,
        hold_limit: std::time::Duration,
    ) -> io::Result<PgStorage> {
        // The name goes into SQL text (one round trip for BEGIN and the lock).
        if ledger.is_empty()
            || ledger.len() > 63
            || !ledger
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("ledger name {ledger:?}: 1 to 63 of A-Z, a-z, 0-9, - and _"),
            ));
        }
        let mut client = Client::connect(url, NoTls).map_err(pg)?;
        let ms = hold_limit.as_millis().clamp(1, i32::MAX as u128);
        client
            .batch_execute(&format!("SET idle_in_transaction_session_timeout = {ms}"))
            .map_err(pg)?;
        // Several servers may start at once: create the tables under a lock.
        let mut tx = client.transaction().map_err(pg)?;
        tx.execute("SELECT pg_advisory_xact_lock(7395406)", &[])
            .map_err(pg)?;
        tx.batch_execute(SCHEMA).map_err(pg)?;
        tx.execute(
            "INSERT INTO kontingent_ledgers (ledger) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&ledger],
        )
        .map_err(pg)?;
        tx.commit().map_err(pg)?;
        let mut me = PgStorage {
            client,
            url: url.to_owned(),
            hold_limit,
            ledger: ledger.to_owned(),
            len: None,
            in_tx: false,
            generation: 0,
            replaced: false,
            known_end: 0,
            known_seq: -1,
            prefetched: Vec::new(),
            pending: String::new(),
        };
        me.generation = me.current_generation()?;
        Ok(me)
    }

    fn current_generation(&mut self) -> io::Result<i64> {
        let row = self
            .client
            .query_one(
                "SELECT generation FROM kontingent_ledgers WHERE ledger = $1",
                &[&self.ledger],
            )
            .map_err(pg)?;
        Ok(row.get(0))
    }

    /// The journal's length and the ledger's generation, in one round trip (the
    /// last row by the primary key: no scan).
    fn head(&mut self) -> io::Result<(u64, i64)> {
        let row = self
            .client
            .query_one(
                "SELECT COALESCE((SELECT start + length(record) FROM kontingent_log
                                  WHERE ledger = $1 ORDER BY seq DESC LIMIT 1), 0),
                        (SELECT generation FROM kontingent_ledgers WHERE ledger = $1)",
                &[&self.ledger],
            )
            .map_err(pg)?;
        let (n, g): (i64, i64) = (row.get(0), row.get(1));
        Ok((n as u64, g))
    }

    /// Fill `buf` from the rows fetched with the lock, if they cover it.
    fn fill_from_prefetched(&self, offset: u64, buf: &mut [u8]) -> bool {
        let end = offset + buf.len() as u64;
        let mut filled = offset;
        for (start, record) in &self.prefetched {
            let stop = start + record.len() as u64;
            if stop <= filled || *start >= end {
                continue;
            }
            if *start > filled {
                return false;
            }
            let to = end.min(stop);
            buf[(filled - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&record[(filled - start) as usize..(to - start) as usize]);
            filled = to;
            if filled == end {
                return true;
            }
        }
        filled == end && !buf.is_empty()
    }

    fn fetch_len(&mut self) -> io::Result<u64> {
        Ok(self.head()?.0)
    }
}

impl Storage for PgStorage {
    fn len(&mut self) -> io::Result<u64> {
        // Inside the lock the length can only change by our own appends; outside,
        // ask (other servers append).
        match (self.in_tx, self.len) {
            (true, Some(n)) => Ok(n),
            _ => {
                let n = self.fetch_len()?;
                if self.in_tx {
                    self.len = Some(n);
                }
                Ok(n)
            }
        }
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = offset + buf.len() as u64;
        if self.fill_from_prefetched(offset, buf) {
            return Ok(());
        }
        let rows = self
            .client
            .query(
                "SELECT start, record FROM kontingent_log
                 WHERE ledger = $1 AND start < $3 AND start + length(record) > $2
                 ORDER BY seq",
                &[&self.ledger, &(offset as i64), &(end as i64)],
            )
            .map_err(pg)?;
        let mut filled = 0u64;
        for row in rows {
            let start: i64 = row.get(0);
            let record: &[u8] = row.get(1);
            let start = start as u64;
            let from = offset.max(start);
            let to = end.min(start + record.len() as u64);
            if from != offset + filled {
                return Err(io::Error::other("the log has a hole"));
            }
            buf[(from - offset) as usize..(to - offset) as usize]
                .copy_from_slice(&record[(from - start) as usize..(to - start) as usize]);
            filled = to - offset;
        }
        if filled != buf.len() as u64 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let base = self.len()?;
        // Split into rows: the header (at offset 0) is row 0, every framed record
        // its own row, numbered by its sequence number.
        let (mut seqs, mut starts, mut records) = (Vec::new(), Vec::new(), Vec::<&[u8]>::new());
        let mut o = 0usize;
        if base == 0 {
            let h = kontingent::journal::HEADER_LEN as usize;
            if data.len() < h {
                return Err(io::Error::other("a journal starts with its whole header"));
            }
            seqs.push(0i64);
            starts.push(0i64);
            records.push(&data[..h]);
            o = h;
        }
        let frame = kontingent::journal::FRAME_LEN as usize;
        while o < data.len() {
            if data.len() - o < frame {
                return Err(io::Error::other("a partial record"));
            }
            let n = u32::from_le_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]]) as usize;
            let mut seq = [0u8; 8];
            seq.copy_from_slice(&data[o + 8..o + 16]);
            let end = o + frame + n;
            if end > data.len() {
                return Err(io::Error::other("a partial record"));
            }
            seqs.push(i64::from_le_bytes(seq));
            starts.push((base + o as u64) as i64);
            records.push(&data[o..end]);
            o = end;
        }
        // Sent with the COMMIT, in one round trip (see `unlock`). Outside a
        // transaction (never, in the ledger's use) it is sent at once.
        use std::fmt::Write as _;
        for ((seq, start), record) in seqs.iter().zip(&starts).zip(&records) {
            if self.pending.is_empty() {
                self.pending
                    .push_str("INSERT INTO kontingent_log (ledger, seq, start, record) VALUES ");
            } else {
                self.pending.push(',');
            }
            let _ = write!(self.pending, "('{}',{seq},{start},'\\x", self.ledger);
            for b in *record {
                let _ = write!(self.pending, "{b:02x}");
            }
            self.pending.push_str("'::bytea)");
        }
        if !self.in_tx {
            let sql = std::mem::take(&mut self.pending);
            self.client.batch_execute(&sql).map_err(pg)?;
        }
        self.known_end = base + data.len() as u64;
        if let Some(last) = seqs.last() {
            self.known_seq = *last;
        }
        if self.in_tx {
            self.len = Some(base + data.len() as u64);
        }
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        // Rows are whole records: only a torn tail that cannot exist here would be cut.
        self.client
            .execute(
                "DELETE FROM kontingent_log WHERE ledger = $1 AND start >= $2",
                &[&self.ledger, &(len as i64)],
            )
            .map_err(pg)?;
        if self.in_tx {
            self.len = Some(len);
        }
        self.known_end = len;
        self.known_seq = -1; // look again from the start: a cut is rare
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        // Durable at COMMIT (synchronous_commit=on): nothing more to wait for.
        Ok(())
    }

    fn syncer(&self) -> io::Result<Box<dyn FnMut() -> io::Result<()> + Send>> {
        Ok(Box::new(|| Ok(())))
    }

    fn lock(&mut self) -> io::Result<()> {
        // One round trip: begin, wait for the ledger's lock, look at the head, and
        // fetch what other servers appended since we last looked (up to a bound;
        // beyond it the journal reads the rest by offset).
        let l = &self.ledger;
        let sql = format!(
            "BEGIN; SELECT pg_advisory_xact_lock(hashtext('{l}'));
             SELECT COALESCE((SELECT start + length(record) FROM kontingent_log
                              WHERE ledger = '{l}' ORDER BY seq DESC LIMIT 1), 0),
                    (SELECT generation FROM kontingent_ledgers WHERE ledger = '{l}'),
                    COALESCE((SELECT max(seq) FROM kontingent_log WHERE ledger = '{l}'), -1);
             SELECT start, encode(record, 'hex') FROM kontingent_log
              WHERE ledger = '{l}' AND seq > {} ORDER BY seq LIMIT 4096",
            self.known_seq
        );
        let messages = self.client.simple_query(&sql).map_err(pg)?;
        self.in_tx = true;
        let rows: Vec<&postgres::SimpleQueryRow> = messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .collect();
        let bad = || io::Error::other("postgres: an unexpected answer to the head query");
        // Rows: the lock's (1), the head (1), then the prefetched records.
        let head = rows.get(1).ok_or_else(bad)?;
        let len: u64 = head.get(0).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let generation: i64 = head.get(1).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        let last_seq: i64 = head.get(2).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
        self.prefetched.clear();
        for r in rows.iter().skip(2) {
            let start: u64 = r.get(0).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let hex = r.get(1).ok_or_else(bad)?.as_bytes();
            let mut record = Vec::with_capacity(hex.len() / 2);
            for pair in hex.chunks(2) {
                let digit = |c: u8| (c as char).to_digit(16).ok_or_else(bad);
                record.push((digit(pair[0])? * 16 + digit(*pair.get(1).ok_or_else(bad)?)?) as u8);
            }
            self.prefetched.push((start, record));
        }
        self.len = Some(len);
        self.known_end = len;
        self.known_seq = last_seq;
        if generation != self.generation {
            self.generation = generation;
            self.replaced = true;
            self.prefetched.clear();
        }
        Ok(())
    }

    fn unlock(&mut self) -> io::Result<()> {
        self.in_tx = false;
        self.len = None;
        self.prefetched.clear();
        // The commit is the durability point of everything appended under the lock;
        // the rows go with it, in one round trip.
        let mut sql = std::mem::take(&mut self.pending);
        if !sql.is_empty() {
            // Sent at the commit, to every server listening (see `Watcher`).
            sql.push_str(&format!("; NOTIFY \"kontingent_{}\"; ", self.ledger));
        }
        sql.push_str("COMMIT");
        self.client.batch_execute(&sql).map_err(pg)
    }

    fn replace(&mut self, contents: &[u8]) -> io::Result<()> {
        // A compaction: the journal becomes header + base state, one row, in the
        // same transaction (under the lock); other servers see the generation move.
        self.client
            .execute(
                "DELETE FROM kontingent_log WHERE ledger = $1",
                &[&self.ledger],
            )
            .map_err(pg)?;
        self.client
            .execute(
                "INSERT INTO kontingent_log (ledger, seq, start, record) VALUES ($1, 0, 0, $2)",
                &[&self.ledger, &contents],
            )
            .map_err(pg)?;
        let row = self
            .client
            .query_one(
                "UPDATE kontingent_ledgers SET generation = generation + 1 WHERE ledger = $1 RETURNING generation",
                &[&self.ledger],
            )
            .map_err(pg)?;
        self.generation = row.get(0);
        self.len = Some(contents.len() as u64);
        self.known_end = contents.len() as u64;
        self.known_seq = 0;
        Ok(())
    }

    fn take_replaced(&mut self) -> bool {
        std::mem::take(&mut self.replaced)
    }

    fn reader(&self) -> Option<kontingent::storage::Opener> {
        let (url, ledger, limit) = (self.url.clone(), self.ledger.clone(), self.hold_limit);
        Some(Box::new(move || {
            Ok(Box::new(PgStorage::connect_with(&url, &ledger, limit)?) as Box<dyn Storage>)
        }))
    }
}
