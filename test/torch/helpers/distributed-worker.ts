/**
 * One rank of the distributed tests, run as its own process by test/torch/distributed.test.ts. The scenario and its
 * parameters come as JSON in PHYSIS_TEST_DIST; the result is one JSON line on stdout.
 *
 * Scenarios:
 * - `train`: a 2-layer tanh MLP (8 → 16 → 1, no batch norm) trained a few steps with SGD (momentum), then AdamW, on
 *   a fixed synthetic regression set, global batch B; rank r of W takes items r, r + W, … of each global batch
 *   (DistributedSampler's striding) and the gradients are averaged by GradientAllReducer. W = 1 runs without a group.
 * - `collectives`: all-reduce of one tensor and of a list of mixed shapes, broadcast from rank 1, barrier.
 * - `die`: rank 1 exits abruptly after a barrier; rank 0 then all-reduces and reports the error and how long it took.
 * - `stall`: rank 1 stays alive but never joins the all-reduce; rank 0 reports the error and how long it took.
 */
import {
  AdamW,
  F,
  GradientAllReducer,
  Linear,
  Module,
  SGD,
  Tanh,
  initProcessGroup,
  manualSeed,
  setDeterministic,
  setNumThreads,
  tensor,
  tidy,
  type ProcessGroup,
  type Tensor,
} from '../../../src/torch/index.js';

interface Spec {
  readonly scenario: 'train' | 'collectives' | 'die' | 'stall';
  readonly rank: number;
  readonly worldSize: number;
  readonly port: number;
  readonly timeoutMs?: number;
  readonly globalBatch?: number;
  readonly steps?: number;
}

class Mlp extends Module {
  readonly fc1 = this.registerModule('fc1', new Linear(8, 16));
  readonly act = this.registerModule('act', new Tanh());
  readonly fc2 = this.registerModule('fc2', new Linear(16, 1));
  forward(x: Tensor): Tensor {
    return this.fc2.call(this.act.call(this.fc1.call(x)));
  }
}

/** A fixed regression set: x_ij = sin(0.7 i + 1.3 j), y_i = cos(0.5 i). */
function dataset(n: number): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(n * 8);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 8; j++) x[i * 8 + j] = Math.sin(0.7 * i + 1.3 * j);
    y[i] = Math.cos(0.5 * i);
  }
  return { x, y };
}

function weights(model: Module): Record<string, number[]> {
  return Object.fromEntries(model.namedParameters().map(([k, p]) => [k, Array.from(p.toFloat32Array())]));
}

async function train(spec: Spec, group: ProcessGroup | null, optimizer: 'sgd' | 'adamw'): Promise<{ init: Record<string, number[]>; trained: Record<string, number[]> }> {
  const B = spec.globalBatch ?? 8;
  const steps = spec.steps ?? 4;
  const W = spec.worldSize;
  manualSeed(1234);
  const model = new Mlp();
  const params = model.parameters();
  const init = weights(model);
  const opt = optimizer === 'adamw' ? new AdamW(params, { lr: 0.05, weightDecay: 0.01 }) : new SGD(params, { lr: 0.1, momentum: 0.9 });
  const reducer = group === null ? null : new GradientAllReducer(params, { group });
  await reducer?.broadcastParameters();
  const { x, y } = dataset(B * steps);
  const local = B / W;
  for (let s = 0; s < steps; s++) {
    const rows = Array.from({ length: local }, (_, j) => s * B + spec.rank + j * W);
    const xb = new Float32Array(local * 8);
    const yb = new Float32Array(local);
    rows.forEach((row, j) => {
      xb.set(x.subarray(row * 8, row * 8 + 8), j * 8);
      yb[j] = y[row] ?? 0;
    });
    tidy(() => {
      const loss = F.mseLoss(model.call(tensor(xb, [local, 8])), tensor(yb, [local, 1]));
      loss.backward();
    });
    await reducer?.allReduceGradients();
    opt.step();
    opt.zeroGrad();
  }
  return { init, trained: weights(model) };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env['PHYSIS_TEST_DIST'] ?? '{}') as Spec;
  setNumThreads(1);
  setDeterministic(true);
  const group =
    spec.worldSize === 1
      ? null
      : await initProcessGroup({ rank: spec.rank, worldSize: spec.worldSize, masterAddr: '127.0.0.1', masterPort: spec.port, timeoutMs: spec.timeoutMs ?? 20_000, rendezvousTimeoutMs: 60_000 });
  let result: unknown;
  if (spec.scenario === 'train') {
    const sgd = await train(spec, group, 'sgd');
    const adamw = await train(spec, group, 'adamw');
    result = { init: sgd.init, sgd: sgd.trained, adamw: adamw.trained };
  } else if (group !== null && spec.scenario === 'collectives') {
    const one = tensor([spec.rank + 1, 10 * (spec.rank + 1)], [2]);
    await group.allReduce(one);
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]).mul(spec.rank + 1);
    const b = tensor([spec.rank], [1]);
    const c = tensor([1, 2, 3, 4], [2, 2]).transpose(0, 1).mul(spec.rank + 1); // not contiguous
    await group.allReduce([a, b, c]);
    const root = tensor([spec.rank * 100 + 7, -1], [2]);
    await group.broadcast(root, 1);
    await group.barrier();
    result = { one: Array.from(one.toFloat32Array()), a: Array.from(a.toFloat32Array()), b: Array.from(b.toFloat32Array()), c: Array.from(c.toFloat32Array()), root: Array.from(root.toFloat32Array()), rank: group.rank, size: group.worldSize };
  } else if (group !== null && (spec.scenario === 'die' || spec.scenario === 'stall')) {
    await group.barrier();
    if (spec.rank === 1) {
      if (spec.scenario === 'die') process.kill(process.pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, (spec.timeoutMs ?? 0) + 1000));
      result = { slept: true };
    } else {
      const started = performance.now();
      try {
        await group.allReduce(tensor([1], [1]));
        result = { error: null };
      } catch (e) {
        result = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), ms: performance.now() - started };
      }
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  group?.destroy();
}

await main();
