#!/usr/bin/env bash
# `npm test`: start the services the integration tests need (infra/*/start.sh), run jest,
# and stop the services again whatever happened.
set -uo pipefail
cd "$(dirname "$0")/.."
started=()
stop_all() {
  for ((i=${#started[@]}-1; i>=0; i--)); do bash "infra/${started[$i]}/stop.sh" || true; done
}
trap stop_all EXIT
for s in infra/*/start.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$(dirname "$s")")
  echo "[infra] start $name" >&2
  if ! bash "$s"; then echo "[infra] failed to start $name" >&2; exit 1; fi
  started+=("$name")
done
npx jest --ci --maxWorkers=2 "$@"
