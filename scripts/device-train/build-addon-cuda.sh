#!/usr/bin/env bash
# node, the app (dist + production node_modules), part of the data, and the addon built against the
# device's CUDA libtorch (pip PyTorch). Usage: PKG=<folder> bash scripts/device-train/build-addon-cuda.sh
set -euo pipefail
PKG=${PKG:?set PKG to the folder of the carried files}
t0=$(date +%s)
mkdir -p /tmp/nodepfx/bin
xz -dc $PKG/node.xz > /tmp/nodepfx/bin/node && chmod +x /tmp/nodepfx/bin/node
export PATH=/tmp/nodepfx/bin:$PATH
node -v
tar -xJf $PKG/app.tar.xz
mkdir -p ../shared/data && for p in $PKG/data-*.tgz; do [ -f "$p" ] && tar -C ../shared/data -xzf "$p"; done
ls ../shared/data/rsna-hand-lowres/images 2>/dev/null | wc -l || true
PY=${PY:-python3}
TORCH=${TORCH_DIR:-$($PY -c "import torch,os;print(os.path.dirname(torch.__file__))")}
ABI=$($PY -c "import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))")
$PY -c "import torch;print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" || true
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
CUDA_LIBS=""
[ -f "$TORCH/lib/libtorch_cuda.so" ] && CUDA_LIBS="-ltorch_cuda -lc10_cuda"
mkdir -p /tmp/obj /tmp/objdist native/build/Release
CXX_FLAGS="-fPIC -std=c++17 -O2 -fexceptions -frtti -D_GLIBCXX_USE_CXX11_ABI=$ABI -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS
  -DBUILDING_NODE_EXTENSION -DNODE_GYP_MODULE_NAME=physis_torch -Wno-deprecated-declarations -Wno-unused-parameter
  -I node_modules/node-addon-api -I $PKG/nodeinc -I $TORCH/include -I $TORCH/include/torch/csrc/api/include"
for s in addon tensor ops nn autograd distributed; do
  g++ -c $CXX_FLAGS native/src/$s.cpp -o /tmp/obj/$s.o &
done
# c10d with NCCL (and Gloo where the pip PyTorch ships its headers; it did not on 2026-11-26); the plain build above
# is kept when this one fails, and the log says why.
NCCL_H=$(find "$(dirname "$TORCH")/nvidia" -name nccl.h 2>/dev/null | head -1 || true)
CUDA_H=$(find /usr/local/cuda*/include /usr/local/cuda*/targets/*/include "$(dirname "$TORCH")/nvidia" -name cuda_runtime_api.h 2>/dev/null | head -1 || true)
GLOO_FLAG=""; [ -f "$TORCH/include/gloo/algorithm.h" ] && GLOO_FLAG="-DPHYSIS_WITH_GLOO"
if [ -n "$CUDA_LIBS" ] && [ -n "$NCCL_H" ] && [ -n "$CUDA_H" ]; then
  g++ -c $CXX_FLAGS $GLOO_FLAG -DPHYSIS_WITH_NCCL -I "$(dirname "$NCCL_H")" -I "$(dirname "$CUDA_H")" \
    native/src/distributed.cpp -o /tmp/objdist/distributed.o > ${OUT:-/tmp}/c10d-build.log 2>&1 &
else
  echo "c10d NCCL: not attempted (torch_cuda: ${CUDA_LIBS:-none}, nccl.h: ${NCCL_H:-none}, cuda_runtime_api.h: ${CUDA_H:-none})"
fi
wait
if [ -f /tmp/objdist/distributed.o ]; then cp /tmp/objdist/distributed.o /tmp/obj/distributed.o; echo "c10d: nccl${GLOO_FLAG:+ + gloo} compiled";
else echo "c10d: built without it"; tail -5 ${OUT:-/tmp}/c10d-build.log 2>/dev/null || true; fi
g++ -shared -o native/build/Release/physis_torch.node /tmp/obj/*.o -L"$TORCH/lib" -Wl,-rpath,"$TORCH/lib" \
  -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10 $CUDA_LIBS -Wl,--as-needed
node -e "import('./dist/torch/index.js').then((t) => console.log('cuda available:', t.cudaIsAvailable()))"
echo "step1 done in $(( $(date +%s) - t0 )) s"
