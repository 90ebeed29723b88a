//! The ledger's events in the model's vocabulary, so that the two can be compared
//! and the auditor needs to know only one of them.

use crate::model::{Ev, MEvent, Pools, Src};
use kontingent_core::{Event, EventKind};

pub fn pools_of<'a>(amounts: impl IntoIterator<Item = &'a kontingent_core::PoolAmount>) -> Pools {
    amounts.into_iter().map(|a| (a.pool.0, a.amount)).collect()
}

pub fn src(standing: &kontingent_core::Standing) -> Src {
    match format!("{standing:?}").as_str() {
        "New" => Src::New,
        "Held" => Src::Held,
        "Confirmed" => Src::Confirmed,
        other => panic!("unknown standing {other}"),
    }
}

pub fn to_ev(kind: &EventKind) -> Ev {
    match kind {
        EventKind::CatalogLoaded { name } => Ev::CatalogLoaded { name: name.clone() },
        EventKind::PoolDefined {
            pool,
            name,
            capacity,
        } => Ev::PoolDefined {
            pool: pool.0,
            name: name.clone(),
            capacity: *capacity,
        },
        EventKind::OfferDefined {
            offer,
            name,
            draws,
            waitlist,
        } => {
            let mut draws = pools_of(draws.iter());
            draws.sort();
            Ev::OfferDefined {
                offer: offer.0,
                name: name.clone(),
                draws,
                waitlist: *waitlist,
            }
        }
        EventKind::CapacityChanged { pool, capacity } => Ev::CapacityChanged {
            pool: pool.0,
            capacity: *capacity,
        },
        EventKind::DefaultHoldChanged { hold_ms } => Ev::DefaultHoldChanged { hold_ms: *hold_ms },
        // The channel is checked separately (`events_name_the_reservations_channel`).
        EventKind::Held {
            reservation,
            expires_at,
            pools,
            ..
        } => Ev::Held {
            reservation: reservation.0,
            expires_at: *expires_at,
            pools: pools_of(pools.iter()),
        },
        EventKind::Confirmed {
            reservation,
            from,
            pools,
            ..
        } => Ev::Confirmed {
            reservation: reservation.0,
            from: src(from),
            pools: pools_of(pools.iter()),
        },
        EventKind::Released {
            reservation,
            from,
            pools,
            ..
        } => Ev::Released {
            reservation: reservation.0,
            from: src(from),
            pools: pools_of(pools.iter()),
        },
        EventKind::Expired {
            reservation, pools, ..
        } => Ev::Expired {
            reservation: reservation.0,
            pools: pools_of(pools.iter()),
        },
        EventKind::WaitlistJoined {
            entry,
            offer,
            quantity,
            position,
        } => Ev::WaitlistJoined {
            entry: entry.0,
            offer: offer.0,
            quantity: *quantity,
            position: *position,
        },
        EventKind::WaitlistLeft { entry, offer } => Ev::WaitlistLeft {
            entry: entry.0,
            offer: offer.0,
        },
        EventKind::Promoted {
            entry,
            reservation,
            expires_at,
            pools,
            ..
        } => Ev::Promoted {
            entry: entry.0,
            reservation: reservation.0,
            expires_at: *expires_at,
            pools: pools_of(pools.iter()),
        },
        EventKind::Paused => Ev::Paused,
        EventKind::Resumed => Ev::Resumed,
    }
}

pub fn to_mevent(e: &Event) -> MEvent {
    MEvent {
        seq: e.seq,
        at: e.at,
        ev: to_ev(&e.kind),
    }
}
