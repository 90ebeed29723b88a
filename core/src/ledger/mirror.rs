//! A mirror of a ledger built from what a browser may see: the catalog, an
//! availability [`Snapshot`] and the [`Delta`]s after it. It answers the same
//! questions as the server (`check` a would-be request, availability, next
//! slots) with the very same rule code, because it *is* a [`Ledger`]: one whose
//! pool counters and channel shares are set from the snapshot instead of from
//! reservations.
//!
//! What it cannot know, because a browser must not: a customer's earlier
//! purchases (customer limits count from zero), request ids already used
//! (every check is a first request), and when anonymous holds expire (their
//! units come back when the server's `expired` delta arrives).

use super::Ledger;
use crate::availability::{Change, Delta, DeltaError, Snapshot};
use crate::model::quote::quote;
use crate::model::{Action, Catalog, Command, Error, Millis, Outcome, PoolId, Refusal, Request};
use crate::SlotView;

/// `outcome` with its reservation and waiting-entry ids set to 0 (as
/// [`Mirror::check`] answers), waiting positions kept.
pub fn without_ids(outcome: Outcome) -> Outcome {
    use crate::model::{ReservationId, WaitEntryId};
    let (r, e) = (ReservationId(0), WaitEntryId(0));
    match outcome {
        Outcome::Held {
            expires_at, units, ..
        } => Outcome::Held {
            reservation: r,
            expires_at,
            units,
        },
        Outcome::Confirmed { units, .. } => Outcome::Confirmed {
            reservation: r,
            units,
        },
        Outcome::Released { .. } => Outcome::Released { reservation: r },
        Outcome::Waiting { position, .. } => Outcome::Waiting { entry: e, position },
        Outcome::Left { .. } => Outcome::Left { entry: e },
        Outcome::Promoted { .. } => Outcome::Promoted {
            entry: e,
            reservation: r,
        },
        other => other,
    }
}

/// See the module documentation.
///
/// ```
/// use kontingent_core::{without_ids, Action, Catalog, Command, Ledger, Mirror, Request, Delta};
/// let catalog = Catalog::from_toml_str(r#"
/// [[pools]]
/// name = "zur-post"
/// capacity = 1
/// [[offers]]
/// name = "v20"
/// draws = { zur-post = 1 }
/// "#, "c.toml").unwrap();
/// let mut server = Ledger::new();
/// server.apply(&Command::new(0, Action::LoadCatalog(Box::new(catalog.clone())))).unwrap();
/// let mut mirror = Mirror::new(catalog, server.snapshot()).unwrap();
/// let applied = server.apply(&Command::new(5, Action::Reserve(Request::new("r1", "anna").line("v20", 1)))).unwrap();
/// for e in &applied.events {
///     mirror.apply(&Delta::from_event(e)).unwrap();
/// }
/// let next = Request::new("r2", "ben").line("v20", 1);
/// assert_eq!(mirror.check(&next, 6).unwrap(), without_ids(server.preview(&next, 6).unwrap()));
/// ```
#[derive(Clone)]
pub struct Mirror {
    snapshot: Snapshot,
    ledger: Ledger,
    /// For each snapshot pool's shares: the mirror ledger's share index of the
    /// same channel, per server channel number.
    shares: Vec<Vec<(u16, usize)>>,
    /// Set by a `catalog_changed` delta: checks refuse until a new mirror is built.
    stale: bool,
}

impl Mirror {
    /// A mirror of `catalog` at `snapshot`. The snapshot must be of that catalog:
    /// the same pools (by name, in order) and offers.
    pub fn new(catalog: Catalog, snapshot: Snapshot) -> Result<Mirror, Error> {
        let mut ledger = Ledger::new();
        ledger.apply(&Command::new(0, Action::LoadCatalog(Box::new(catalog))))?;
        let mut me = Mirror {
            snapshot: Snapshot::default(),
            ledger,
            shares: Vec::new(),
            stale: false,
        };
        me.load_snapshot(snapshot)?;
        Ok(me)
    }

    /// Replace the availability by a fresh snapshot of the same catalog (after a
    /// reconnect that missed deltas), keeping the compiled catalog. An error
    /// changes nothing.
    pub fn load_snapshot(&mut self, snapshot: Snapshot) -> Result<(), Error> {
        let ledger = &self.ledger;
        let misfit = |reason: String| Error::Misuse {
            field: format!("snapshot ({reason})"),
            reason: "the snapshot is not of this catalog",
        };
        if ledger.pools.len() != snapshot.pools.len()
            || ledger.offers.len() != snapshot.offers.len()
        {
            return Err(misfit(format!(
                "{} pools and {} offers, the catalog has {} and {}",
                snapshot.pools.len(),
                snapshot.offers.len(),
                ledger.pools.len(),
                ledger.offers.len()
            )));
        }
        let mut shares = Vec::with_capacity(snapshot.pools.len());
        for (pool, level) in ledger.pools.values().zip(&snapshot.pools) {
            if pool.name != level.name {
                return Err(misfit(format!(
                    "pool {} where {} was expected",
                    quote(&level.name),
                    quote(&pool.name)
                )));
            }
            let mut map = Vec::new();
            for s in &level.shares {
                let mine = pool
                    .shares
                    .iter()
                    .position(|p| ledger.channels.get(usize::from(p.channel)) == Some(&s.name))
                    .ok_or_else(|| {
                        misfit(format!(
                            "a share for channel {} on pool {}",
                            quote(&s.name),
                            quote(&level.name)
                        ))
                    })?;
                map.push((s.channel, mine));
            }
            shares.push(map);
        }
        for (offer, level) in ledger.offers.values().zip(&snapshot.offers) {
            if offer.name != level.name {
                return Err(misfit(format!(
                    "offer {} where {} was expected",
                    quote(&level.name),
                    quote(&offer.name)
                )));
            }
        }
        self.snapshot = snapshot;
        self.shares = shares;
        for pool in self.ledger.pools.ids() {
            self.copy_pool(pool);
        }
        self.ledger.paused = self.snapshot.paused;
        Ok(())
    }

    /// Set the mirror ledger's pool from the snapshot.
    fn copy_pool(&mut self, id: PoolId) {
        let i = id.index();
        let level = &self.snapshot.pools[i];
        let pool = &mut self.ledger.pools[id];
        pool.capacity = level.capacity;
        pool.held = level.held;
        pool.confirmed = level.confirmed;
        for (s, &(_, mine)) in level.shares.iter().zip(&self.shares[i]) {
            if let Some(share) = pool.shares.get_mut(mine) {
                share.promised = s.promised;
            }
        }
    }

    /// Apply the next delta; a gap, a replay or a delta that does not fit is
    /// refused and changes nothing.
    pub fn apply(&mut self, delta: &Delta) -> Result<(), DeltaError> {
        self.snapshot.apply(delta)?;
        match &delta.change {
            Change::Levels { changes, .. } => {
                for c in changes {
                    self.copy_pool(c.pool);
                }
            }
            Change::Capacity { pool, .. } => self.copy_pool(*pool),
            Change::Paused | Change::Resumed => self.ledger.paused = self.snapshot.paused,
            // Pools, offers or rules changed: only a new catalog and snapshot tell how.
            Change::CatalogChanged | Change::PoolDefined { .. } | Change::OfferDefined { .. } => {
                self.stale = true
            }
            Change::None => {}
        }
        Ok(())
    }

    /// What `request` would get at `at`, as the server would answer it (for a
    /// customer without earlier purchases and a new request id). Reservation and
    /// waiting-entry ids are 0: which number the server would assign is not the
    /// browser's business ([`without_ids`] makes a server's outcome comparable).
    pub fn check(&self, request: &Request, at: Millis) -> Result<Outcome, Error> {
        self.fresh()?;
        self.ledger.preview(request, at).map(without_ids)
    }

    /// Why `offer` cannot be had on `channel` at `at` (`None`: it can).
    pub fn why_unavailable(
        &self,
        offer: &str,
        channel: &str,
        at: Millis,
    ) -> Result<Option<Refusal>, Error> {
        self.fresh()?;
        self.ledger.why_unavailable(offer, channel, at)
    }

    /// Units of `offer` that `channel` could be promised now.
    pub fn available(&self, offer: &str, channel: &str) -> Option<u64> {
        self.ledger.offer_available_for(offer, channel)
    }

    /// The next `count` free slots of `template` for `channel` from `at`.
    pub fn next_slots(
        &self,
        template: &str,
        at: Millis,
        channel: &str,
        count: usize,
    ) -> Result<Vec<SlotView>, Error> {
        self.fresh()?;
        self.ledger.next_slots(template, at, channel, count)
    }

    /// The snapshot as the deltas applied so far left it.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Seq of the last delta applied (or of the snapshot, if none since): the next
    /// delta must be `seq + 1`.
    pub fn seq(&self) -> u64 {
        self.snapshot.seq
    }

    fn fresh(&self) -> Result<(), Error> {
        if self.stale {
            return Err(Error::Misuse {
                field: "catalog".into(),
                reason: "the catalog changed on the server: load the catalog and a snapshot again",
            });
        }
        Ok(())
    }
}
