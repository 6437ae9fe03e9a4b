#!/usr/bin/env bash
# What travels to a borrowed GPU machine that has no Node.js and no network, in two loads that each fit the upload
# limit (64 MiB with the repository's own files): .gpu/a holds node, the N-API headers, the app (dist + production
# node_modules) and the first part of the data; .gpu/b the rest of the data. Run from the repository root after
# `npm run build`; the data is read from ../shared/data/rsna-hand-lowres and unpacked there on the GPU machine.
# Usage: bash scripts/device-train/pack.sh [first-part-share, default 0.3]
set -euo pipefail
SHARE=${1:-0.3}
DATA=../shared/data/rsna-hand-lowres
[ -f dist/cli/main.js ] || { echo "pack: build first (npm run build)"; exit 1; }
[ -f $DATA/labels.csv ] || { echo "pack: $DATA is absent"; exit 1; }
rm -rf .gpu && mkdir -p .gpu/a/nodeinc .gpu/b
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
# node: strip the debug information, then xz
strip -o /tmp/physis-node "$(command -v node)" && xz -T2 -9 -c /tmp/physis-node > .gpu/a/node.xz && rm /tmp/physis-node
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h node_version.h; do
  cp "$(dirname "$(command -v node)")/../include/node/$h" .gpu/a/nodeinc/
done
# the app: dist and the production dependencies (onnxruntime-node's native part is not needed to train)
npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$PWD/||" | grep '^node_modules/' | grep -v onnxruntime \
  | sort -u > /tmp/physis-modules.txt
# (not needed to train: better-sqlite3's sources and objects, a bundler's binary, the canvas that only PACS
# pictures load, source maps, type declarations, packages' own tests)
tar -cf - --exclude 'node_modules/better-sqlite3/deps' --exclude 'node_modules/better-sqlite3/src' \
  --exclude 'node_modules/better-sqlite3/build/Release/obj*' --exclude '*.a' --exclude 'node_modules/@rollup' --exclude 'node_modules/@napi-rs' --exclude '*.map' --exclude '*.d.ts' --exclude 'node_modules/*/tests' \
  dist package.json -T /tmp/physis-modules.txt | xz -T2 -6 > .gpu/a/app.tar.xz
# the data in two parts: labels and the first share of the images, then the rest
ls $DATA/images | sort > /tmp/physis-images.txt
n=$(wc -l < /tmp/physis-images.txt); k=$(awk -v n=$n -v s=$SHARE 'BEGIN{printf "%d", n*s}')
head -n $k /tmp/physis-images.txt | sed 's|^|rsna-hand-lowres/images/|' > /tmp/physis-p1.txt
tail -n +$((k + 1)) /tmp/physis-images.txt | sed 's|^|rsna-hand-lowres/images/|' > /tmp/physis-p2.txt
(cd ../shared/data && tar -czf - rsna-hand-lowres/labels.csv rsna-hand-lowres/SOURCE.md -T /tmp/physis-p1.txt) > .gpu/a/data-1.tgz
(cd ../shared/data && tar -czf - -T /tmp/physis-p2.txt) > .gpu/b/data-2.tgz
du -b .gpu/a/* .gpu/b/* | sort -n
echo "pack: $n images, $k in part 1; repository files that travel: $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) bytes"
