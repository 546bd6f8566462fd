#!/usr/bin/env bash
# Stops the Kafka broker started by start.sh (SIGTERM, then SIGKILL after 30 s). Idempotent.
. "$(dirname "$0")/../lib.sh"
stop_pidfile kafka "$STATE_DIR/kafka/kafka.pid" 30
