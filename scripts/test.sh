#!/usr/bin/env bash
# Builds vigia (release, -Werror) and runs every test under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export VIGIA_DATA="${VIGIA_DATA:-$(pwd)/../shared/data}"
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
ctest --preset release --no-tests=error -j2
