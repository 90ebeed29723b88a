//! Every committed corpus input and every regression input, through the target
//! bodies, under plain `cargo test` (no libFuzzer needed to keep a fixed crash fixed).
//!
//! `KONTINGENT_WRITE_SEEDS=1 cargo test` (re)writes the generated seed inputs.

use kontingent::storage::MemoryStorage;
use kontingent::{
    Action, Command, Delta, Draw, Durability, DurableLedger, Ledger, Request, ReservationId,
};
use std::path::Path;

type Target = fn(&[u8]);
const TARGETS: [(&str, Target); 5] = [
    ("journal", kontingent_fuzz::journal),
    ("journal_holes", kontingent_fuzz::journal_holes),
    ("catalog", kontingent_fuzz::catalog),
    ("commands", kontingent_fuzz::commands),
    ("snapshot", kontingent_fuzz::snapshot),
];

#[test]
fn corpora_and_regressions_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var("KONTINGENT_WRITE_SEEDS").is_ok() {
        write_seeds(root);
    }
    for (name, target) in TARGETS {
        let mut n = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let r = std::panic::catch_unwind(|| target(&data));
                assert!(r.is_ok(), "{name}: {} fails", path.display());
                n += 1;
            }
        }
        assert!(n > 0, "{name} has inputs");
        eprintln!("{name}: {n} inputs ok");
    }
}

fn write_seeds(root: &Path) {
    let put = |target: &str, name: &str, data: &[u8]| {
        let dir = root.join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), data).unwrap();
    };
    // Journals: a plain one, a compacted one with records after its base, a torn one.
    let mem = MemoryStorage::new();
    let (l, _) = DurableLedger::open_storage(mem.clone(), Durability::Full).unwrap();
    let mut cmds = vec![
        Command::new(
            0,
            Action::DefinePool {
                pool: "p".into(),
                capacity: 3,
            },
        ),
        Command::new(
            0,
            Action::DefineOffer {
                offer: "o".into(),
                draws: vec![Draw::new("p", 1)],
                waitlist: Default::default(),
            },
        ),
    ];
    for i in 0..4 {
        cmds.push(Command::new(
            10 + i,
            Action::Reserve(Request::new(format!("r{i}"), "c").line("o", 1).waitlist()),
        ));
    }
    cmds.push(Command::new(
        20,
        Action::Confirm {
            reservation: ReservationId(1),
        },
    ));
    cmds.push(Command::new(30, Action::Tick));
    let mut deltas = Vec::new();
    let snap0 = Ledger::new().snapshot();
    for c in &cmds {
        let applied = l.submit(c.clone()).unwrap();
        deltas.extend(applied.events.iter().map(Delta::from_event));
    }
    let plain = mem.bytes();
    put("journal", "plain", &plain);
    put("journal", "torn", &plain[..plain.len() - 5]);
    let mut payload = Vec::new();
    kontingent::codec::encode(&cmds[2], &mut payload);
    put("journal", "payload-reserve", &payload);
    let state = l.read(|l| l.state_bytes()).unwrap();
    put("journal", "state", &state);
    l.compact().unwrap();
    l.submit(Command::new(
        40,
        Action::Release {
            reservation: ReservationId(1),
        },
    ))
    .unwrap();
    put("journal", "compacted", &mem.bytes());
    // Catalogs: the two stories, and the invalid ones the catalog tests use.
    let repo = root.parent().unwrap();
    for story in ["emstek-vouchers", "pampanin-delivery"] {
        let text = std::fs::read(repo.join("examples").join(story).join("catalog.toml")).unwrap();
        put("catalog", &format!("{story}.toml"), &text);
        let c = kontingent::read_catalog(repo.join("examples").join(story).join("catalog.toml"))
            .unwrap();
        put(
            "catalog",
            &format!("{story}.json"),
            serde_json::to_string(&c).unwrap().as_bytes(),
        );
    }
    if let Ok(bad) = std::fs::read_dir(repo.join("core/tests/catalogs/bad")) {
        for e in bad {
            let p = e.unwrap().path();
            put(
                "catalog",
                &format!("bad-{}", p.file_name().unwrap().to_string_lossy()),
                &std::fs::read(&p).unwrap(),
            );
        }
    }
    // Command programs.
    put(
        "commands",
        "reserve-confirm-crash",
        &[0, 1, 2, 0x10, 3, 4, 3, 0, 1, 7, 0, 1, 0, 2, 5],
    );
    put(
        "commands",
        "capacity-tick-crash",
        &[5, 1, 0, 6, 200, 0, 7, 0, 0, 1, 1, 1, 4, 0, 1, 7, 1, 1],
    );
    // Snapshot + deltas.
    let mut s = serde_json::to_vec(&snap0).unwrap();
    for d in &deltas {
        s.push(b'\n');
        s.extend(serde_json::to_vec(d).unwrap());
    }
    put("snapshot", "from-start", &s);
}
