# Shared settings for infra/postgres scripts (sourced after lib.sh).
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PG_PORT="${DEEPSOURCE_PG_PORT:-55432}"
PG_DIR="$STATE_DIR/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/sock"
PG_LOG="$PG_DIR/postgres.log"
PG_USER=deepsource
PG_DB=deepsource
# A test-only password on a loopback-only server: it exercises password auth (and its redaction).
PG_PASSWORD="${DEEPSOURCE_PG_PASSWORD:-deepsource-test-pw}"
# The connection string tests read from here (never printed by the scripts).
PG_URL_FILE="$PG_DIR/url"

# initdb and postgres refuse to run as root: run them as the Debian 'postgres' user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
