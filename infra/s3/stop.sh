#!/usr/bin/env bash
# Stops versitygw started by start.sh (SIGTERM, then SIGKILL after 10 s). Idempotent.
# Data under $STATE_DIR/s3/data is kept.
. "$(dirname "$0")/../lib.sh"
stop_pidfile versitygw "$STATE_DIR/s3/versitygw.pid" 10
