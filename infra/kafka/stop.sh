#!/usr/bin/env bash
# Stops the Kafka broker started by start.sh (SIGTERM, then SIGKILL after 30 s). Idempotent.
. "$(dirname "$0")/../lib.sh"
pidfile="$STATE_DIR/kafka/kafka.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "kafka did not stop in 30 s; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
fi
rm -f "$pidfile"
