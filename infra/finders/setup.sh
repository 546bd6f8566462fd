#!/usr/bin/env bash
# External source finders for `deepsource compare` (paper section 3 and issue 4):
# - SExtractor: the Debian package `source-extractor` (binary `source-extractor`).
# - PyBDSF: `pip install bdsf` (imported as `bdsf`). Needs numpy/scipy/astropy; if no wheel fits
#   this Python, pip builds it from source, which needs a Fortran compiler, boost-python and cmake.
. "$(dirname "$0")/../lib.sh"
# Other infra scripts may hold the dpkg lock; ensure_apt fails at once then, so retry for a while.
ensure_apt_retry() {
  local i
  for i in $(seq 1 60); do
    if ensure_apt "$@"; then return 0; fi
    log "apt busy or failed (try $i), retrying in 10 s"
    sleep 10
  done
  return 1
}
ensure_apt_retry source-extractor
if ! python3 -c "import bdsf" >/dev/null 2>&1; then
  if ! python3 -m pip install -q --only-binary=:all: bdsf >&2; then
    log "no bdsf wheel for this Python: building from source"
    ensure_apt_retry gfortran cmake libboost-python-dev libboost-numpy-dev python3-dev build-essential
    python3 -m pip install -q bdsf >&2
  fi
fi
python3 -c "import bdsf" >/dev/null
command -v source-extractor >/dev/null
