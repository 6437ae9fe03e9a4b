#!/usr/bin/env bash
# Trains the hand recipe 'gpu' as one or more runs at once on one GPU (one process each, sharing the GPU and the CPU
# workers), sized to a time budget: a two-epoch probe of every run together measures the wall time of an epoch, then
# the real runs get as many epochs as the budget leaves (at most MAX_EPOCHS). With SWA_EPOCHS > 0 each run then goes
# on with recipe 'gpu-swa' (weight averaging) from its own bundle, and only those averaged bundles come back. A run is
# name:size:seed (RUNS="s2:128:2 s3:128:3"); SIZES="160 224" is short for RUNS="160:160:1 224:224:1". The bundles
# come back in pieces of at most 15 MB (cat hand-gpu-<name>.tgz.part-* | tar -xzf -); at most 8 files come back.
# Usage: [DATA_PART=part.tgz] [RUNS=… | SIZES=…] [ARCH=resnet18] [SWA_EPOCHS=8] BUDGET_S=520 bash scripts/device-train/train-hand-gpu.sh
set -uo pipefail
OUT=${OUT:?set OUT to the folder that goes back}
t0=$(date +%s)
export PATH=/tmp/nodepfx/bin:$PATH
BUDGET_S=${BUDGET_S:-470}
ARCH=${ARCH:-resnet18}
MAX_EPOCHS=${MAX_EPOCHS:-100}
SWA_EPOCHS=${SWA_EPOCHS:-0}
TAIL_S=${TAIL_S:-110}   # the end of a run: dev TTA, the interval's calibration, the feature statistics, the bundle
if [ -z "${RUNS:-}" ]; then RUNS=""; for s in ${SIZES:-128}; do RUNS="$RUNS $s:$s:1"; done; fi
LOGS=/tmp/hand-gpu-logs; rm -rf $LOGS; mkdir -p $LOGS   # packed into one file
if [ -n "${DATA_PART:-}" ]; then tar -C ../shared/data -xzf "$DATA_PART"; fi
n=$(ls ../shared/data/rsna-hand-lowres/images | wc -l); echo "images: $n"
[ "$n" = 12434 ] || { echo "expected 12434 images"; exit 1; }
declare -A size seed pid started done1 epochs
names=""
for r in $RUNS; do IFS=: read -r nm sz sd <<< "$r"; names="$names $nm"; size[$nm]=$sz; seed[$nm]=${sd:-1}; done
set -- $names
WORKERS=$(( 14 / $# )); [ $WORKERS -ge 1 ] || WORKERS=1
train() { # name epochs out log [more options]
  local nm=$1 ep=$2 out=$3 log=$4; shift 4
  exec node bin/physis.js train hand-bone-age --data ../shared/data/rsna-hand-lowres --arch $ARCH --size ${size[$nm]} \
    --seed ${seed[$nm]} --epochs $ep --device ${DEVICE:-cuda} --workers $WORKERS --weights-dtype float16 ${EXTRA:-} "$@" --out $out > $log 2>&1
}
for nm in $names; do rm -rf /tmp/probe-$nm; train $nm 100 /tmp/probe-$nm $LOGS/probe-$nm.log --recipe gpu & pid[$nm]=$!; done
for i in $(seq 1 300); do
  all=1
  for nm in $names; do
    c=$(cat /tmp/probe-$nm/train.jsonl 2>/dev/null | wc -l)
    [ "$c" -ge 1 ] && [ -z "${started[$nm]:-}" ] && started[$nm]=$(date +%s)
    [ "$c" -ge 2 ] && [ -z "${done1[$nm]:-}" ] && done1[$nm]=$(date +%s)
    [ -z "${done1[$nm]:-}" ] && kill -0 ${pid[$nm]} 2>/dev/null && all=0
  done
  [ $all = 1 ] && break
  sleep 1
done
for nm in $names; do kill ${pid[$nm]} 2>/dev/null; done; wait
now=$(( $(date +%s) - t0 ))
for nm in $names; do
  [ -n "${done1[$nm]:-}" ] || { echo "probe $nm failed"; tail -20 $LOGS/probe-$nm.log; tar -C /tmp -czf $OUT/logs.tgz hand-gpu-logs; exit 1; }
  e=$(( done1[$nm] - started[$nm] )); [ $e -ge 1 ] || e=1
  swa=0; [ "$SWA_EPOCHS" -gt 0 ] && swa=$(( (SWA_EPOCHS + 1) * e + TAIL_S ))
  epochs[$nm]=$(( (BUDGET_S - now - TAIL_S - swa) / e )); [ ${epochs[$nm]} -le $MAX_EPOCHS ] || epochs[$nm]=$MAX_EPOCHS
  echo "probe $nm (${size[$nm]} px, seed ${seed[$nm]}): an epoch takes ${e} s of wall time with $# runs together; ${now} s used; training ${epochs[$nm]} epochs"
done
for nm in $names; do rm -rf runs/hand-gpu-$nm; train $nm ${epochs[$nm]} runs/hand-gpu-$nm $LOGS/train-$nm.log --recipe gpu & pid[$nm]=$!; done
rc=0; for nm in $names; do wait ${pid[$nm]} || rc=$?; done
echo "trained rc=$rc at $(( $(date +%s) - t0 )) s"
back=""
for nm in $names; do
  echo "== $nm"; grep -v "step " $LOGS/train-$nm.log | tail -6
  cp runs/hand-gpu-$nm/train.jsonl $LOGS/train-$nm.jsonl 2>/dev/null; cp runs/hand-gpu-$nm/card.json $LOGS/card-$nm.json 2>/dev/null
  back="$back hand-gpu-$nm"
done
if [ "$SWA_EPOCHS" -gt 0 ]; then
  back=""
  for nm in $names; do rm -rf runs/hand-swa-$nm; train $nm $SWA_EPOCHS runs/hand-swa-$nm $LOGS/swa-$nm.log --recipe gpu-swa --init runs/hand-gpu-$nm & pid[$nm]=$!; done
  for nm in $names; do wait ${pid[$nm]} || rc=$?; done
  echo "averaged rc=$rc at $(( $(date +%s) - t0 )) s"
  for nm in $names; do
    echo "== swa $nm"; grep -v "step " $LOGS/swa-$nm.log | tail -4
    cp runs/hand-swa-$nm/card.json $LOGS/card-swa-$nm.json 2>/dev/null
    if [ -f runs/hand-swa-$nm/card.json ]; then back="$back hand-swa-$nm"; else back="$back hand-gpu-$nm"; fi
  done
fi
for b in $back; do
  tar -C runs --exclude $b/checkpoint -czf /tmp/$b.tgz $b && split -b 15000000 /tmp/$b.tgz $OUT/$b.tgz.part-
done
tar -C /tmp -czf $OUT/logs.tgz hand-gpu-logs
ls -la $OUT
echo "done rc=$rc in $(( $(date +%s) - t0 )) s"
