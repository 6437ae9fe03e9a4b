/**
 * Optimisers (AdamW, SGD) and gradient clipping. Each step is one native call that updates every parameter in
 * place with PyTorch 1.13's single-tensor formulas, so trajectories match torch.optim numerically.
 */
import { N } from './native.js';
import { keep, zeros, scalar, type Tensor } from './tensor.js';
import { StateDictError } from './errors.js';

/** A serialisable optimiser state for --resume: tensors (safetensors-ready) plus scalar hyper-parameters. */
export interface OptimizerState {
  tensors: Map<string, Tensor>;
  hyper: Record<string, number>;
}

function zerosLike(p: Tensor): Tensor {
  return keep(zeros(p.shape, { dtype: p.dtype, device: p.device }));
}

function zeroGrads(params: Tensor[]): void {
  // set_to_none=True, PyTorch's default since 2.0: drop the gradient rather than writing zeros.
  for (const p of params) p.setGrad(null);
}

function restoreTensor(s: OptimizerState, key: string, into: Tensor): void {
  const t = s.tensors.get(key);
  if (t === undefined) throw new StateDictError(`optimizer loadStateDict: missing key '${key}'`);
  if (t.size !== into.size)
    throw new StateDictError(
      `optimizer loadStateDict: key '${key}' has ${t.size} elements, expected ${into.size}`,
    );
  const src = t.reshape(into.shape);
  into.copy_(src);
  if (src !== t) src.dispose();
}

/** Options of AdamW (PyTorch defaults). */
export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW (amsgrad off). */
export class AdamW {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly params: Tensor[];
  private readonly expAvg: Tensor[];
  private readonly expAvgSq: Tensor[];
  private readonly steps: Float64Array;

  constructor(params: Tensor[], o: AdamWOptions = {}) {
    this.params = [...params];
    this.lr = o.lr ?? 1e-3;
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 1e-2;
    this.expAvg = this.params.map(zerosLike);
    this.expAvgSq = this.params.map(zerosLike);
    this.steps = new Float64Array(this.params.length);
  }
  /** One update of every parameter that has a gradient. */
  step(): void {
    N.adamwStep(
      this.params.map((p) => p.handle),
      this.expAvg.map((t) => t.handle),
      this.expAvgSq.map((t) => t.handle),
      this.steps,
      this.lr,
      this.betas[0],
      this.betas[1],
      this.eps,
      this.weightDecay,
    );
  }
  /** Drops all gradients (set_to_none). */
  zeroGrad(): void {
    zeroGrads(this.params);
  }
  /**
   * State as `state.<i>.exp_avg|exp_avg_sq|step` (PyTorch's layout) plus hyper-parameters. The moment tensors
   * are the optimiser's own (kept, never disposed by tidy); the step scalars are fresh, so call this in tidy().
   */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.params.forEach((_, i) => {
      tensors.set(`state.${i}.exp_avg`, this.expAvg[i] as Tensor);
      tensors.set(`state.${i}.exp_avg_sq`, this.expAvgSq[i] as Tensor);
      tensors.set(`state.${i}.step`, scalar(this.steps[i] ?? 0));
    });
    return {
      tensors,
      hyper: {
        lr: this.lr,
        beta1: this.betas[0],
        beta2: this.betas[1],
        eps: this.eps,
        weightDecay: this.weightDecay,
      },
    };
  }
  /** Restores moments and step counts (and lr) saved by `stateDict`. */
  loadStateDict(s: OptimizerState): void {
    this.params.forEach((_, i) => {
      restoreTensor(s, `state.${i}.exp_avg`, this.expAvg[i] as Tensor);
      restoreTensor(s, `state.${i}.exp_avg_sq`, this.expAvgSq[i] as Tensor);
      const st = s.tensors.get(`state.${i}.step`);
      if (st === undefined)
        throw new StateDictError(`optimizer loadStateDict: missing key 'state.${i}.step'`);
      this.steps[i] = st.item();
    });
    if (s.hyper.lr !== undefined) this.lr = s.hyper.lr;
  }
  /** Frees the moment buffers. */
  dispose(): void {
    for (const t of [...this.expAvg, ...this.expAvgSq]) t.dispose();
  }
}

/** Options of SGD (PyTorch semantics). */
export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent with momentum / Nesterov momentum (Sutskever et al. 2013), as torch.optim.SGD. */
export class SGD {
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly params: Tensor[];
  private readonly buffers: Tensor[];
  private readonly initialised: Uint8Array;

  constructor(params: Tensor[], o: SGDOptions) {
    this.params = [...params];
    this.lr = o.lr;
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
    this.buffers = this.momentum !== 0 ? this.params.map(zerosLike) : [];
    this.initialised = new Uint8Array(this.params.length);
  }
  step(): void {
    N.sgdStep(
      this.params.map((p) => p.handle),
      this.momentum !== 0 ? this.buffers.map((b) => b.handle) : [],
      this.initialised,
      this.lr,
      this.momentum,
      this.dampening,
      this.weightDecay,
      this.nesterov,
    );
  }
  zeroGrad(): void {
    zeroGrads(this.params);
  }
  /** State as `state.<i>.momentum_buffer` (only initialised buffers) plus hyper-parameters. */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.buffers.forEach((b, i) => {
      if (this.initialised[i] === 1) tensors.set(`state.${i}.momentum_buffer`, b);
    });
    return {
      tensors,
      hyper: {
        lr: this.lr,
        momentum: this.momentum,
        dampening: this.dampening,
        weightDecay: this.weightDecay,
      },
    };
  }
  loadStateDict(s: OptimizerState): void {
    this.buffers.forEach((b, i) => {
      const key = `state.${i}.momentum_buffer`;
      if (s.tensors.has(key)) {
        restoreTensor(s, key, b);
        this.initialised[i] = 1;
      } else {
        this.initialised[i] = 0;
      }
    });
    if (s.hyper.lr !== undefined) this.lr = s.hyper.lr;
  }
  dispose(): void {
    for (const b of this.buffers) b.dispose();
  }
}

/**
 * Scales all gradients so their global 2-norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_; Pascanu et
 * al. 2013). @returns the total norm before clipping.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return N.clipGradNorm(
    params.map((p) => p.handle),
    maxNorm,
  );
}
