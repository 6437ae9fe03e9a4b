#!/usr/bin/env node
// Builds the libtorch N-API addon (native/) with the node-gyp that npm ships, offline against this Node's headers.
// libtorch: $LIBTORCH (a folder with include/ and lib/, e.g. a pip torch install's torch/ folder, CUDA-enabled or
// not) or Debian's libtorch-dev. Incremental: reconfigures only when the libtorch in use changes.
// Run by `npm install` / `npm ci` (package.json "install"); by hand: `node scripts/build-native.mjs [--rebuild]`.
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const NATIVE = join(ROOT, 'native');
const HINT =
  'apt-get install libtorch-dev libopenblas0-pthread, or set LIBTORCH=/path/to/libtorch (with include/ and lib/)';

function fail(msg) {
  console.error(`build-native: ${msg}`);
  process.exit(1);
}

function findLibtorch() {
  const env = process.env.LIBTORCH;
  if (env) {
    const inc = join(env, 'include');
    const lib = join(env, 'lib');
    if (!existsSync(join(inc, 'ATen', 'ATen.h')) || !existsSync(join(lib, 'libtorch.so'))) {
      fail(`LIBTORCH=${env} has no include/ATen/ATen.h or lib/libtorch.so; ${HINT}`);
    }
    const extra = [];
    // A CUDA build needs torch_cuda linked in explicitly, or torch::cuda::is_available() reports false.
    for (const f of readdirSync(lib))
      if (f === 'libtorch_cuda.so' || f === 'libc10_cuda.so') extra.push(`-l${f.slice(3, -3)}`);
    // pip wheels built with the pre-C++11 ABI say so in their TorchConfig; default to the new ABI otherwise.
    let abi = '1';
    const cfg = join(env, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
    if (existsSync(cfg)) {
      const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(readFileSync(cfg, 'utf8'));
      if (m) abi = m[1];
    }
    return { include: inc, lib, extra: extra.join(' '), abi };
  }
  const arch =
    { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch] ?? `${process.arch}-linux-gnu`;
  const lib = `/usr/lib/${arch}`;
  if (!existsSync('/usr/include/ATen/ATen.h') || !existsSync(join(lib, 'libtorch.so'))) {
    fail(`libtorch not found (no /usr/include/ATen/ATen.h or ${lib}/libtorch.so): ${HINT}`);
  }
  return { include: '/usr/include', lib, extra: '', abi: '1' };
}

function findNodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp))
    return process.env.npm_config_node_gyp;
  const prefix = resolve(dirname(process.execPath), '..');
  for (const p of [
    join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ]) {
    if (existsSync(p)) return p;
  }
  fail('node-gyp not found (it ships with npm); install npm or run this through `npm install`');
  return '';
}

/**
 * The c10d backends this libtorch can give the addon (native/src/distributed.cpp), as compiler flags: Gloo where
 * its headers sit beside libtorch's (Debian: libgloo-dev), NCCL where libtorch has CUDA and nccl.h and the CUDA
 * runtime headers are found (NCCL_INCLUDE, CUDA_HOME), with or without Gloo. Without either, the addon builds and says
 * so at run time.
 */
function distributedFlags(include, lib) {
  const c10d = join(include, 'torch', 'csrc', 'distributed', 'c10d');
  const flags = [];
  if (existsSync(join(c10d, 'ProcessGroupGloo.hpp')) && existsSync(join(include, 'gloo', 'algorithm.h'))) flags.push('-DPHYSIS_WITH_GLOO');
  const firstWith = (file, dirs) => dirs.find((d) => d && existsSync(join(d, file)));
  const cudaHome = process.env.CUDA_HOME ?? '/usr/local/cuda';
  const ncclInc = firstWith('nccl.h', [process.env.NCCL_INCLUDE, include, '/usr/include']);
  const cudaInc = firstWith('cuda_runtime_api.h', [join(cudaHome, 'include'), '/usr/include']);
  if (existsSync(join(c10d, 'ProcessGroupNCCL.hpp')) && existsSync(join(lib, 'libtorch_cuda.so')) && ncclInc && cudaInc) {
    flags.push('-DPHYSIS_WITH_NCCL', `-I${ncclInc}`, `-I${cudaInc}`);
  }
  return flags.join(' ');
}

const found = findLibtorch();
const torch = { ...found, distributed: distributedFlags(found.include, found.lib) };
const gyp = findNodeGyp();
const prefix = resolve(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const env = {
  ...process.env,
  PHYSIS_TORCH_INCLUDE: torch.include,
  PHYSIS_TORCH_LIB: torch.lib,
  PHYSIS_TORCH_EXTRA_LIBS: torch.extra,
  PHYSIS_TORCH_CXXFLAGS: `-D_GLIBCXX_USE_CXX11_ABI=${torch.abi}`,
  PHYSIS_TORCH_DEFINES: torch.distributed,
};
const stamp = join(NATIVE, 'build', '.libtorch');
const wanted = JSON.stringify(torch);
const configured =
  existsSync(join(NATIVE, 'build', 'Makefile')) &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8') === wanted;
const rebuild = process.argv.includes('--rebuild') || !configured;

function run(args) {
  const r = spawnSync(process.execPath, [gyp, ...args, ...nodedir], {
    cwd: NATIVE,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0)
    fail(`node-gyp ${args[0]} failed (exit ${r.status}); libtorch at ${torch.include} / ${torch.lib}`);
}

const t0 = Date.now();
if (rebuild) {
  run(['configure']);
  writeFileSync(stamp, wanted);
}
run(['build', '--jobs', 'max']);
console.error(
  `build-native: native/build/Release/physis_torch.node ready (${((Date.now() - t0) / 1000).toFixed(0)} s, libtorch ${torch.lib}, c10d: ${[torch.distributed.includes("GLOO") ? "gloo" : "", torch.distributed.includes("NCCL") ? "nccl" : ""].filter(Boolean).join(", ") || "none"})`,
);
