#!/usr/bin/env bash
# One-time (idempotent) set-up on Debian: system packages, then npm dependencies, the native
# libtorch addon and the compiled CLI. Both README commands call this first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runtime: libtorch (CPU, oneDNN) + OpenBLAS for the tensor engine's addon; Gloo's headers for its c10d process group.
# Tests and benchmarks only: Debian's PyTorch, torchvision, pydicom and numpy as references.
# Tests only: Orthanc with its DICOMweb plugin (the PACS of the round-trip test), dciodvfy and dsrdump (independent
# validators of the DICOM objects Physis writes), Chromium (the viewer's browser test); DejaVu (burned-in text).
APT_PACKAGES=(build-essential python3 libtorch-dev libopenblas0-pthread libgloo-dev
  python3-torch python3-torchvision python3-pydicom python3-numpy python3-pil
  orthanc orthanc-dicomweb dicom3tools dcmtk chromium fonts-dejavu-core)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# onnxruntime-node ships its CPU binary in the npm package; skip its optional download of GPU extras.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
else
  npm run --silent build >&2
fi
