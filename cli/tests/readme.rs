//! README's HTTP tour, run as written: `kontingent serve`, curl and the operator's
//! verb, on a free port in a scratch directory, each answer compared with the
//! `# ...` line the README shows under its command.

use std::path::Path;
use std::process::Command;

#[test]
fn the_readme_http_block_runs_and_answers_what_it_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let from = readme.find("### Over HTTP").expect("the HTTP tour");
    let start = readme[from..].find("```sh\n").unwrap() + from + 6;
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = block.replace("127.0.0.1:7070", &format!("127.0.0.1:{port}"));
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("examples"), dir.path().join("examples")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_kontingent"))
        .parent()
        .unwrap();
    let out = Command::new("bash")
        .args(["-c", &format!("set -m\n{script}\nwait")])
        .current_dir(dir.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let shown: Vec<&str> = block.lines().filter_map(|l| l.strip_prefix("# ")).collect();
    let got: Vec<&str> = stdout.lines().filter(|l| l.starts_with('{')).collect();
    assert_eq!(
        got,
        shown,
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
