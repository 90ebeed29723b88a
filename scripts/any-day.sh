#!/usr/bin/env bash
# The date can never again break the suite: every stage that touches time (the
# Python and Node tests, the README blocks, the story examples) runs again under
# Debian's faketime, at a date far from today and across the spring-forward change in
# Europe/Berlin, and each story's report must read exactly as it does today.
# Called by scripts/test.sh after the builds; usable alone once they exist.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends faketime
fi
cargo build --locked -q -p kontingent-cli  # the Node tests verify journals with it
# Debug builds: the stories take a second or two that way, and the test run has
# compiled most of them already (a release build cost CI about 2.5 minutes).
cargo build --locked -q -p kontingent-examples --bins
cargo build --locked -q -p kontingent-core --example quickstart

# The story reports, without the one line that says how long the run took.
reports() { # out-dir, then the command prefix (empty for today)
  local out=$1; shift
  "$@" ./target/debug/emstek-vouchers | grep -v '^(simulated in' >"$out/emstek.txt"
  "$@" ./target/debug/pampanin-delivery | grep -v '^(simulated in' >"$out/pampanin.txt"
  "$@" ./target/debug/examples/quickstart >"$out/quickstart.txt"
  "$@" python3 examples/python/campaign.py --journal "$out/campaign.journal" \
    | sed 's/; journal .*//' >"$out/campaign.txt"
}

# A Node suite's counts, and on a failure the whole failing subtest (name, error, stack).
node_tests() { # dir
  local log rc=0
  log=$(mktemp)
  (cd "$1" && on node --test test/) >"$log" 2>&1 || rc=$?
  grep -E '^# (pass|fail)' "$log" || true
  if [ "$rc" -ne 0 ]; then
    echo "the Node tests in $1 fail at $at ($tz):"
    awk '/^not ok/ {p=1} /^# Subtest/ {p=0} p' "$log"
    tail -5 "$log"
    exit 1
  fi
  rm -f "$log"
}

today=$(mktemp -d)
reports "$today"
# The README's Rust blocks are doctests. rustdoc itself hangs under libfaketime (as
# rustc does), so they are compiled and kept today, and their binaries run at each date.
# Keeping them is a rustdoc-only unstable flag: only rustdoc is told it may use one (in
# cargo's own environment RUSTC_BOOTSTRAP would make build scripts rerun).
doctests=$(mktemp -d)
printf '#!/bin/sh\nRUSTC_BOOTSTRAP=1 exec rustdoc "$@"\n' >"$doctests/rustdoc" && chmod +x "$doctests/rustdoc"
for pkg in kontingent-core kontingent; do # the pure core's, then the shells' (the README's)
  RUSTDOC="$doctests/rustdoc" RUSTDOCFLAGS="-Zunstable-options --persist-doctests $doctests/$pkg" \
    cargo test --locked -q -p "$pkg" --doc 2>&1 | grep -E '^test result'
done
# Far from today, and 10 s before 02:00 CET on 2027-03-28, when Berlin springs to 03:00 CEST.
for when in "UTC|2031-06-15 10:00:00" "Europe/Berlin|2027-03-28 01:59:50"; do
  tz=${when%%|*} at=${when#*|}
  on() { TZ=$tz faketime "$at" "$@"; }
  echo "== any day: $at ($tz); the process sees $(on date '+%F %T %Z')"
  n=0
  for dir in core:kontingent-core shell:kontingent; do
    for t in "$doctests/${dir#*:}"/*/rust_out; do
      (cd "${dir%%:*}" && on "$t" >/dev/null) || { echo "doctest $t fails at $at ($tz)"; exit 1; }
      n=$((n + 1))
    done
  done
  echo "doctests (the README's Rust blocks among them): $n passed"
  pylog=$(mktemp)
  if ! (cd bindings-python && on python3 -m pytest -q -p no:cacheprovider tests) >"$pylog" 2>&1; then
    echo "the Python tests fail at $at ($tz):"; grep -vE '^\.+ *\[' "$pylog" | tail -60; exit 1
  fi
  tail -1 "$pylog" && rm -f "$pylog"
  node_tests bindings-wasm
  node_tests examples/web-preview
  other=$(mktemp -d)
  reports "$other" on
  for f in emstek pampanin quickstart campaign; do
    if ! diff -u "$today/$f.txt" "$other/$f.txt"; then
      echo "the $f report differs at $at ($tz) from today's"; exit 1
    fi
  done
  echo "the story reports read as today's: $(cat "$other"/*.txt | wc -l) lines"
  rm -rf "$other"
done
rm -rf "$today" "$doctests"
