#!/usr/bin/env bash
# α/bn sweep (paper eq. 3, section 4.3), natural weighting, as recorded in models/natural/README.md:
# 48 training images (models/train-shipped.sh's default data, tmp/shipped-data/natural/train), 500
# steps at a constant learning rate 1e-3, otherwise the shipped recipe; each model's TBD tuned on
# the 10 validation images of compare/run.sh with both objectives. Two trainings run at a time.
#   bash models/sweep-alpha-bn.sh        (results: tmp/sweep/aALPHA-bBN.{pc3,pc3-cumulative}.json)
set -uo pipefail
cd "$(dirname "$0")/.."
[ -f tmp/shipped-data/natural/train/manifest.json ] || { echo "run 'bash models/train-shipped.sh natural' first (it simulates the training data)" >&2; exit 2; }
[ -f tmp/eval/natural/val10/manifest.json ] || { echo "run 'bash compare/run.sh natural' first (it simulates the validation images)" >&2; exit 2; }
mkdir -p tmp/sweep
one() { # alpha bn
  local out=tmp/sweep/a$1-b$2
  if [ ! -f "$out/model.onnx" ]; then
    node bin/deepsource.js train --data tmp/shipped-data/natural/train --val tmp/shipped-data/natural/val --out "$out" --name "sweep-a$1-b$2" \
      --steps 500 --patch 128 --batch 8 --lr 0.001 --source-fraction 0.5 --alpha "$1" --bn "$2" --seed 11 \
      --backend wasm --checkpoint-every 100 --validate-every 50 --val-patches 32 --quiet > "$out.train.log" 2>&1
  fi
  for obj in pc3 pc3-cumulative; do
    node bin/deepsource.js tune --data tmp/eval/natural/val10 --model "$out" --maps "tmp/sweep/maps-a$1-b$2" --no-write --deblend 0 \
      --objective "$obj" --threads 1 --json "$out.$obj.json" > "$out.$obj.log" 2>&1
  done
  echo "a$1 b$2 done $(date +%T)"
}
(one 0.75 0.05; one 0.5 0.05; one 0.75 0.2) &
(one 1.0 0.05; one 0.75 0.01) &
wait
