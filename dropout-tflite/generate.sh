#!/bin/sh
# Regenerates src/schema_generated.rs from schema/tflite.fbs with planus-cli 1.3
# (`cargo install planus-cli --version 1.3.0`). The serde derives planus writes on every type are
# removed: nothing here serialises the schema's types other than as flatbuffers.
set -eu
cd "$(dirname "$0")"
planus rust --format false -o src/schema_generated.rs schema/tflite.fbs
perl -0pi -e 's/,\s*::serde::Serialize,\s*::serde::Deserialize//g' src/schema_generated.rs
rustfmt --edition 2024 src/schema_generated.rs
