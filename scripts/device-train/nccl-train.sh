#!/usr/bin/env bash
# Data-parallel training through the launcher with the NCCL backend, one rank on the one GPU (NCCL refuses two ranks
# on one device), on the hand films already unpacked: 384 training and 64 dev films at 64 px, 2 epochs; then the
# bundle answers for one film. Why: it runs the trainer's collectives (gradient buckets, loss totals, the stop flag,
# batch-norm broadcast) on CUDA tensors over NCCL, which no CPU machine can. Usage, after build-addon-cuda.sh:
#   bash scripts/device-train/nccl-train.sh
set -uo pipefail
export PATH=/tmp/nodepfx/bin:$PATH
SRC=../shared/data/rsna-hand-lowres
SET=/tmp/nccl-set; rm -rf $SET /tmp/nccl-run; mkdir -p $SET; ln -s "$(cd $SRC && pwd)/images" $SET/images
{ head -1 $SRC/labels.csv
  tail -n +2 $SRC/labels.csv | while IFS=, read -r f rest; do [ -f "$SRC/$f" ] && echo "$f,$rest"; done \
    | awk -F, '$5=="train" && t<384 {t++; print; next} $5=="dev" && d<64 {d++; print}'
} > $SET/labels.csv
echo "nccl-train: $(($(wc -l < $SET/labels.csv) - 1)) films"
t0=$(date +%s)
node bin/physis.js train hand-bone-age --data $SET/labels.csv --recipe gpu --size 64 --epochs 2 --batch 32 \
  --device ${DEVICE:-cuda} --workers 2 --nproc-per-node 1 --dist-backend ${BACKEND:-nccl} --dist-timeout 120 --out /tmp/nccl-run 2>&1 | grep -v "step " | tail -12
rc=${PIPESTATUS[0]}
echo "nccl-train: rc=$rc in $(( $(date +%s) - t0 )) s"
grep -o '"summary": *"[^"]*"' /tmp/nccl-run/card.json || true
f=$(awk -F, 'NR==2{print $1}' $SET/labels.csv)
node bin/physis.js predict "$SET/$f" --bundle /tmp/nccl-run --sex F --no-gate
node -e "import('./dist/torch/index.js').then((t) => console.log('GPUs seen:', t.cudaDeviceCount()))"
node bin/physis.js train hand-bone-age --data $SET/labels.csv --device cuda --nproc-per-node 2 --out /tmp/nccl-run-2 2>&1 | tail -1
