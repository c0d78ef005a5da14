#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster for the tests (the register's
# shared store). Nothing outside a fresh temporary directory is touched: no
# system cluster, no /var/run/postgresql, no port fixed in advance.
#
#   eval "$(bash scripts/pg.sh start)"   # sets and exports VIGIA_PG_URI, VIGIA_PG_STOP
#   ...tests...
#   $VIGIA_PG_STOP                       # = bash scripts/pg.sh stop <dir>
#
# start: initdb (trust auth, UTF8) in a new temporary directory owned by an
# unprivileged user (the caller, or "postgres" when run as root: the server
# refuses to run as root), pg_ctl start with the unix socket in that
# directory and TCP on 127.0.0.1 at a free port, creates database "vigia"
# with the postgis extension, and prints shell assignments of the URI
# (postgresql://...) and of the command that stops it.
# stop <dir>: stops that cluster (fast) and removes its directory; it only
# acts on a directory that start made (marker file), so a wrong argument
# deletes nothing.
# Environment: PG_BINDIR (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MARK=.vigia-pg-throwaway
DB=vigia

bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -x "$d/initdb" ] || { echo "pg.sh: no PostgreSQL server found (apt-get install postgresql)" >&2; exit 1; }
  echo "$d"
}

# Runs a command as the cluster's owner ($RUN_AS; empty: as ourselves).
as_owner() {
  if [ -z "$RUN_AS" ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u "$RUN_AS" -- "$@"
  else
    su "$RUN_AS" -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return
  # No python3: try ports until one is not listened on.
  local p
  for p in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "pg.sh: no free TCP port" >&2
  exit 1
}

start() {
  local bin dir port try
  bin=$(bindir)
  RUN_AS=""
  if [ "$(id -u)" -eq 0 ]; then
    RUN_AS=postgres
    id postgres >/dev/null 2>&1 || { echo "pg.sh: running as root but there is no user postgres" >&2; exit 1; }
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/vigia-pg.XXXXXX")
  touch "$dir/$MARK"
  # Any failure from here on stops what was started and removes the directory.
  trap 'stop "$dir" >/dev/null 2>&1 || true' EXIT
  [ -n "$RUN_AS" ] && chown "$RUN_AS" "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
      start >/dev/null 2>&1; then
      break
    fi
    [ "$try" -eq 5 ] && { cat "$dir/server.log" >&2; exit 1; }
  done
  echo "$port" >"$dir/port"
  as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
    -c "CREATE DATABASE $DB" >&2
  as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d "$DB" \
    -c "CREATE EXTENSION postgis" >&2
  trap - EXIT
  printf "VIGIA_PG_URI='postgresql://postgres@127.0.0.1:%s/%s'\n" "$port" "$DB"
  printf "VIGIA_PG_STOP='bash %s/pg.sh stop %s'\n" "$HERE" "$dir"
  printf "export VIGIA_PG_URI VIGIA_PG_STOP\n"
  echo "pg.sh: PostgreSQL $("$bin/postgres" -V | awk '{print $3}') + PostGIS at postgresql://postgres@127.0.0.1:$port/$DB (data in $dir)" >&2
}

stop() {
  local dir=${1:-} bin
  [ -n "$dir" ] && [ -f "$dir/$MARK" ] || { echo "pg.sh: $dir is not a cluster made by pg.sh start" >&2; exit 1; }
  bin=$(bindir)
  RUN_AS=""
  [ "$(id -u)" -eq 0 ] && RUN_AS=$(stat -c %U "$dir")
  [ "$RUN_AS" = root ] && RUN_AS=""
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop <dir>" >&2; exit 2 ;;
esac
