#!/usr/bin/env bash
# Sets up (idempotently) and runs the main demo on the embedded default.
# Usage: ./scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo run --release --locked -p kontingent-examples --bin emstek-vouchers
