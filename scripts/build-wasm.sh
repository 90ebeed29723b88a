#!/usr/bin/env bash
# Builds the WASM binding (bindings-wasm/) for Node and the browser, installing
# the toolchain first if it is missing (idempotent; see ../shared/wasm-toolchain.md):
# Debian's rustc-web builds std for wasm32, wasm-bindgen-cli glues the module.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s rustc-web rust-web-src lld-22 >/dev/null 2>&1; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    rustc-web cargo-web rust-web-src lld-22
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "0.2.130"; then
  PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 cargo install -q wasm-bindgen-cli --version 0.2.130
fi
WB=$(command -v wasm-bindgen || echo "$HOME/.cargo/bin/wasm-bindgen")
cd bindings-wasm
if [ ! -x node_modules/.bin/wasm-opt ]; then
  npm install --no-audit --no-fund --no-save -s binaryen@latest >/dev/null 2>&1 || true
fi
# Two builds: the browser's (preview only: small) and Node's (the full ledger too).
build() { # features out-dir target
  PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 cargo build --release -q $1
  "$WB" --target "$3" --out-dir "$2" target/wasm32-unknown-unknown/release/kontingent_wasm.wasm
  if [ -x node_modules/.bin/wasm-opt ]; then
    node_modules/.bin/wasm-opt -O3 --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals "$2/kontingent_wasm_bg.wasm" -o "$2/kontingent_wasm_bg.wasm"
  fi
}
build "" pkg-web web
build "--features node" pkg-node nodejs
# wasm-bindgen's Node glue is CommonJS inside an ESM package.
echo '{"type": "commonjs"}' > pkg-node/package.json
echo "wasm (browser): $(stat -c %s pkg-web/kontingent_wasm_bg.wasm) bytes, $(gzip -9c pkg-web/kontingent_wasm_bg.wasm | wc -c) gzipped"
echo "wasm (node):    $(stat -c %s pkg-node/kontingent_wasm_bg.wasm) bytes, $(gzip -9c pkg-node/kontingent_wasm_bg.wasm | wc -c) gzipped"
