#!/usr/bin/env bash
# A tour of vigia on real public data (the main job, on a simulated flight, is
# scripts/demo.sh): build, then read the real drone video of VIRAT AP Hill (MPEG-2 TS, EG 0104 KLV): what it holds, and every
# frame with its sensor pose (PNG + JSON in build/tour/frames); its footprints
# on the ground (GeoJSON, KML) and the check of its own KLV geometry; the
# anomaly detector on the 11 hyperspectral benchmark scenes beside published
# figures; the clip through detection, geolocation and fusion into a site
# register; then the real Cheyenne ST 0601 KLV stream's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
DATA="${VIGIA_DATA:-$(pwd)/../shared/data}"
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target vigia >/dev/null
V=./build/release/cli/vigia
$V probe "$DATA/fmv/aphill_klv_10s.ts"
echo
mkdir -p build/tour
$V frames "$DATA/fmv/aphill_klv_10s.ts" --rgb --out build/tour/frames | cut -c1-220
echo "frames and their poses: build/tour/frames/"
echo
$V footprints "$DATA/fmv/aphill_klv_10s.ts" -o build/tour/aphill_footprints.geojson
$V footprints "$DATA/fmv/aphill_klv_10s.ts" -o build/tour/aphill_footprints.kml
echo "footprints: build/tour/aphill_footprints.geojson, .kml"
echo
$V geocheck "$DATA/fmv/aphill_klv_10s.ts"
echo
$V had --roc build/tour/had_roc.png "$DATA/hsi"
$V detect "$DATA/hsi/abu-airport-1.mat" --out build/tour/airport-1 --truth "$DATA/hsi/abu-airport-1.mat"
echo "scores, preview and detections: build/tour/airport-1/; ROC curves: build/tour/had_roc.png"
echo
rm -f build/tour/register.db build/tour/register.db-wal build/tour/register.db-shm
$V exploit "$DATA/fmv/aphill_klv_10s.ts" --every 1 --db build/tour/register.db
$V sites --db build/tour/register.db list
echo "the site register: build/tour/register.db (vigia sites --db build/tour/register.db ...)"
echo
$V klv --summary "$DATA/klv/streams/cheyenne_st0601v1.klv" | cut -c1-400
