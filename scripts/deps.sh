#!/usr/bin/env bash
# Installs the Debian 12 packages vigia needs, if any is missing (run as root or with sudo).
# postgresql + postgresql-15-postgis-3 are servers for the tests only (scripts/pg.sh starts a
# throwaway cluster; the system's own cluster, if apt starts one, is not used).
# npm fetches the map page's vendored files (web/package-lock.json); chromium and libnss3-tools
# (certutil, pk12util) run the browser.map test.
set -euo pipefail
PKGS="build-essential cmake pkg-config libcmocka-dev libjansson-dev clang xxd
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg zlib1g-dev \
  libgdal-dev libproj-dev proj-data libopenblas-dev liblapacke-dev libcairo2-dev python3-spectral
  libsqlite3-dev libpq-dev
  libsodium-dev libxml2-dev libxml2-utils python3-jsonschema
  libmicrohttpd-dev libgnutls28-dev libcurl4-gnutls-dev gnutls-bin curl nginx
  chromium libnss3-tools
  postgresql postgresql-15-postgis-3"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
# npm: Debian's package, unless a Node.js install (e.g. NodeSource's nodejs) already brings it
command -v npm >/dev/null 2>&1 || missing="$missing npm"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# the map page's third-party files, exactly as locked (then re-run cmake to vendor them)
web="$(cd "$(dirname "$0")/.." && pwd)/web"
[ -d "$web/node_modules" ] || npm ci --prefix "$web" --no-audit --no-fund
# the product tests' GeoJSON checker (tests/products/package-lock.json)
checks="$(dirname "$web")/tests/products"
[ -d "$checks/node_modules" ] || npm ci --prefix "$checks" --no-audit --no-fund
