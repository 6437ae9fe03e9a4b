/**
 * Stochastic weight averaging (SWA; Izmailov et al., "Averaging Weights Leads to Wider Optima and Better
 * Generalization", UAI 2018): the running mean of a network's weights at evenly spaced steps of the last epochs of a
 * run, then the batch-norm statistics recomputed with the averaged weights.
 *
 * Why: the weights at any one step sit on the edge of a wide basin that SGD keeps crossing; their mean lies nearer
 * its centre and generalises better, at the cost of one copy of the weights. The averaged network's activations
 * differ from every snapshot's, so its batch-norm running statistics are recomputed by one pass over the training
 * films in training mode with a cumulative mean (PyTorch's `torch.optim.swa_utils.update_bn`), not averaged.
 *
 * @example
 * const averager = new WeightAverager(model.namedParameters());
 * averager.update(model.namedParameters()); // at each snapshot step
 * averager.copyInto(model.namedParameters());
 * await recomputeBatchNorm(model, batches, (b) => model.call(b));
 */
import { existsSync } from 'node:fs';
import { BatchNorm2d, loadSafetensors, noGrad, saveSafetensors, tidy, type Module, type Tensor } from '../torch/index.js';
import { CheckpointError } from './errors.js';

/** The averaging part of a recipe: snapshots from epoch `fromEpoch` (1-based; 0 turns averaging off), `perEpoch` per epoch. */
export interface WeightAveragingConfig {
  readonly fromEpoch: number;
  readonly perEpoch: number;
}

/**
 * The 1-based steps of an epoch after which a snapshot is taken: `perEpoch` evenly spaced, the last one at its end.
 * @param stepsPerEpoch - optimiser steps in one epoch
 * @param perEpoch - snapshots per epoch (at most one per step)
 */
export function snapshotSteps(stepsPerEpoch: number, perEpoch: number): ReadonlySet<number> {
  const n = Math.min(Math.max(1, perEpoch), stepsPerEpoch);
  const steps = new Set<number>();
  for (let k = 1; k <= n; k++) steps.add(Math.round((k * stepsPerEpoch) / n));
  return steps;
}

/** The running mean of a set of named tensors (a model's parameters), kept in float32 beside them. */
export class WeightAverager {
  private readonly means = new Map<string, Tensor>();
  private n = 0;

  /** @param params - the tensors to average, by name (their current values are not counted yet) */
  constructor(params: readonly (readonly [string, Tensor])[]) {
    noGrad(() => {
      for (const [name, p] of params) this.means.set(name, p.detach().to('float32').clone().zero_());
    });
  }

  /** Snapshots averaged so far. */
  get count(): number {
    return this.n;
  }

  /**
   * Add one snapshot: mean ← mean + (p − mean) / (n + 1).
   * @param params - the same names as at construction
   */
  update(params: readonly (readonly [string, Tensor])[]): void {
    const weight = 1 / (this.n + 1);
    noGrad(() => {
      for (const [name, p] of params) {
        const mean = this.means.get(name);
        if (mean === undefined) throw new CheckpointError(`weight averaging: '${name}' was not averaged from the start`);
        mean.mul_(1 - weight).add_(p.detach().to('float32'), weight);
      }
    });
    this.n++;
  }

  /**
   * Overwrite the tensors with the mean (in their own dtype).
   * @param params - the same names as at construction
   * @throws CheckpointError before any snapshot was taken
   */
  copyInto(params: readonly (readonly [string, Tensor])[]): void {
    if (this.n === 0) throw new CheckpointError('weight averaging: no snapshot was taken (the run ended before the first averaged epoch)');
    noGrad(() => {
      for (const [name, p] of params) {
        const mean = this.means.get(name);
        if (mean === undefined) throw new CheckpointError(`weight averaging: '${name}' was not averaged`);
        p.copy_(p.dtype === 'float32' ? mean : mean.to(p.dtype));
      }
    });
  }

  /** Write the means (for a resumed run; the count lives in the checkpoint). @param path - a .safetensors file */
  save(path: string): void {
    saveSafetensors(path, this.means);
  }

  /**
   * Read back the means of {@link save} and the number of snapshots they hold.
   * @param path - the file
   * @param count - snapshots it holds, from the checkpoint
   * @throws CheckpointError when the file is missing or holds other names or shapes
   */
  load(path: string, count: number): void {
    if (count === 0) return;
    if (!existsSync(path)) throw new CheckpointError(`${path}: the averaged weights of ${count} snapshots are missing`);
    const loaded = loadSafetensors(path);
    try {
      noGrad(() => {
        for (const [name, mean] of this.means) {
          const src = loaded.get(name);
          if (src === undefined || src.shape.join(',') !== mean.shape.join(',')) {
            throw new CheckpointError(`${path}: '${name}' is missing or has another shape`);
          }
          mean.copy_(src);
        }
      });
    } finally {
      for (const t of loaded.values()) t.dispose();
    }
    this.n = count;
  }

  dispose(): void {
    for (const t of this.means.values()) t.dispose();
    this.means.clear();
  }
}

/**
 * Recompute every batch-norm layer's running statistics as the plain mean over the given batches (momentum null,
 * as `update_bn`), the network in training mode without gradients; the layers' momentum and the network's mode are
 * restored afterwards. A network without batch norm is left unchanged (and the batches are not drawn).
 * @param model - the network, its weights final
 * @param batches - the batches to run (typically one pass over the training films)
 * @param forward - runs one batch through the network (its output is disposed)
 * @returns the number of batches run
 */
export async function recomputeBatchNorm<B>(model: Module, batches: AsyncIterable<B>, forward: (batch: B) => Tensor): Promise<number> {
  const layers = model.namedModules().flatMap(([, m]) => (m instanceof BatchNorm2d ? [m] : []));
  if (layers.length === 0) return 0;
  const momenta = layers.map((l) => l.momentum);
  const wasTraining = model.training;
  noGrad(() => {
    for (const l of layers) {
      l.runningMean.zero_();
      l.runningVar.fill_(1);
      l.numBatchesTracked.zero_();
      l.momentum = null;
    }
  });
  let n = 0;
  try {
    model.train();
    for await (const batch of batches) {
      noGrad(() => tidy(() => void forward(batch)));
      n++;
    }
  } finally {
    layers.forEach((l, i) => (l.momentum = momenta[i] ?? 0.1));
    if (!wasTraining) model.eval();
  }
  return n;
}
