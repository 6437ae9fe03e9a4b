#!/usr/bin/env bash
# A two-epoch probe of the epoch time, then the real run sized to the time left,
# and the bundle back in pieces of at most 15 MB. Usage: [DATA_PART=part.tgz] BUDGET_S=560 bash scripts/device-train/train-hand-gpu.sh
set -uo pipefail
OUT=${OUT:?set OUT to the folder that goes back}
t0=$(date +%s)
export PATH=/tmp/nodepfx/bin:$PATH
BUDGET_S=${BUDGET_S:-470}
ARCH=${ARCH:-resnet18}
if [ -n "${DATA_PART:-}" ]; then tar -C ../shared/data -xzf "$DATA_PART"; fi
n=$(ls ../shared/data/rsna-hand-lowres/images | wc -l); echo "images: $n"
[ "$n" = 12434 ] || { echo "expected 12434 images"; exit 1; }
rm -rf /tmp/probe
node bin/physis.js train hand-bone-age --data ../shared/data/rsna-hand-lowres --arch $ARCH --epochs 100 --device cuda \
  --workers 14 --out /tmp/probe > $OUT/probe.log 2>&1 &
pid=$!
for i in $(seq 1 240); do
  [ -f /tmp/probe/train.jsonl ] && [ "$(wc -l < /tmp/probe/train.jsonl)" -ge 2 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 1
done
kill $pid 2>/dev/null; wait $pid 2>/dev/null
cat /tmp/probe/train.jsonl || { tail -20 $OUT/probe.log; exit 1; }
E=$(sed -n 2p /tmp/probe/train.jsonl | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).seconds))")
now=$(( $(date +%s) - t0 ))
EPOCHS=$(node -e "const e=+process.argv[1], left=+process.argv[2]-+process.argv[3]-75; console.log(Math.max(1, Math.min(100, Math.floor(left / e))))" "$E" "$BUDGET_S" "$now")
echo "probe: ${E} s per epoch after caching; ${now} s used; training $EPOCHS epochs"
rm -rf runs/hand-gpu
node bin/physis.js train hand-bone-age --data ../shared/data/rsna-hand-lowres --arch $ARCH --epochs $EPOCHS --device cuda \
  --workers 14 --weights-dtype float16 --out runs/hand-gpu > $OUT/train.log 2>&1
rc=$?
grep -v "step " $OUT/train.log | tail -8
cp runs/hand-gpu/train.jsonl $OUT/ 2>/dev/null
tar -C runs --exclude hand-gpu/checkpoint -czf /tmp/hand-gpu.tgz hand-gpu && split -b 15000000 /tmp/hand-gpu.tgz $OUT/hand-gpu.tgz.part-
ls -la $OUT runs/hand-gpu
echo "step2 rc=$rc in $(( $(date +%s) - t0 )) s"
