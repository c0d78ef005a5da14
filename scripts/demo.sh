#!/usr/bin/env bash
# The main job: build, then `vigia demo` -- a simulated surveillance flight over
# hidden sites (three passes: video with KLV, spectral cube, thermal raster),
# every pass through vigia exploit into a SQLite register, the sites written as
# GeoJSON, and the register scored against the truth with where to look next.
# Outputs in build/demo/ (docs/cli.md: vigia demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export VIGIA_DATA="${VIGIA_DATA:-$(pwd)/../shared/data}"
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target vigia >/dev/null
exec ./build/release/cli/vigia demo --out build/demo "$@"
