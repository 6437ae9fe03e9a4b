#!/usr/bin/env bash
# Trains the hand recipe 'gpu' at one or more input sizes at once on one GPU (SIZES="160 224": one process each,
# sharing the GPU and the CPU workers), sized to a time budget: a two-epoch probe of every run together measures the
# wall time of an epoch, then the real runs get as many epochs as the budget leaves. The bundles come back in pieces
# of at most 15 MB (cat hand-gpu-<size>.tgz.part-* | tar -xzf -).
# Usage: [DATA_PART=part.tgz] [SIZES="128"] [ARCH=resnet18] BUDGET_S=520 bash scripts/device-train/train-hand-gpu.sh
set -uo pipefail
OUT=${OUT:?set OUT to the folder that goes back}
t0=$(date +%s)
export PATH=/tmp/nodepfx/bin:$PATH
BUDGET_S=${BUDGET_S:-470}
SIZES=${SIZES:-128}
ARCH=${ARCH:-resnet18}
TAIL_S=${TAIL_S:-110}   # the end of a run: dev TTA, the interval's calibration, the feature statistics, the bundle
LOGS=/tmp/hand-gpu-logs; rm -rf $LOGS; mkdir -p $LOGS   # packed into one file: at most 8 files come back
if [ -n "${DATA_PART:-}" ]; then tar -C ../shared/data -xzf "$DATA_PART"; fi
n=$(ls ../shared/data/rsna-hand-lowres/images | wc -l); echo "images: $n"
[ "$n" = 12434 ] || { echo "expected 12434 images"; exit 1; }
set -- $SIZES
WORKERS=$(( 14 / $# )); [ $WORKERS -ge 1 ] || WORKERS=1
train() { # size epochs out log
  exec node bin/physis.js train hand-bone-age --data ../shared/data/rsna-hand-lowres --recipe gpu --arch $ARCH --size $1 \
    --epochs $2 --device ${DEVICE:-cuda} --workers $WORKERS --weights-dtype float16 ${EXTRA:-} --out $3 > $4 2>&1
}
declare -A pid started done1 epochs
for s in $SIZES; do rm -rf /tmp/probe-$s; train $s 100 /tmp/probe-$s $LOGS/probe-$s.log & pid[$s]=$!; done
for i in $(seq 1 300); do
  all=1
  for s in $SIZES; do
    c=$(cat /tmp/probe-$s/train.jsonl 2>/dev/null | wc -l)
    [ "$c" -ge 1 ] && [ -z "${started[$s]:-}" ] && started[$s]=$(date +%s)
    [ "$c" -ge 2 ] && [ -z "${done1[$s]:-}" ] && done1[$s]=$(date +%s)
    [ -z "${done1[$s]:-}" ] && kill -0 ${pid[$s]} 2>/dev/null && all=0
  done
  [ $all = 1 ] && break
  sleep 1
done
for s in $SIZES; do kill ${pid[$s]} 2>/dev/null; done; wait
now=$(( $(date +%s) - t0 ))
for s in $SIZES; do
  [ -n "${done1[$s]:-}" ] || { echo "probe $s failed"; tail -20 $LOGS/probe-$s.log; exit 1; }
  e=$(( done1[$s] - started[$s] )); [ $e -ge 1 ] || e=1
  epochs[$s]=$(( (BUDGET_S - now - TAIL_S) / e )); [ ${epochs[$s]} -le 100 ] || epochs[$s]=100
  echo "probe $s px: an epoch takes ${e} s of wall time with $# runs together; ${now} s used; training ${epochs[$s]} epochs"
done
for s in $SIZES; do rm -rf runs/hand-gpu-$s; train $s ${epochs[$s]} runs/hand-gpu-$s $LOGS/train-$s.log & pid[$s]=$!; done
rc=0; for s in $SIZES; do wait ${pid[$s]} || rc=$?; done
for s in $SIZES; do
  echo "== $s px"; grep -v "step " $LOGS/train-$s.log | tail -6
  cp runs/hand-gpu-$s/train.jsonl $LOGS/train-$s.jsonl 2>/dev/null
  tar -C runs --exclude hand-gpu-$s/checkpoint -czf /tmp/hand-gpu-$s.tgz hand-gpu-$s && split -b 15000000 /tmp/hand-gpu-$s.tgz $OUT/hand-gpu-$s.tgz.part-
done
tar -C /tmp -czf $OUT/logs.tgz hand-gpu-logs
ls -la $OUT
echo "trained rc=$rc in $(( $(date +%s) - t0 )) s"
