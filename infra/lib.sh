#!/usr/bin/env bash
# Shared helpers for infra/ scripts. Source it: `. "$(dirname "$0")/../lib.sh"`.
# Every function is idempotent and skips work already done, so a warm `npm test` is quick.
set -euo pipefail
INFRA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_ROOT/.." && pwd)"
# Runtime state (data dirs, pids, logs) lives here, ignored by git.
STATE_DIR="${DEEPSOURCE_INFRA_STATE:-$REPO_ROOT/.infra}"
mkdir -p "$STATE_DIR"

log() { echo "[infra] $*" >&2; }

# ensure_apt PKG...: install Debian packages that are missing (apt-get update at most once per hour).
ensure_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local stamp="$STATE_DIR/apt-updated"
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +60 2>/dev/null)" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && touch "$stamp"
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# ensure_pip MODULE=REQUIREMENT...: pip-install a requirement unless `import MODULE` already works.
ensure_pip() {
  local reqs=()
  for spec in "$@"; do
    local mod="${spec%%=*}" req="${spec#*=}"
    python3 -c "import $mod" >/dev/null 2>&1 || reqs+=("$req")
  done
  [ ${#reqs[@]} -eq 0 ] && return 0
  log "pip install ${reqs[*]}"
  python3 -m pip install -q "${reqs[@]}" >&2
}

# wait_for_port HOST PORT SECONDS
wait_for_port() {
  local host=$1 port=$2 secs=$3 i=0
  while ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
    i=$((i+1)); [ $i -ge $((secs*5)) ] && return 1; sleep 0.2
  done
  return 0
}

# stop_pidfile NAME PIDFILE SECONDS: SIGTERM the process in PIDFILE, SIGKILL it if it is still
# alive after SECONDS, and remove the pid file. Idempotent (no pid file, or a dead pid, is fine).
stop_pidfile() {
  local name=$1 pidfile=$2 secs=$3
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((secs * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "$name did not stop in $secs s; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}
