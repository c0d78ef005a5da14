#!/usr/bin/env bash
# The main job until `vigia demo` exists: build, then read the real drone
# video of VIRAT AP Hill (MPEG-2 TS, EG 0104 KLV): what it holds, and every
# frame with its sensor pose (PNG + JSON in build/demo/frames); then the real
# Cheyenne ST 0601 KLV stream's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
DATA="${VIGIA_DATA:-$(pwd)/../shared/data}"
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target vigia >/dev/null
V=./build/release/cli/vigia
$V probe "$DATA/fmv/aphill_klv_10s.ts"
echo
mkdir -p build/demo
$V frames "$DATA/fmv/aphill_klv_10s.ts" --rgb --out build/demo/frames | cut -c1-220
echo "frames and their poses: build/demo/frames/"
echo
$V klv --summary "$DATA/klv/streams/cheyenne_st0601v1.klv" | cut -c1-400
