#!/usr/bin/env bash
# Reproduces compare/report.md (issue 4): test, validation and training images from fixed seeds,
# TBD tuned on the validation images, SExtractor/PyBDSF thresholds tuned on the same validation
# images, then every finder on the 40 test images per weighting. Finder catalogues are cached
# under compare/.cache (gitignored), CNN maps for tuning under tmp/eval/maps.
#   bash compare/run.sh [natural|uniform ...]     (default: both)
# Stages can be skipped with SKIP_SIM=1, SKIP_TUNE=1. OBJECTIVE=pc3 (default, paper 4.3) or
# pc3-cumulative (every finder tuned by PC over SNR >= 3; results under compare/W-cumulative).
set -euo pipefail
cd "$(dirname "$0")/.."
ds() { node bin/deepsource.js "$@"; }
weightings=("$@"); [ ${#weightings[@]} -eq 0 ] && weightings=(natural uniform)
for w in "${weightings[@]}"; do
  case "$w" in natural) test_seed=3101; val_seed=3201;; uniform) test_seed=4101; val_seed=4201;; *) echo "unknown weighting $w" >&2; exit 2;; esac
  data=tmp/eval/$w
  if [ -z "${SKIP_SIM:-}" ]; then
    [ -f "$data/test/manifest.json" ] || ds simulate --out "$data/test" --count 40 --size 2048 --weighting "$w" --field different --seed "$test_seed"
    [ -f "$data/val10/manifest.json" ] || ds simulate --out "$data/val10" --count 10 --size 2048 --weighting "$w" --field different --seed "$val_seed"
  fi
  objective=${OBJECTIVE:-pc3}
  label=$w; [ "$objective" = pc3 ] || label=$w-cumulative
  mkdir -p "compare/$label"
  if [ -z "${SKIP_TUNE:-}" ]; then
    # Model-specific maps: a retrained model must not reuse another model's CNN maps.
    model_hash=$(sha256sum "models/$w/model.onnx" | cut -c1-12)
    ds tune --data "$data/val10" --model "$w" --maps "tmp/eval/maps/$w-val10-$model_hash" --no-write --objective "$objective" --json "compare/$label/tune.json"
  fi
  ds compare --data "$data/test" --val "$data/val10" --val-limit 10 --model "$w" --tbd "compare/$label/tune.json" --objective "$objective" --label "$label" --cache "$w" --out compare
done
