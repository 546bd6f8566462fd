#!/usr/bin/env bash
# Starts versitygw (posix backend) on 127.0.0.1 with root credentials generated on first start into
# $STATE_DIR/s3/env (mode 600, never committed): S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_REGION. Idempotent, waits until the port answers. The port is kept across restarts.
. "$(dirname "$0")/../lib.sh"
dir="$STATE_DIR/s3"
bin="$STATE_DIR/bin/versitygw"
pidfile="$dir/versitygw.pid"
mkdir -p "$dir/data"
[ -x "$bin" ] || bash "$INFRA_ROOT/s3/setup.sh"

if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  . "$dir/env"
  if wait_for_port 127.0.0.1 "${S3_ENDPOINT##*:}" 30; then exit 0; fi
  log "versitygw pid $(cat "$pidfile") runs but its port is closed"; exit 1
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -f "$dir/port" ]; then PORT=$(cat "$dir/port"); fi
if [ -z "${PORT:-}" ] || ! port_free "$PORT"; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "$PORT" > "$dir/port"
fi
if [ ! -f "$dir/credentials" ]; then
  (umask 077; printf 'ACCESS=%s\nSECRET=%s\n' "ds$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    "$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" > "$dir/credentials")
fi
. "$dir/credentials"
(umask 077; cat > "$dir/env" <<ENV
S3_ENDPOINT=http://127.0.0.1:$PORT
AWS_ACCESS_KEY_ID=$ACCESS
AWS_SECRET_ACCESS_KEY=$SECRET
AWS_REGION=us-east-1
ENV
)
log "starting versitygw on 127.0.0.1:$PORT"
# Credentials go through the environment, not argv, so `ps` does not show them.
ROOT_ACCESS_KEY_ID="$ACCESS" ROOT_SECRET_ACCESS_KEY="$SECRET" \
  nohup "$bin" --port "127.0.0.1:$PORT" --quiet posix "$dir/data" > "$dir/versitygw.log" 2>&1 &
echo $! > "$pidfile"
if wait_for_port 127.0.0.1 "$PORT" 60; then log "versitygw ready"; exit 0; fi
log "versitygw did not start; see $dir/versitygw.log"; tail -20 "$dir/versitygw.log" >&2; exit 1
