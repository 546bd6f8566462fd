#!/usr/bin/env bash
# Reproduces a shipped model (models/natural or models/uniform) with ONE command:
#
#   bash models/train-shipped.sh natural      # or: uniform
#
# 1. simulates different-field training and validation images with `deepsource simulate`
#    (skipped when the data directories already hold the expected number of images), then
# 2. trains with `deepsource train` into models/NAME (model.json, weights.bin, model.onnx).
# Deterministic for the seeds below on the wasm backend (one thread). Data go to tmp/ (gitignored).
# Environment overrides: STEPS, LR_SCHEDULE (cosine|constant), TRAIN_IMAGES, VAL_IMAGES, SIZE, DATA_ROOT, OUT_DIR (default models/NAME),
# FIELD (different, default; or same: the paper's section 5.4 same-field model, other seeds, its own data
# directory; compare/same-field.sh uses it).
set -euo pipefail
NAME="${1:?usage: bash models/train-shipped.sh natural|uniform}"
case "$NAME" in
  natural) SIM_SEED_TRAIN=1101; SIM_SEED_VAL=1201; TRAIN_SEED=11 ;;
  uniform) SIM_SEED_TRAIN=2101; SIM_SEED_VAL=2201; TRAIN_SEED=21 ;;
  *) echo "unknown model $NAME (natural|uniform)" >&2; exit 2 ;;
esac
FIELD="${FIELD:-different}"
case "$FIELD" in
  different) DATA_SUFFIX="" ;;
  same) DATA_SUFFIX="-same"; SIM_SEED_TRAIN=$((SIM_SEED_TRAIN + 50)); SIM_SEED_VAL=$((SIM_SEED_VAL + 50)) ;;
  *) echo "unknown FIELD $FIELD (different|same)" >&2; exit 2 ;;
esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA_ROOT="${DATA_ROOT:-$ROOT/tmp/shipped-data}"
TRAIN_IMAGES="${TRAIN_IMAGES:-48}"
VAL_IMAGES="${VAL_IMAGES:-4}"
SIZE="${SIZE:-1024}"
STEPS="${STEPS:-3000}"
LR_SCHEDULE="${LR_SCHEDULE:-cosine}"
OUT_DIR="${OUT_DIR:-models/$NAME}"
TRAIN_DIR="$DATA_ROOT/$NAME$DATA_SUFFIX/train"
VAL_DIR="$DATA_ROOT/$NAME$DATA_SUFFIX/val"
[ -f dist/cli/main.js ] || npx tsc -p tsconfig.json

simulate() { # dir count seed
  local have
  have=$(ls "$1"/img_*.fits 2>/dev/null | wc -l || true)
  if [ "$have" -ne "$2" ]; then
    rm -rf "$1"
    node bin/deepsource.js simulate --out "$1" --count "$2" --size "$SIZE" --weighting "$NAME" --field "$FIELD" --seed "$3"
  fi
}
simulate "$TRAIN_DIR" "$TRAIN_IMAGES" "$SIM_SEED_TRAIN"
simulate "$VAL_DIR" "$VAL_IMAGES" "$SIM_SEED_VAL"

# Training restarts from scratch unless RESUME=1 (then it continues OUT_DIR/checkpoint).
# The learning rate follows half a cosine from 1e-3 to 1e-5 over STEPS (the constant 1e-3 of the
# first shipped models plateaued after ~250 steps with a noisy loss).
RESUME_FLAG=()
[ "${RESUME:-0}" = 1 ] && RESUME_FLAG=(--resume)
node bin/deepsource.js train --data "$TRAIN_DIR" --val "$VAL_DIR" --out "$OUT_DIR" --name "$NAME" \
  --steps "$STEPS" --patch 128 --batch 8 --lr 0.001 --lr-schedule "$LR_SCHEDULE" --lr-min 0.00001 --source-fraction 0.5 --alpha 0.75 --bn 0.05 --seed "$TRAIN_SEED" \
  --backend wasm --checkpoint-every 50 --validate-every 50 --val-patches 32 "${RESUME_FLAG[@]}"
# The checkpoint is only needed to resume; the shipped model is model.json + weights.bin + model.onnx.
rm -rf "$OUT_DIR/checkpoint"
node models/write-model-card.js "$OUT_DIR" "$TRAIN_DIR" "$VAL_DIR"
