#!/usr/bin/env bash
# Python reference clients for interop tests: astropy (FITS, WCS, VOTable), pyarrow and duckdb (Parquet).
. "$(dirname "$0")/../lib.sh"
cd "$INFRA_ROOT/python"
stamp="$STATE_DIR/python-requirements.sha"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && python3 -c "import astropy, pyarrow, duckdb" 2>/dev/null; then exit 0; fi
log "pip install -r infra/python/requirements.txt"
python3 -m pip install -q -r requirements.txt >&2
echo "$want" > "$stamp"
