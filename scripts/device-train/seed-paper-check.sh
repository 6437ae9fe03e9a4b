#!/usr/bin/env bash
# The hand paper's recipe (`--recipe seed-paper`: Inception-ResNet-v2 at 299 px, one model per sex) run end to end on
# a GPU: a few epochs per sex on a subset of ../shared/data/rsna-hand, the two bundles composed by sex, verified, and
# one answer. Why: the recipe is for GPU users; this shows that it trains, composes and answers there, and what an
# epoch costs. Not a measurement of the recipe's accuracy (too few films and epochs).
# Usage (after build-addon-cuda.sh): [EPOCHS=3] [EXTRA="…"] bash scripts/device-train/seed-paper-check.sh
set -uo pipefail
export PATH=/tmp/nodepfx/bin:$PATH
DATA=../shared/data/rsna-hand
EPOCHS=${EPOCHS:-3}
t0=$(date +%s)
echo "films: $(($(wc -l < $DATA/labels.csv) - 1)) in $DATA/labels.csv"
for sex in M F; do
  rm -rf /tmp/seed-$sex; s=$(date +%s)
  node bin/physis.js train hand-bone-age --data $DATA/labels.csv --recipe seed-paper --subset sex=$sex --epochs $EPOCHS \
    --device ${DEVICE:-cuda} --workers ${WORKERS:-14} ${EXTRA:-} --out /tmp/seed-$sex 2>&1 | grep -v "step " | tail -$((EPOCHS + 2))
  grep -o '"imagesPerSecond":[0-9.]*' /tmp/seed-$sex/train.jsonl | tr '\n' ' '; echo
  echo "sex $sex: $(( $(date +%s) - s )) s"
done
rm -rf /tmp/seed-paper
node bin/physis.js bundle compose --by sex M=/tmp/seed-M F=/tmp/seed-F --out /tmp/seed-paper && node bin/physis.js bundle verify /tmp/seed-paper
du -sh /tmp/seed-M/weights.safetensors
f=$(awk -F, 'NR>1 && $5 ~ /^dev/ {print $1; exit}' $DATA/labels.csv)
node bin/physis.js predict "$DATA/$f" --bundle /tmp/seed-paper --no-gate
echo "seed-paper check: $(( $(date +%s) - t0 )) s"
