//! The generators: proptest strategies for the two shapes of runs, raw
//! `define_*` commands or a random catalog, and the commands that follow.

pub mod catalog;
pub mod commands;

use catalog::{gcat, GCat};
use kontingent_core::{Action, Command, Draw, WaitlistPolicy};
use proptest::prelude::*;

/// Generated runs start here, and windows and slots are placed relative to it.
pub const BASE: u64 = 1_000;
/// A selector that names no offer or pool, to reach the unknown-name errors.
pub const UNKNOWN: u8 = u8::MAX;

/// The raw shape: pools and offers defined by commands, no catalog.
#[derive(Clone, Debug)]
pub struct Setup {
    capacities: Vec<u64>,
    /// (draws as (pool index, amount), policy)
    offers: Vec<(Vec<(usize, u64)>, WaitlistPolicy)>,
    default_hold_ms: Option<u64>,
}

pub fn setup_strategy() -> impl Strategy<Value = Setup> {
    (2usize..=4)
        .prop_flat_map(|np| {
            let offer = (
                prop::sample::subsequence((0..np).collect::<Vec<_>>(), 1..=np.min(3))
                    .prop_shuffle(),
                prop::collection::vec(1u64..=3, 3),
                any::<bool>(),
            )
                .prop_map(|(pools, amounts, skip)| {
                    let draws = pools.into_iter().zip(amounts).collect();
                    (draws, policy(skip))
                });
            (
                prop::collection::vec(0u64..20, np),
                prop::collection::vec(offer, 2..=4),
                // Disjoint from request hold_ms (1..=40) so that `None` and
                // `Some(default)` never compare as the same content.
                prop::option::of(prop::sample::select(vec![50u64, 75, 120])),
            )
        })
        .prop_map(|(capacities, offers, default_hold_ms)| Setup {
            capacities,
            offers,
            default_hold_ms,
        })
}

pub fn policy(skip: bool) -> WaitlistPolicy {
    if skip {
        WaitlistPolicy::Skip
    } else {
        WaitlistPolicy::Strict
    }
}

#[derive(Clone, Debug)]
pub enum Shape {
    Raw(Setup),
    Cat(GCat),
}

pub fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        setup_strategy().prop_map(Shape::Raw),
        gcat().prop_map(Shape::Cat),
    ]
}

pub fn pool_name(i: usize) -> String {
    format!("p{i}")
}

pub fn offer_name(i: usize) -> String {
    format!("o{i}")
}

pub fn setup(cat: &Setup) -> Vec<Command> {
    let mut cmds = Vec::new();
    for (i, &c) in cat.capacities.iter().enumerate() {
        cmds.push(Command::new(
            BASE,
            Action::DefinePool {
                pool: pool_name(i),
                capacity: c,
            },
        ));
    }
    for (i, (draws, policy)) in cat.offers.iter().enumerate() {
        cmds.push(Command::new(
            BASE,
            Action::DefineOffer {
                offer: offer_name(i),
                draws: draws
                    .iter()
                    .map(|&(p, a)| Draw::new(pool_name(p), a))
                    .collect(),
                waitlist: *policy,
            },
        ));
    }
    if let Some(h) = cat.default_hold_ms {
        cmds.push(Command::new(BASE, Action::SetDefaultHold { hold_ms: h }));
    }
    cmds
}
