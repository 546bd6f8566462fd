#!/usr/bin/env bash
# Stops versitygw started by start.sh. Idempotent. Data under $STATE_DIR/s3/data is kept.
. "$(dirname "$0")/../lib.sh"
pidfile="$STATE_DIR/s3/versitygw.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
