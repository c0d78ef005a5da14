#!/usr/bin/env bash
# Installs the Debian 12 packages vigia needs, if any is missing (run as root or with sudo).
# postgresql + postgresql-15-postgis-3 are servers for the tests only (scripts/pg.sh starts a
# throwaway cluster; the system's own cluster, if apt starts one, is not used).
set -euo pipefail
PKGS="build-essential cmake pkg-config libcmocka-dev libjansson-dev clang xxd
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg zlib1g-dev \
  libgdal-dev libproj-dev proj-data libopenblas-dev liblapacke-dev libcairo2-dev python3-spectral
  libsqlite3-dev libpq-dev
  libsodium-dev libxml2-utils python3-jsonschema
  libmicrohttpd-dev gnutls-bin curl
  postgresql postgresql-15-postgis-3"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
