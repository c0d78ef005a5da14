#!/usr/bin/env bash
# The main job until `vigia demo` exists: build, then decode the real
# Cheyenne ST 0601 stream and print its summary and its first packet.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
DATA="${VIGIA_DATA:-$(pwd)/../shared/data}"
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target vigia >/dev/null
./build/release/cli/vigia klv --summary --pretty "$DATA/klv/streams/cheyenne_st0601v1.klv"
./build/release/cli/vigia klv "$DATA/klv/streams/cheyenne_st0601v1.klv" | head -n 1
