#!/usr/bin/env bash
# Installs everything the tests need, by running every infra/*/setup.sh in name order.
# Each one is idempotent and reuses caches (apt, pip, ~/.m2, Go build cache).
set -euo pipefail
cd "$(dirname "$0")"
for s in */setup.sh; do
  [ -f "$s" ] || continue
  echo "[infra] setup ${s%/setup.sh}" >&2
  bash "$s"
done
