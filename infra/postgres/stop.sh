#!/usr/bin/env bash
# Stops the private PostgreSQL started by start.sh (idempotent; keeps the data directory).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/env.sh"
if [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
  log "postgres: stopping"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null
fi
