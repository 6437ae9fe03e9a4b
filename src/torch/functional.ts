/**
 * Functional ops (PyTorch's `torch.nn.functional` and the tensor joins): each validates what libtorch would
 * report cryptically, calls one native function, and goes through the `emit` dispatch point.
 */
import { N, type Handle } from './native.js';
import type { Tensor } from './tensor.js';
import { emit, emitMany, bernoulli, type Shape } from './tensor.js';
import { ShapeError, DTypeError } from './errors.js';

/** A 2-D size: one number for both axes, or [height, width]. */
export type Pair = number | [number, number];
/** Loss reduction, as in PyTorch. */
export type Reduction = 'mean' | 'sum' | 'none';

function pair(v: Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}
function fmt(s: Shape): string {
  return `[${s.join(',')}]`;
}
function opt(t: Tensor | null | undefined): Handle | null {
  return t === null || t === undefined ? null : t.handle;
}
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };
function reduction(r: Reduction | undefined): number {
  const code = REDUCTION[r ?? 'mean'];
  if (code === undefined)
    throw new ShapeError(`unknown reduction '${String(r)}'; expected 'mean', 'sum' or 'none'`);
  return code;
}
function need4d(op: string, x: Tensor): void {
  if (x.rank !== 4) throw new ShapeError(`${op}: expected a 4-D [N,C,H,W] input, got ${fmt(x.shape)}`);
}

/** Concatenates along `dim` (shapes must match except along `dim`). */
export function cat(ts: Tensor[], dim: number): Tensor {
  if (ts.length === 0) throw new ShapeError('cat: needs at least one tensor');
  return emit(
    'cat',
    N.cat(
      ts.map((t) => t.handle),
      dim,
    ),
    [...ts],
    { dim },
  );
}
/** Stacks equal-shaped tensors along a new `dim`. */
export function stack(ts: Tensor[], dim: number): Tensor {
  if (ts.length === 0) throw new ShapeError('stack: needs at least one tensor');
  return emit(
    'stack',
    N.stack(
      ts.map((t) => t.handle),
      dim,
    ),
    [...ts],
    { dim },
  );
}
/** Splits into chunks of `size` (the last may be smaller) or into the given sizes along `dim`. */
export function split(t: Tensor, sizeOrSizes: number | number[], dim: number): Tensor[] {
  const d = dim < 0 ? dim + t.rank : dim;
  const n = t.shape[d];
  if (n === undefined) throw new ShapeError(`split: dim ${dim} out of range for ${fmt(t.shape)}`);
  let sizes: number[];
  if (typeof sizeOrSizes === 'number') {
    if (sizeOrSizes <= 0) throw new ShapeError(`split: chunk size must be positive, got ${sizeOrSizes}`);
    sizes = [];
    for (let i = 0; i < n; i += sizeOrSizes) sizes.push(Math.min(sizeOrSizes, n - i));
  } else {
    sizes = sizeOrSizes;
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n)
      throw new ShapeError(
        `split: sizes [${sizes.join(',')}] sum to ${total}, but ${fmt(t.shape)} has ${n} along dim ${dim}`,
      );
  }
  return emitMany('split', N.split(t.handle, sizes, d), [t], { sizes, dim: d });
}
/** Element-wise choice: `a` where `cond` is true, else `b` (broadcasting). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (cond.dtype !== 'bool')
    throw new DTypeError(`where: condition must be bool, got ${cond.dtype} ${fmt(cond.shape)}`);
  return emit('where', N.where(cond.handle, a.handle, b.handle), [cond, a, b]);
}

/** Options of conv2d (PyTorch semantics). */
export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
/** Options of max pooling. */
export interface MaxPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}
/** Options of average pooling. */
export interface AvgPool2dOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}
/** Options of interpolate (F.interpolate). */
export interface InterpolateOptions {
  size?: [number, number];
  scaleFactor?: number | [number, number];
  mode: 'bilinear' | 'nearest';
  alignCorners?: boolean;
}

function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, o: Conv2dOptions = {}): Tensor {
  const groups = o.groups ?? 1;
  need4d('conv2d', x);
  if (weight.rank !== 4)
    throw new ShapeError(`conv2d: weight must be 4-D [out,in/groups,kh,kw], got ${fmt(weight.shape)}`);
  const inC = x.shape[1] ?? 0;
  const wIn = weight.shape[1] ?? 0;
  if (inC !== wIn * groups) {
    throw new ShapeError(
      `conv2d: input ${fmt(x.shape)} has ${inC} channels, weight ${fmt(weight.shape)} expects ${wIn * groups} (groups=${groups})`,
    );
  }
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new ShapeError(
      `conv2d: bias ${fmt(bias.shape)} does not match weight ${fmt(weight.shape)} (needs [${weight.shape[0]}])`,
    );
  }
  const stride = pair(o.stride ?? 1);
  const padding = pair(o.padding ?? 0);
  const dilation = pair(o.dilation ?? 1);
  return emit(
    'conv2d',
    N.conv2d(x.handle, weight.handle, opt(bias), stride, padding, dilation, groups),
    [x, weight, bias],
    { stride, padding, dilation, groups },
  );
}

function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const inF = x.shape[x.rank - 1];
  if (weight.rank !== 2 || weight.shape[1] !== inF) {
    throw new ShapeError(
      `linear: input ${fmt(x.shape)} has ${inF} features, weight ${fmt(weight.shape)} expects ${weight.shape[1]}`,
    );
  }
  return emit('linear', N.linear(x.handle, weight.handle, opt(bias)), [x, weight, bias]);
}

function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  training: boolean,
  momentum: number,
  eps: number,
): Tensor {
  const c = x.shape[1];
  for (const [n, t] of [
    ['weight', weight],
    ['bias', bias],
    ['runningMean', runningMean],
    ['runningVar', runningVar],
  ] as const) {
    if (t !== null && (t.rank !== 1 || t.shape[0] !== c)) {
      throw new ShapeError(`batchNorm: input ${fmt(x.shape)} has ${c} channels, ${n} is ${fmt(t.shape)}`);
    }
  }
  return emit(
    'batchNorm',
    N.batchNorm(x.handle, opt(runningMean), opt(runningVar), opt(weight), opt(bias), training, momentum, eps),
    [x, runningMean, runningVar, weight, bias],
    { training, momentum, eps },
  );
}

function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Tensor {
  return emit(
    'layerNorm',
    N.layerNorm(x.handle, normalizedShape, opt(weight), opt(bias), eps),
    [x, weight, bias],
    {
      normalizedShape,
      eps,
    },
  );
}

function groupNorm(
  x: Tensor,
  numGroups: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Tensor {
  const c = x.shape[1] ?? 0;
  if (c % numGroups !== 0)
    throw new ShapeError(`groupNorm: ${c} channels of ${fmt(x.shape)} do not split into ${numGroups} groups`);
  return emit('groupNorm', N.groupNorm(x.handle, numGroups, opt(weight), opt(bias), eps), [x, weight, bias], {
    numGroups,
    eps,
  });
}

function maxPool2d(x: Tensor, o: MaxPool2dOptions): Tensor {
  const k = pair(o.kernelSize);
  const s = pair(o.stride ?? o.kernelSize);
  const p = pair(o.padding ?? 0);
  const d = pair(o.dilation ?? 1);
  const ceilMode = o.ceilMode ?? false;
  return emit('maxPool2d', N.maxPool2d(x.handle, k, s, p, d, ceilMode), [x], {
    kernelSize: k,
    stride: s,
    padding: p,
    dilation: d,
    ceilMode,
  });
}

function avgPool2d(x: Tensor, o: AvgPool2dOptions): Tensor {
  const k = pair(o.kernelSize);
  const s = pair(o.stride ?? o.kernelSize);
  const p = pair(o.padding ?? 0);
  const ceilMode = o.ceilMode ?? false;
  const countIncludePad = o.countIncludePad ?? true;
  return emit('avgPool2d', N.avgPool2d(x.handle, k, s, p, ceilMode, countIncludePad), [x], {
    kernelSize: k,
    stride: s,
    padding: p,
    ceilMode,
    countIncludePad,
  });
}

function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  const size = pair(outputSize);
  return emit('adaptiveAvgPool2d', N.adaptiveAvgPool2d(x.handle, size), [x], { outputSize: size });
}

/** Options of {@link gridSample} (torch.nn.functional.grid_sample's keywords). */
export interface GridSampleOptions {
  /** Default 'bilinear'. */
  readonly mode?: 'bilinear' | 'nearest' | 'bicubic';
  /** Default 'zeros'. */
  readonly paddingMode?: 'zeros' | 'border' | 'reflection';
  /** Default false: -1 and 1 are the outer edges of the corner pixels, not their centres. */
  readonly alignCorners?: boolean;
}

/**
 * A sampling grid [N, H, W, 2] for the affine maps `theta` [N, 2, 3] from output to input coordinates, both
 * normalised to [-1, 1] (torch.nn.functional.affine_grid). Why: with {@link gridSample}, a whole batch is warped in
 * two engine calls (e.g. training augmentation on the batch instead of film by film).
 * @param theta - [N, 2, 3]
 * @param size - the output's [N, C, H, W]
 * @param alignCorners - as in {@link GridSampleOptions}; default false
 */
function affineGrid(theta: Tensor, size: readonly [number, number, number, number], alignCorners = false): Tensor {
  if (theta.shape.length !== 3 || theta.shape[1] !== 2 || theta.shape[2] !== 3 || theta.shape[0] !== size[0]) {
    throw new ShapeError(`affineGrid: theta ${fmt(theta.shape)} must be [${size[0]}, 2, 3] for an output of ${fmt(size)}`);
  }
  return emit('affineGrid', N.affineGrid(theta.handle, [...size], alignCorners), [theta], { size: [...size], alignCorners });
}

/**
 * Samples `x` [N, C, H, W] at the normalised positions of `grid` [N, Ho, Wo, 2] (x then y, in [-1, 1]); the result
 * is [N, C, Ho, Wo] (torch.nn.functional.grid_sample).
 * @param x - input
 * @param grid - sampling positions, e.g. from {@link affineGrid}
 * @param o - interpolation, padding, corner alignment
 */
function gridSample(x: Tensor, grid: Tensor, o: GridSampleOptions = {}): Tensor {
  need4d('gridSample', x);
  if (grid.shape.length !== 4 || grid.shape[3] !== 2 || grid.shape[0] !== x.shape[0]) {
    throw new ShapeError(`gridSample: grid ${fmt(grid.shape)} must be [${x.shape[0]}, H, W, 2] for input ${fmt(x.shape)}`);
  }
  const mode = o.mode ?? 'bilinear';
  const paddingMode = o.paddingMode ?? 'zeros';
  const alignCorners = o.alignCorners ?? false;
  const modeCode = { bilinear: 0, nearest: 1, bicubic: 2 }[mode];
  const paddingCode = { zeros: 0, border: 1, reflection: 2 }[paddingMode];
  return emit('gridSample', N.gridSample(x.handle, grid.handle, modeCode, paddingCode, alignCorners), [x, grid], { mode, paddingMode, alignCorners });
}

function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  need4d('interpolate', x);
  const h = x.shape[2] ?? 0;
  const w = x.shape[3] ?? 0;
  let size: [number, number];
  let scales: [number | null, number | null] = [null, null];
  if (o.size !== undefined) {
    size = [o.size[0], o.size[1]];
  } else if (o.scaleFactor !== undefined) {
    const [sh, sw] = pair(o.scaleFactor);
    // F.interpolate(scale_factor=s) gives floor(in*s) outputs and passes s on to the kernel (recompute_scale_factor=None).
    size = [Math.floor(h * sh), Math.floor(w * sw)];
    scales = [sh, sw];
  } else {
    throw new ShapeError(`interpolate: give size or scaleFactor for input ${fmt(x.shape)}`);
  }
  if (o.mode === 'bilinear') {
    const alignCorners = o.alignCorners ?? false;
    return emit(
      'interpolate',
      N.upsampleBilinear2d(x.handle, size, alignCorners, scales[0], scales[1]),
      [x],
      {
        size,
        scales,
        mode: 'bilinear',
        alignCorners,
      },
    );
  }
  if (o.alignCorners !== undefined)
    throw new ShapeError("interpolate: alignCorners only applies to mode 'bilinear'");
  return emit('interpolate', N.upsampleNearest2d(x.handle, size, scales[0], scales[1]), [x], {
    size,
    scales,
    mode: 'nearest',
  });
}

const PAD_MODES = { constant: 0, reflect: 1, replicate: 2 } as const;
function pad(
  x: Tensor,
  pads: number[],
  mode: 'constant' | 'reflect' | 'replicate' = 'constant',
  value = 0,
): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.rank) {
    throw new ShapeError(
      `pad: ${pads.length} pad values do not fit input ${fmt(x.shape)} (need pairs, at most 2 per dim)`,
    );
  }
  return emit('pad', N.pad(x.handle, pads, PAD_MODES[mode], value), [x], { pads, mode, value });
}

function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (p < 0 || p > 1) throw new ShapeError(`dropout: probability must be in [0,1], got ${p}`);
  return emit('dropout', N.dropout(x.handle, p, training), [x], { p, training });
}

/**
 * Stochastic depth (Huang et al. 2016), as torchvision.ops.stochastic_depth: drops whole rows ('row', one draw
 * per sample) or the whole batch ('batch') with probability p, scaling survivors by 1/(1-p).
 */
function stochasticDepth(x: Tensor, p: number, mode: 'row' | 'batch', training: boolean): Tensor {
  if (p < 0 || p > 1) throw new ShapeError(`stochasticDepth: probability must be in [0,1], got ${p}`);
  // torchvision returns the input itself when inactive; so do we (callers must not dispose it twice).
  if (!training || p === 0) return x;
  const survival = 1 - p;
  const shape = mode === 'row' ? [x.shape[0] ?? 1, ...x.shape.slice(1).map(() => 1)] : x.shape.map(() => 1);
  const noise = bernoulli(shape, survival, { dtype: x.dtype, device: x.device });
  if (survival > 0) noise.mul_(1 / survival);
  const out = x.mul(noise);
  noise.dispose();
  return out;
}

function lossPair(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: input ${fmt(a.shape)} and target ${fmt(b.shape)} differ in shape`);
  }
}

/** Options of cross-entropy. */
export interface CrossEntropyOptions {
  weight?: Tensor;
  labelSmoothing?: number;
  reduction?: Reduction;
  ignoreIndex?: number;
}

function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  if (target.dtype !== 'int64') {
    throw new DTypeError(
      `crossEntropy: target ${fmt(target.shape)} must hold int64 class indices, got ${target.dtype}`,
    );
  }
  if (logits.shape[0] !== target.shape[0]) {
    throw new ShapeError(
      `crossEntropy: logits ${fmt(logits.shape)} and target ${fmt(target.shape)} differ in batch size`,
    );
  }
  const labelSmoothing = o.labelSmoothing ?? 0;
  const ignoreIndex = o.ignoreIndex ?? -100;
  const r = reduction(o.reduction);
  return emit(
    'crossEntropy',
    N.crossEntropy(logits.handle, target.handle, opt(o.weight), r, ignoreIndex, labelSmoothing),
    [logits, target, o.weight ?? null],
    { labelSmoothing, ignoreIndex, reduction: o.reduction ?? 'mean' },
  );
}

function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  o: { posWeight?: Tensor; weight?: Tensor; reduction?: Reduction } = {},
): Tensor {
  lossPair('binaryCrossEntropyWithLogits', logits, target);
  return emit(
    'binaryCrossEntropyWithLogits',
    N.bceWithLogits(logits.handle, target.handle, opt(o.weight), opt(o.posWeight), reduction(o.reduction)),
    [logits, target, o.weight ?? null, o.posWeight ?? null],
    { reduction: o.reduction ?? 'mean' },
  );
}

/** torch.nn.functional equivalents. */
export const F = {
  conv2d,
  linear,
  batchNorm,
  layerNorm,
  groupNorm,
  relu: (x: Tensor): Tensor => emit('relu', N.relu(x.handle), [x]),
  /** In-place ReLU; returns x itself. */
  relu_: (x: Tensor): Tensor => x.relu_(),
  relu6: (x: Tensor): Tensor => emit('relu6', N.relu6(x.handle), [x]),
  silu: (x: Tensor): Tensor => emit('silu', N.silu(x.handle), [x]),
  /** Exact (erf) GELU, PyTorch's default `approximate='none'` (Hendrycks & Gimpel 2016). */
  gelu: (x: Tensor): Tensor => emit('gelu', N.gelu(x.handle), [x]),
  sigmoid: (x: Tensor): Tensor => emit('sigmoid', N.sigmoid(x.handle), [x]),
  /** Hard swish of MobileNetV3 (Howard et al. 2019). */
  hardswish: (x: Tensor): Tensor => emit('hardswish', N.hardswish(x.handle), [x]),
  hardsigmoid: (x: Tensor): Tensor => emit('hardsigmoid', N.hardsigmoid(x.handle), [x]),
  tanh: (x: Tensor): Tensor => emit('tanh', N.tanh(x.handle), [x]),
  softmax: (x: Tensor, dim: number): Tensor => emit('softmax', N.softmax(x.handle, dim), [x], { dim }),
  logSoftmax: (x: Tensor, dim: number): Tensor =>
    emit('logSoftmax', N.logSoftmax(x.handle, dim), [x], { dim }),
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  interpolate,
  affineGrid,
  gridSample,
  pad,
  dropout,
  stochasticDepth,
  l1Loss(a: Tensor, b: Tensor, r?: Reduction): Tensor {
    lossPair('l1Loss', a, b);
    return emit('l1Loss', N.l1Loss(a.handle, b.handle, reduction(r)), [a, b], { reduction: r ?? 'mean' });
  },
  mseLoss(a: Tensor, b: Tensor, r?: Reduction): Tensor {
    lossPair('mseLoss', a, b);
    return emit('mseLoss', N.mseLoss(a.handle, b.handle, reduction(r)), [a, b], { reduction: r ?? 'mean' });
  },
  /** Smooth-L1 (Huber with threshold beta, Girshick 2015), PyTorch's definition. */
  smoothL1Loss(a: Tensor, b: Tensor, beta = 1, r?: Reduction): Tensor {
    lossPair('smoothL1Loss', a, b);
    return emit('smoothL1Loss', N.smoothL1Loss(a.handle, b.handle, reduction(r), beta), [a, b], {
      beta,
      reduction: r ?? 'mean',
    });
  },
  /** Cross-entropy over class logits with optional class weights and label smoothing (Szegedy et al. 2016). */
  crossEntropy,
  binaryCrossEntropyWithLogits,
};
