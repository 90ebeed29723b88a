//! The `kontingent` binary, run for real: every exit status it promises.

use kontingent::{Action, Command, Draw, Durability, Request};
use std::process::Command as Process;

fn kontingent(args: &[&str]) -> (i32, String, String) {
    let out = Process::new(env!("CARGO_BIN_EXE_kontingent"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn journal(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u64>) {
    let path = dir.join("j.journal");
    let l = kontingent::open(&path, Durability::Full).unwrap();
    let mut ends = vec![std::fs::metadata(&path).unwrap().len()];
    let mut cmds = vec![
        Command::new(
            0,
            Action::DefinePool {
                pool: "zur-post".into(),
                capacity: 5,
            },
        ),
        Command::new(
            0,
            Action::DefineOffer {
                offer: "v".into(),
                draws: vec![Draw::new("zur-post", 1)],
                waitlist: Default::default(),
            },
        ),
    ];
    for i in 0..4 {
        cmds.push(Command::new(
            1,
            Action::Reserve(Request::new(format!("r{i}"), "c").line("v", 1)),
        ));
    }
    for c in cmds {
        l.submit(c).unwrap();
        ends.push(std::fs::metadata(&path).unwrap().len());
    }
    (path, ends)
}

#[test]
fn check_reports_fields_and_lines() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[[pools]]\nname = \"p\"\ncapacity = 3\n[[offers]]\nname = \"o\"\ndraws = { p = 1 }\n",
    )
    .unwrap();
    let (code, out, _) = kontingent(&["check", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("1 pools, 1 offers"), "{out}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[pools]]\nname = \"p\"\ncapacity = 3\n[[offers]]\nname = \"o\"\ndraws = { q = 1 }\n",
    )
    .unwrap();
    let (code, _, err) = kontingent(&["check", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("offers[0].draws.q: unknown pool \"q\"") && err.contains("bad.toml:6:11"),
        "{err}"
    );
}

#[test]
fn verify_tells_ok_torn_and_corrupt_apart_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ends) = journal(dir.path());
    let p = path.to_str().unwrap();
    let (code, out, _) = kontingent(&["verify", p]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok — 6 records"), "{out}");

    let full = std::fs::read(&path).unwrap();
    let torn = &full[..full.len() - 3];
    std::fs::write(&path, torn).unwrap();
    let (code, out, _) = kontingent(&["verify", p]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("torn tail"), "{out}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        torn,
        "verify must not cut anything"
    );

    let mut corrupt = full.clone();
    let middle = ends[3] as usize + 10;
    corrupt[middle] ^= 0x40;
    std::fs::write(&path, &corrupt).unwrap();
    let (code, _, err) = kontingent(&["verify", p]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!("offset {}", ends[3])), "{err}");

    std::fs::write(
        &path,
        b"definitely not a journal, but long enough to have a header..........",
    )
    .unwrap();
    let (code, _, err) = kontingent(&["verify", p]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn inspect_shows_availability_at_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = journal(dir.path());
    let (code, out, _) = kontingent(&[
        "inspect",
        path.to_str().unwrap(),
        "--records",
        "4",
        "--commands",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("#4 "), "{out}");
    assert!(!out.contains("#5 "), "{out}");
    // After 4 records: 2 definitions and 2 holds.
    let row = out.lines().find(|l| l.starts_with("zur-post")).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols, vec!["zur-post", "5", "2", "0", "3"]);
}

#[test]
fn checkpoint_writes_a_file_that_the_next_open_uses() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = journal(dir.path());
    let (code, out, err) = kontingent(&["checkpoint", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("checkpoint of 6 records"), "{out}");
    let l = kontingent::open(&path, Durability::Full).unwrap();
    assert_eq!(l.recovery().from_checkpoint, Some(6));
    assert_eq!(l.recovery().records, 0);
}

#[test]
fn compact_retires_the_records_and_verify_and_inspect_still_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = journal(dir.path());
    let digest = kontingent::open(&path, Durability::Full)
        .unwrap()
        .read(|l| l.digest())
        .unwrap();
    let (code, out, err) = kontingent(&["compact", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("6 records retired"), "{out}");
    let (code, out, _) = kontingent(&["verify", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("base state of 6 retired records"), "{out}");
    assert!(out.contains(&digest.to_string()), "{out}");
    let (code, out, _) = kontingent(&["inspect", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let row = out.lines().find(|l| l.starts_with("zur-post")).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols, vec!["zur-post", "5", "4", "0", "1"]);
    // A bit flipped in the base state: verify says corrupt (exit 2), naming offset 64.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[80] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let (code, _, err) = kontingent(&["verify", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("offset 64"), "{err}");
}

/// Issue 15, point 3: `repair` cuts a journal that opening refuses at the refused
/// offset, saving the cut bytes first; without corruption it changes nothing.
#[test]
fn repair_cuts_corruption_after_saving_it_and_leaves_a_sound_journal_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ends) = journal(dir.path());
    let p = path.to_str().unwrap();
    let full = std::fs::read(&path).unwrap();
    let (code, out, _) = kontingent(&["repair", p]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("no corruption") && out.contains("nothing changed"),
        "{out}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), full);

    let mut corrupt = full.clone();
    let at = ends[3] as usize;
    corrupt[at + 10] ^= 0x40;
    std::fs::write(&path, &corrupt).unwrap();
    let (code, out, err) = kontingent(&["repair", p]);
    assert_eq!(code, 0, "{out}{err}");
    let side = dir.path().join(format!("j.journal.cut-at-{at}"));
    assert_eq!(
        std::fs::read(&side).unwrap(),
        &corrupt[at..],
        "the cut bytes are kept"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        &full[..at],
        "cut at the refused offset"
    );
    assert!(
        out.contains(&format!("offset {at}"))
            && out.contains(&format!("cut {} bytes", corrupt.len() - at))
            && out.contains("2 intact-looking records (numbers 5 ..= 6)")
            && out.contains(side.to_str().unwrap()),
        "{out}"
    );
    let (code, out, _) = kontingent(&["verify", p]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok — 3 records"), "{out}");

    // An existing side file is never overwritten: nothing is cut then.
    std::fs::write(&path, &corrupt).unwrap();
    let (code, _, err) = kontingent(&["repair", p]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), corrupt, "{err}");
    assert_eq!(std::fs::read(&side).unwrap(), &corrupt[at..]);

    // Not a journal: nothing to repair, nothing changed.
    std::fs::write(&path, b"hello world\n").unwrap();
    let (code, _, err) = kontingent(&["repair", p]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"hello world\n");
}
