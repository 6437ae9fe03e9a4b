#!/usr/bin/env bash
# Repeated runs of the skull-infant-age CPU recipe on one phantom cohort, as Lee et al. (Sci Rep 2024) report mean ± SD
# over runs: seeds 1-3, 24 epochs each, each scored on the held-out test split without the gate (the model alone).
# Needs runs/skull-phantoms (node bin/physis.js phantoms skull-infant-age --out runs/skull-phantoms --infants 1000
# --seed 1 --size 256). A finished run is not trained again; 13-19 minutes a run on 2 cores beside other work.
set -euo pipefail
cd "$(dirname "$0")/.."
for seed in 1 2 3; do
  out=runs/skull-rep-s$seed
  [ -f "$out/card.json" ] || node bin/physis.js train skull-infant-age --data runs/skull-phantoms --epochs 24 --seed "$seed" --threads 2 --out "$out"
  node bin/physis.js evaluate "$out" --data runs/skull-phantoms --split test --no-gate --out "runs/skull-rep-eval-s$seed" --json > "runs/skull-rep-eval-s$seed.json"
done
node -e '
const runs = [1, 2, 3].map((s) => JSON.parse(require("fs").readFileSync(`runs/skull-rep-eval-s${s}.json`, "utf8")).metrics);
for (const k of Object.keys(runs[0])) {
  const xs = runs.map((m) => m[k]);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  console.log(`${k}: ${mean.toFixed(3)} ± ${sd.toFixed(3)} (${xs.map((x) => x.toFixed(3)).join(", ")})`);
}'
