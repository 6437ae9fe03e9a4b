// Tensor-engine benchmark: Physis (libtorch via the N-API addon, driven from TypeScript) vs PyTorch eager,
// same machine, same thread count, same run, interleaved step by step (Physis, PyTorch, Physis, …) so that load
// from other processes hits both sides alike.
//  1. per-op dispatch overhead: µs per tiny add ([1] + [1]) — the fixed cost of one op call from each language;
//  2. full training step (forward, cross-entropy, backward, AdamW, zero-grad) of ResNet-18 and DenseNet-121 at
//     224x224, batch 16 (models from src/models; torchvision's in bench/ref/engine_bench.py);
//  3. no-grad inference of the same models.
// Each step is timed in wall-clock and in process CPU time (user+sys, all threads). The development machine is
// shared and its load swings wall times by ±30 % between neighbouring steps; CPU time is the engine's own cost and
// stays stable, so the ratios use CPU time (wall-clock ratios are printed next to them). With one thread the two
// agree on an idle machine.
// Last line: BENCH engine ratio=<sum over both models of median training-step CPU time, Physis / PyTorch> target=1.05.
// Env: PHYSIS_BENCH_THREADS (default: libtorch's default), PHYSIS_BENCH_ITERS (timed steps per side, default 4),
// PHYSIS_BENCH_MODELS (default resnet18,densenet121), PHYSIS_BENCH_REF_MALLOC=tuned (give PyTorch the same glibc
// malloc settings the Physis addon applies to itself — mmap_max=0, no trimming — for a like-for-like allocator).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AdamW,
  F,
  getNumThreads,
  noGrad,
  ones,
  randn,
  setNumThreads,
  tensor,
  tidy,
  manualSeed,
} from '../src/torch/index.js';
import { createModel } from '../src/models/index.js';

const threads = Number(process.env.PHYSIS_BENCH_THREADS ?? getNumThreads());
const iters = Number(process.env.PHYSIS_BENCH_ITERS ?? 4);
const models = (process.env.PHYSIS_BENCH_MODELS ?? 'resnet18,densenet121').split(',');
const BATCH = 16;
const SIZE = 224;
const ADD_CALLS = 200000;
setNumThreads(threads);
manualSeed(0);

// ---- the PyTorch server
const script = join(dirname(fileURLToPath(import.meta.url)), 'ref', 'engine_bench.py');
const refTuned = process.env.PHYSIS_BENCH_REF_MALLOC === 'tuned';
const pyEnv = refTuned
  ? { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647' }
  : process.env;
const py = spawn('/usr/bin/python3', [script], { stdio: ['pipe', 'pipe', 'inherit'], env: pyEnv });
const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
async function ask(cmd: Record<string, unknown>): Promise<Record<string, number>> {
  py.stdin.write(`${JSON.stringify(cmd)}\n`);
  const r = await lines.next();
  if (r.done === true)
    throw new Error(
      `bench/ref/engine_bench.py exited (code ${py.exitCode}) before answering ${JSON.stringify(cmd)}`,
    );
  return JSON.parse(r.value) as Record<string, number>;
}

interface Timing {
  ms: number;
  cpu: number;
}
function timed(f: () => void): Timing {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpu: (c.user + c.system) / 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
const fmt = (xs: number[]): string => xs.map((v) => v.toFixed(0)).join(' ');

const info = await ask({ cmd: 'init', threads });
console.log(
  `engine bench: ${threads} thread(s) (PyTorch ${info.threads}), batch ${BATCH} @ ${SIZE}x${SIZE}, 1 warm-up + ${iters} timed steps per side, interleaved`,
);

// ---- 1. dispatch overhead
const a = ones([1]);
const b = ones([1]);
const physisAdd = (): number => {
  for (let i = 0; i < 1000; i++) a.add(b).dispose();
  const c0 = process.cpuUsage();
  for (let i = 0; i < ADD_CALLS; i++) a.add(b).dispose();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / ADD_CALLS;
};
const addP: number[] = [];
const addT: number[] = [];
for (let r = 0; r < 3; r++) {
  addP.push(physisAdd());
  addT.push((await ask({ cmd: 'add', calls: ADD_CALLS })).us as number);
}
const addUs = median(addP);
const addRef = median(addT);
console.log(
  `dispatch (CPU time): tiny add  Physis ${addUs.toFixed(2)} µs/call (incl. dispose)  PyTorch ${addRef.toFixed(2)} µs/call  ratio ${(addUs / addRef).toFixed(2)}`,
);

// ---- 2./3. models
let trainPhysis = 0;
let trainTorch = 0;
function report(name: string, what: string, p: Timing[], t: Timing[]): { p: number; t: number } {
  const [pc, tc] = [median(p.map((x) => x.cpu)), median(t.map((x) => x.cpu))];
  const [pw, tw] = [median(p.map((x) => x.ms)), median(t.map((x) => x.ms))];
  console.log(
    `${name}: ${what}  CPU: Physis ${pc.toFixed(0)} ms PyTorch ${tc.toFixed(0)} ms ratio ${(pc / tc).toFixed(3)}` +
      `  | wall: Physis ${pw.toFixed(0)} ms [${fmt(p.map((x) => x.ms))}] PyTorch ${tw.toFixed(0)} ms [${fmt(t.map((x) => x.ms))}] ratio ${(pw / tw).toFixed(3)}`,
  );
  return { p: pc, t: tc };
}
for (const name of models) {
  await ask({ cmd: 'load', model: name, batch: BATCH, size: SIZE });
  const model = createModel(name, { numClasses: 1000 });
  const x = randn([BATCH, 3, SIZE, SIZE]);
  const y = tensor(
    Array.from({ length: BATCH }, (_, i) => (i * 37) % 1000),
    [BATCH],
    { dtype: 'int64' },
  );
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const trainStep = (): Timing => {
    model.train();
    return timed(() =>
      tidy(() => {
        const loss = F.crossEntropy(model.call(x), y);
        loss.backward();
        opt.step();
        opt.zeroGrad();
      }),
    );
  };
  const inferStep = (): Timing => {
    model.eval();
    return timed(() => noGrad(() => tidy(() => void model.call(x))));
  };
  const tP: Timing[] = [];
  const tT: Timing[] = [];
  const iP: Timing[] = [];
  const iT: Timing[] = [];
  for (let i = 0; i <= iters; i++) {
    const p = trainStep();
    const t = (await ask({ cmd: 'train' })) as unknown as Timing;
    if (i > 0) {
      tP.push(p);
      tT.push(t);
    }
  }
  for (let i = 0; i <= iters; i++) {
    const p = inferStep();
    const t = (await ask({ cmd: 'infer' })) as unknown as Timing;
    if (i > 0) {
      iP.push(p);
      iT.push(t);
    }
  }
  const tr = report(name, 'train step', tP, tT);
  report(name, 'inference ', iP, iT);
  trainPhysis += tr.p;
  trainTorch += tr.t;
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
}
py.stdin.end();
console.log(`BENCH engine ratio=${(trainPhysis / trainTorch).toFixed(3)} target=1.05`);
