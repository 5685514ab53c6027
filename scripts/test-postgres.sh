#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the test suite on 127.0.0.1:${KUMO_PG_PORT:-55432}
# and prints its DSN. Installs PostgreSQL from Debian's packages when missing.
# Usage: scripts/test-postgres.sh start|stop|dsn
set -euo pipefail
port=${KUMO_PG_PORT:-55432}
dir=${KUMO_PG_DIR:-/tmp/kumo-test-pg}
dsn="postgres://kumo@127.0.0.1:${port}/kumo?sslmode=disable"

pgbin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$d" ]; then
    echo "installing postgresql from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  echo "$d"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  local bin; bin=$(pgbin)
  if as_pg "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then echo "$dsn"; return; fi
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_pg "$bin/initdb" -D "$dir" -U kumo --auth=trust -E UTF8 >/dev/null
  as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U kumo kumo
  echo "$dsn"
}

case "${1:-start}" in
  start) start ;;
  stop) as_pg "$(pgbin)/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true ;;
  dsn) echo "$dsn" ;;
  *) echo "usage: $0 start|stop|dsn" >&2; exit 2 ;;
esac
