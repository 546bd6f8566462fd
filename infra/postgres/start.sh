#!/usr/bin/env bash
# Starts a private PostgreSQL 15 (+ q3c) on 127.0.0.1:$PG_PORT with its data under $STATE_DIR.
# Idempotent: initialises the cluster once, starts it if it is not running, waits until it accepts
# connections, and makes sure the role, database and q3c extension exist.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/env.sh"
[ -x "$PG_BIN/pg_ctl" ] || { log "postgres: $PG_BIN/pg_ctl missing; run infra/postgres/setup.sh"; exit 1; }
mkdir -p "$PG_DIR" "$PG_SOCK"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR" "$PG_SOCK"; fi
chmod 700 "$PG_DIR"

if [ ! -f "$PG_DATA/PG_VERSION" ]; then
  log "postgres: initdb $PG_DATA"
  pwfile="$PG_DIR/pwfile"
  printf '%s\n' "$PG_PASSWORD" > "$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pwfile"
  chmod 600 "$pwfile"
  rm -rf "$PG_DATA"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
fi

if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
  log "postgres: starting on 127.0.0.1:$PG_PORT"
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_SOCK -c fsync=off -c synchronous_commit=off" start >/dev/null \
    || { tail -20 "$PG_LOG" >&2; exit 1; }
fi
wait_for_port 127.0.0.1 "$PG_PORT" 60 || { log "postgres: port $PG_PORT not open"; tail -20 "$PG_LOG" >&2; exit 1; }
# Accepting TCP is not accepting queries (recovery, startup): wait for a real one.
for _ in $(seq 1 100); do
  as_pg "$PG_BIN/psql" -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atqc 'select 1' >/dev/null 2>&1 && break
  sleep 0.2
done
psql_pg() { as_pg "$PG_BIN/psql" -h "$PG_SOCK" -p "$PG_PORT" -U "$PG_USER" -v ON_ERROR_STOP=1 -Atq "$@"; }
if [ "$(psql_pg -d postgres -c "select 1 from pg_database where datname = '$PG_DB'")" != 1 ]; then
  psql_pg -d postgres -c "create database $PG_DB"
fi
PGOPTIONS='-c client_min_messages=warning' psql_pg -d "$PG_DB" -c 'create extension if not exists q3c' >/dev/null
printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$PG_USER" "$PG_PASSWORD" "$PG_PORT" "$PG_DB" > "$PG_URL_FILE"
chmod 644 "$PG_URL_FILE"
log "postgres: ready on 127.0.0.1:$PG_PORT (database $PG_DB, q3c)"
