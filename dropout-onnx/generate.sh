#!/bin/sh
# Regenerates src/proto.rs from proto/onnx.proto3 (ONNX's schema, unchanged, from onnx/onnx at
# commit f7546912001bc31e92a238b17068a21b373d882e; Apache-2.0) with prost-build 0.14 and protox,
# which parses the schema without protoc (tools/onnx_bindings).
set -eu
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo run --quiet --release --manifest-path ../tools/onnx_bindings/Cargo.toml -- proto "$out"
mv "$out/onnx.rs" src/proto.rs
rustfmt --edition 2024 src/proto.rs
