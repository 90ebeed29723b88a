#!/usr/bin/env bash
# Sets up what the tests need (idempotently) and runs every test.
# Usage: ./scripts/test.sh            (CI runs exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# The PostgreSQL log's tests start their own throwaway PostgreSQL 15 cluster.
if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15
fi

# The README's HTTP tour (cli/tests/readme.rs) runs curl.
if ! command -v curl >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl
fi

# The PHP client's tests and the WordPress plugin's: Debian's PHP, WordPress and
# MariaDB (the tests start their own database and site, and stop them).
if [ ! -f /usr/share/wordpress/wp-settings.php ] || ! command -v mariadbd >/dev/null 2>&1 \
   || ! php -r 'exit(function_exists("mysqli_connect") ? 0 : 1);' 2>/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    php8.2-cli php8.2-mysql wordpress mariadb-server
fi

# The notification tests run a real SMTP server (Python's aiosmtpd) and a
# webhook receiver in Python (its hmac checks the signatures independently).
python3 -c "import aiosmtpd" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check aiosmtpd

# Each stage's header says when it began, so a slow CI run shows where its time went.
stage() { printf '== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$1"; }

stage "the packages carry the repository's licenses"
for d in bindings-python bindings-wasm; do cmp LICENSE-MIT "$d/LICENSE-MIT" && cmp LICENSE-APACHE "$d/LICENSE-APACHE"; done
stage "the pure core's line, drawn by its dependencies: no lock, checksum or libc crate; the browser build is the core alone"
if cargo tree -p kontingent-core -e normal --locked | grep -E "parking_lot|crc32c|libc"; then
  echo "kontingent-core depends on a shell crate"; exit 1
fi
stage "format"
cargo fmt --all -- --check
stage "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The Python binding without its PostgreSQL log (the feature a smaller build leaves out).
cargo clippy -p kontingent-python --no-default-features --locked -- -D warnings
stage "docs (every public item of the core and the shell crate documented; no broken links)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --workspace -q
stage "tests"
cargo test --workspace --locked
stage "examples (each asserts its own report and exits non-zero on a violation)"
cargo run --locked -p kontingent-core --example quickstart >/dev/null
cargo run --locked -p kontingent-examples --bin emstek-vouchers >/dev/null
cargo run --locked -p kontingent-examples --bin pampanin-delivery >/dev/null
stage "python binding (built with maturin through pip; tests with pytest)"
python3 -m pip install -q --disable-pip-version-check ./bindings-python pytest mypy flask gunicorn
(cd bindings-python && python3 -m pytest -q tests)
python3 -c "import importlib.metadata as m; f = {p.name for p in m.files('kontingent')}; assert {'LICENSE-MIT', 'LICENSE-APACHE'} <= f, f"
(cd /tmp && python3 -m mypy.stubtest kontingent._kontingent)
python3 -m mypy --strict bindings-python/python/kontingent/__init__.py
stage "wasm binding (built with Debian's rustc-web + wasm-bindgen; Node's test runner)"
bash scripts/build-wasm.sh
if (cd bindings-wasm && PATH=/usr/bin:$PATH cargo tree -e normal --target wasm32-unknown-unknown --locked | grep -E "── kontingent v"); then
  echo "the browser build links the shell crate"; exit 1
fi
cargo build --locked -q -p kontingent-cli # the Node tests verify journals with it
(cd bindings-wasm && node --test test/)
stage "web preview in headless Chromium (Debian's chromium + playwright-core; no browser download)"
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi
(cd examples/web-preview && { [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund -s; } \
  && node --test test/)
stage "kontingent serve in headless Chromium: the operator console, and a browser preview on another origin fed by its events"
cargo build --locked -q -p kontingent-server
(cd server/browser-test && { [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund -s; } \
  && node --test test/)
stage "PHP client: a plain runner against a real server and a hostile fake one"
for f in integrations/php/src/*.php integrations/php/src/*/*.php integrations/wordpress/kontingent/*.php integrations/wordpress/kontingent/includes/*.php; do
  php -l "$f" >/dev/null
done
php integrations/php/tests/run.php
stage "WordPress plugin on Debian's WordPress and MariaDB: a visitor in headless Chromium, the rush, the e-mails"
(cd integrations/wordpress/test && { [ -d node_modules/playwright-core ] || npm install --no-audit --no-fund -s; } \
  && node --test --test-concurrency=1 ./*.test.mjs)
stage "any day: the stages that touch time again under faketime (2031, and Berlin's DST change)"
bash scripts/any-day.sh
stage "fuzzing: every corpus and regression input, then a short smoke run per target"
cargo test --manifest-path fuzz/Cargo.toml --locked
if cargo +nightly --version >/dev/null 2>&1; then
  command -v cargo-fuzz >/dev/null || cargo install -q --locked cargo-fuzz
  for t in journal journal_holes catalog commands snapshot; do
    seeds=$(mktemp -d) log=$(mktemp)
    if ! (cd fuzz && cargo +nightly fuzz run "$t" "$seeds" "corpus/$t" -- \
          -max_total_time="${FUZZ_SECS:-16}" >"$log" 2>&1); then
      tail -40 "$log"; echo "fuzz target $t found a crash: fuzz/artifacts/$t"; exit 1
    fi
    echo "$t: $(grep -E '^Done' "$log")"
    rm -rf "$seeds" "$log"
  done
else
  echo "(no nightly toolchain here: the libFuzzer smoke run needs one; the corpora above still ran)"
fi
stage "all tests passed"
