#!/usr/bin/env bash
# α/bn sweep (paper eq. 3, section 4.3), as recorded in models/NAME/README.md, NAME = natural (default)
# or uniform: 48 training images (models/train-shipped.sh's default data, tmp/shipped-data/NAME/train), 500
# steps at a constant learning rate 1e-3, otherwise the shipped recipe; each model's TBD tuned on
# the 10 validation images of compare/run.sh with both objectives. Two trainings run at a time.
#   bash models/sweep-alpha-bn.sh [natural|uniform]   (results: tmp/sweep[-uniform]/aALPHA-bBN.{pc3,pc3-cumulative}.json)
set -uo pipefail
cd "$(dirname "$0")/.."
W="${1:-natural}"
case "$W" in natural) SWEEP=tmp/sweep; SEED=11 ;; uniform) SWEEP=tmp/sweep-uniform; SEED=21 ;; *) echo "unknown weighting $W (natural|uniform)" >&2; exit 2 ;; esac
[ -f "tmp/shipped-data/$W/train/manifest.json" ] || { echo "run 'bash models/train-shipped.sh $W' first (it simulates the training data)" >&2; exit 2; }
[ -f "tmp/eval/$W/val10/manifest.json" ] || { echo "run 'bash compare/run.sh $W' first (it simulates the validation images)" >&2; exit 2; }
mkdir -p "$SWEEP"
one() { # alpha bn
  local out=$SWEEP/a$1-b$2
  if [ ! -f "$out/model.onnx" ]; then
    node bin/deepsource.js train --data "tmp/shipped-data/$W/train" --val "tmp/shipped-data/$W/val" --out "$out" --name "sweep-$W-a$1-b$2" \
      --steps 500 --patch 128 --batch 8 --lr 0.001 --source-fraction 0.5 --alpha "$1" --bn "$2" --seed "$SEED" \
      --backend wasm --checkpoint-every 100 --validate-every 50 --val-patches 32 --quiet > "$out.train.log" 2>&1
  fi
  for obj in pc3 pc3-cumulative; do
    node bin/deepsource.js tune --data "tmp/eval/$W/val10" --model "$out" --maps "$SWEEP/maps-a$1-b$2" --no-write --deblend 0 \
      --objective "$obj" --threads 1 --json "$out.$obj.json" > "$out.$obj.log" 2>&1
  done
  echo "a$1 b$2 done $(date +%T)"
}
(one 0.75 0.05; one 0.5 0.05; one 0.75 0.2) &
(one 1.0 0.05; one 0.75 0.01) &
wait
