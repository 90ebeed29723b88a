#!/usr/bin/env bash
# Sets up what the tests need (idempotently) and runs every test.
# Usage: ./scripts/test.sh            (CI runs exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== format"
cargo fmt --all -- --check
echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
cargo test --workspace --locked
echo "== examples (each asserts its own report and exits non-zero on a violation)"
cargo run --release --locked -p kontingent --example quickstart >/dev/null
cargo run --release --locked -p kontingent-examples --bin emstek-vouchers >/dev/null
cargo run --release --locked -p kontingent-examples --bin pampanin-delivery >/dev/null
echo "== python binding (built with maturin through pip; tests with pytest)"
python3 -m pip install -q --disable-pip-version-check ./bindings-python pytest mypy flask gunicorn
(cd bindings-python && python3 -m pytest -q tests)
(cd /tmp && python3 -m mypy.stubtest kontingent._kontingent)
python3 -m mypy --strict bindings-python/python/kontingent/__init__.py
echo "all tests passed"
