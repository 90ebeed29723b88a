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

use kontingent::storage::Storage;
use postgres::{Client, NoTls};
use std::io;

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
    ledger: String,
    /// Byte length of the journal as of the last look (rows are immutable, so
    /// appended bytes are known without asking).
    len: Option<u64>,
    in_tx: bool,
    generation: i64,
    replaced: bool,
}

fn pg(e: postgres::Error) -> io::Error {
    io::Error::other(format!("postgres: {e}"))
}

impl PgStorage {
    /// Connect (`url`: a libpq connection string or `postgresql://` URL; no TLS)
    /// to the log of the ledger named `ledger`, creating the tables if needed.
    pub fn connect(url: &str, ledger: &str) -> io::Result<PgStorage> {
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
            ledger: ledger.to_owned(),
            len: None,
            in_tx: false,
            generation: 0,
            replaced: false,
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
        // One statement for the whole batch.
        self.client
            .execute(
                "INSERT INTO kontingent_log (ledger, seq, start, record)
                 SELECT $1, s, o, r FROM unnest($2::bigint[], $3::bigint[], $4::bytea[]) AS t(s, o, r)",
                &[&self.ledger, &seqs, &starts, &records],
            )
            .map_err(pg)?;
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
        // One round trip to begin and wait for the ledger's lock, one to look at
        // the head (what others appended, whether they compacted).
        self.client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock(hashtext('{}'))",
                self.ledger
            ))
            .map_err(pg)?;
        self.in_tx = true;
        let (len, generation) = self.head()?;
        self.len = Some(len);
        if generation != self.generation {
            self.generation = generation;
            self.replaced = true;
        }
        Ok(())
    }

    fn unlock(&mut self) -> io::Result<()> {
        self.in_tx = false;
        self.len = None;
        // The commit is the durability point of everything appended under the lock.
        self.client.batch_execute("COMMIT").map_err(pg)
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
        Ok(())
    }

    fn take_replaced(&mut self) -> bool {
        std::mem::take(&mut self.replaced)
    }
}
