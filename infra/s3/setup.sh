#!/usr/bin/env bash
# Installs versitygw (Versity S3 Gateway, Apache-2.0), a real S3-compatible server with a POSIX backend,
# from the Go module proxy into $STATE_DIR/bin. Idempotent: skipped when the pinned version is installed.
. "$(dirname "$0")/../lib.sh"
VERSION=v1.8.0
bin="$STATE_DIR/bin/versitygw"
stamp="$STATE_DIR/s3/versitygw.version"
mkdir -p "$STATE_DIR/bin" "$STATE_DIR/s3"
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$VERSION" ]; then exit 0; fi
command -v go >/dev/null || ensure_apt golang-go
log "go install github.com/versity/versitygw/cmd/versitygw@$VERSION"
GOBIN="$STATE_DIR/bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSION" >&2
echo "$VERSION" > "$stamp"
