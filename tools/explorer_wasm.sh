#!/usr/bin/env bash
# Builds the explorer page's WebAssembly module (the `dropout-explorer` crate) and writes it to
# dropout-runtime/src/inspect/explorer.wasm, which every page embeds. With --check, builds it
# and fails unless the committed module is exactly this build (as .ci/run does).
#
# Needs the wasm32-unknown-unknown target: rustup target add wasm32-unknown-unknown
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cargo_home=${CARGO_HOME:-$HOME/.cargo}
# The same bytes wherever it is built: paths inside the module do not name this machine.
export RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$root=/src"
target_dir=${CARGO_TARGET_DIR:-$root/target}
cargo build --quiet --locked -p dropout-explorer --target wasm32-unknown-unknown --profile explorer
built=$target_dir/wasm32-unknown-unknown/explorer/dropout_explorer.wasm
committed=dropout-runtime/src/inspect/explorer.wasm
if [ "${1:-}" = "--check" ]; then
  if ! cmp -s "$built" "$committed"; then
    echo "explorer.wasm is not the build of explorer/ and the runtime: run tools/explorer_wasm.sh and commit it" >&2
    exit 1
  fi
  echo "explorer.wasm is the build of its sources ($(wc -c <"$committed") bytes)"
else
  cp "$built" "$committed"
  echo "wrote $committed ($(wc -c <"$committed") bytes)"
fi
