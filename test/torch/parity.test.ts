// Parity of every engine op against PyTorch (forward and input gradients), float32, rtol 1e-5.
// All cases run in ONE /usr/bin/python3 invocation (importing torch costs seconds): this file writes random
// inputs and upstream gradients as raw little-endian tensors + cases.json, test/torch/ref/engine_parity.py
// computes PyTorch's outputs and gradients of sum(out_i * upstream_i), and each case compares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  F,
  AdamW,
  SGD,
  clipGradNorm,
  oneCycle,
  tensor,
  cat,
  stack,
  split,
  where,
  autogradGrad,
  getNumThreads,
  scalar,
  type Tensor,
  type TypedData,
} from '../../src/torch/index.js';

const PY = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'ref', 'engine_parity.py');
const RTOL = 1e-5;

type DT = 'float32' | 'int64' | 'bool';
interface InSpec {
  shape: number[];
  dtype?: DT;
  grad?: boolean;
  /** values drawn from U(lo, hi) instead of N(0,1) */
  range?: [number, number];
  /** integer classes in [0, n) (int64) */
  classes?: number;
}
interface Case {
  name: string;
  op: string;
  inputs: InSpec[];
  attrs?: Record<string, unknown>;
  ts: (x: Tensor[], a: Record<string, unknown>) => Tensor | Tensor[];
}

// Seeded generator (mulberry32) so failures reproduce; independent of libtorch's RNG.
let seed = 0x5eed;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function gauss(): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}
function numel(s: number[]): number {
  return s.reduce((a, b) => a * b, 1);
}
function makeData(s: InSpec): TypedData {
  const n = numel(s.shape);
  const dt = s.dtype ?? 'float32';
  if (dt === 'int64')
    return BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rnd() * (s.classes ?? 2))));
  if (dt === 'bool') return Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0));
  const r = s.range;
  return Float32Array.from({ length: n }, () => (r ? r[0] + (r[1] - r[0]) * rnd() : gauss()));
}

const p2 = (v: unknown): [number, number] =>
  Array.isArray(v) ? [v[0] as number, v[1] as number] : [v as number, v as number];
const num = (v: unknown): number => v as number;
const x0 = (x: Tensor[]): Tensor => x[0] as Tensor;
const x1 = (x: Tensor[]): Tensor => x[1] as Tensor;
const xi = (x: Tensor[], i: number): Tensor | null => x[i] ?? null;

const f = (shape: number[], grad = true): InSpec => ({ shape, grad });
const pos = (shape: number[]): InSpec => ({ shape, grad: true, range: [0.5, 2] });

const CASES: Case[] = [
  // element-wise, broadcasting
  { name: 'add_broadcast', op: 'add', inputs: [f([2, 3, 4]), f([3, 1])], ts: (x) => x0(x).add(x1(x)) },
  { name: 'sub_broadcast', op: 'sub', inputs: [f([4]), f([2, 4])], ts: (x) => x0(x).sub(x1(x)) },
  { name: 'mul_broadcast', op: 'mul', inputs: [f([2, 1, 4]), f([3, 1])], ts: (x) => x0(x).mul(x1(x)) },
  { name: 'div_broadcast', op: 'div', inputs: [f([2, 3]), pos([3])], ts: (x) => x0(x).div(x1(x)) },
  { name: 'add_scalar', op: 'add_s', inputs: [f([5])], attrs: { s: 2.5 }, ts: (x, a) => x0(x).add(num(a.s)) },
  { name: 'mul_scalar', op: 'mul_s', inputs: [f([5])], attrs: { s: -3 }, ts: (x, a) => x0(x).mul(num(a.s)) },
  { name: 'div_scalar', op: 'div_s', inputs: [f([5])], attrs: { s: 7 }, ts: (x, a) => x0(x).div(num(a.s)) },
  {
    name: 'rsub_scalar',
    op: 'rsub_s',
    inputs: [f([5])],
    attrs: { s: 1 },
    ts: (x, a) => x0(x).rsub(num(a.s)),
  },
  { name: 'neg', op: 'neg', inputs: [f([6])], ts: (x) => x0(x).neg() },
  { name: 'abs', op: 'abs', inputs: [f([6])], ts: (x) => x0(x).abs() },
  { name: 'sqrt', op: 'sqrt', inputs: [pos([6])], ts: (x) => x0(x).sqrt() },
  { name: 'rsqrt', op: 'rsqrt', inputs: [pos([6])], ts: (x) => x0(x).rsqrt() },
  { name: 'exp', op: 'exp', inputs: [f([6])], ts: (x) => x0(x).exp() },
  { name: 'log', op: 'log', inputs: [pos([6])], ts: (x) => x0(x).log() },
  { name: 'pow_2_5', op: 'pow', inputs: [pos([6])], attrs: { e: 2.5 }, ts: (x, a) => x0(x).pow(num(a.e)) },
  {
    name: 'clamp',
    op: 'clamp',
    inputs: [f([8])],
    attrs: { min: -0.5, max: 0.7 },
    ts: (x) => x0(x).clamp(-0.5, 0.7),
  },
  {
    name: 'clamp_min_only',
    op: 'clamp',
    inputs: [f([8])],
    attrs: { min: 0, max: null },
    ts: (x) => x0(x).clamp(0, null),
  },
  { name: 'maximum', op: 'maximum', inputs: [f([2, 3]), f([3])], ts: (x) => x0(x).maximum(x1(x)) },
  // activations
  { name: 'relu', op: 'relu', inputs: [f([3, 5])], ts: (x) => F.relu(x0(x)) },
  { name: 'relu_inplace_after_mul', op: 'relu', inputs: [f([3, 5])], ts: (x) => F.relu_(x0(x).mul(1)) },
  {
    name: 'relu6',
    op: 'relu6',
    inputs: [{ shape: [3, 5], grad: true, range: [-3, 9] }],
    ts: (x) => F.relu6(x0(x)),
  },
  { name: 'silu', op: 'silu', inputs: [f([3, 5])], ts: (x) => F.silu(x0(x)) },
  { name: 'gelu', op: 'gelu', inputs: [f([3, 5])], ts: (x) => F.gelu(x0(x)) },
  { name: 'sigmoid', op: 'sigmoid', inputs: [f([3, 5])], ts: (x) => F.sigmoid(x0(x)) },
  { name: 'tanh', op: 'tanh', inputs: [f([3, 5])], ts: (x) => F.tanh(x0(x)) },
  {
    name: 'hardswish',
    op: 'hardswish',
    inputs: [{ shape: [4, 5], grad: true, range: [-4, 4] }],
    ts: (x) => F.hardswish(x0(x)),
  },
  {
    name: 'hardsigmoid',
    op: 'hardsigmoid',
    inputs: [{ shape: [4, 5], grad: true, range: [-4, 4] }],
    ts: (x) => F.hardsigmoid(x0(x)),
  },
  { name: 'softmax', op: 'softmax', inputs: [f([3, 7])], attrs: { dim: 1 }, ts: (x) => F.softmax(x0(x), 1) },
  {
    name: 'log_softmax',
    op: 'log_softmax',
    inputs: [f([3, 7])],
    attrs: { dim: -1 },
    ts: (x) => F.logSoftmax(x0(x), -1),
  },
  // linear algebra, reductions
  { name: 'matmul_2d', op: 'matmul', inputs: [f([4, 6]), f([6, 3])], ts: (x) => x0(x).matmul(x1(x)) },
  { name: 'matmul_batched', op: 'matmul', inputs: [f([2, 4, 6]), f([6, 3])], ts: (x) => x0(x).matmul(x1(x)) },
  {
    name: 'sum_all',
    op: 'sum',
    inputs: [f([3, 4])],
    attrs: { dims: null, keep: false },
    ts: (x) => x0(x).sum(),
  },
  {
    name: 'sum_dims_keep',
    op: 'sum',
    inputs: [f([2, 3, 4])],
    attrs: { dims: [0, 2], keep: true },
    ts: (x) => x0(x).sum([0, 2], true),
  },
  {
    name: 'mean_neg_dim',
    op: 'mean',
    inputs: [f([2, 3, 4])],
    attrs: { dims: [-1], keep: false },
    ts: (x) => x0(x).mean(-1),
  },
  {
    name: 'mean_all',
    op: 'mean',
    inputs: [f([2, 3])],
    attrs: { dims: null, keep: false },
    ts: (x) => x0(x).mean(),
  },
  { name: 'max_all', op: 'max_all', inputs: [f([3, 4])], ts: (x) => x0(x).max() },
  {
    name: 'max_dim',
    op: 'max_dim',
    inputs: [f([3, 4])],
    attrs: { dim: 1, keep: true },
    ts: (x) => {
      const r = x0(x).maxDim(1, true);
      return [r.values, r.indices];
    },
  },
  {
    name: 'argmax',
    op: 'argmax',
    inputs: [f([3, 4], false)],
    attrs: { dim: 0, keep: false },
    ts: (x) => x0(x).argmax(0),
  },
  // shape
  {
    name: 'reshape',
    op: 'reshape',
    inputs: [f([2, 6])],
    attrs: { shape: [3, -1] },
    ts: (x) => x0(x).reshape([3, -1]),
  },
  {
    name: 'permute',
    op: 'permute',
    inputs: [f([2, 3, 4])],
    attrs: { dims: [2, 0, 1] },
    ts: (x) => x0(x).permute([2, 0, 1]),
  },
  {
    name: 'transpose',
    op: 'transpose',
    inputs: [f([2, 3, 4])],
    attrs: { d0: 0, d1: 2 },
    ts: (x) => x0(x).transpose(0, 2),
  },
  {
    name: 'flatten',
    op: 'flatten',
    inputs: [f([2, 3, 4, 5])],
    attrs: { start: 1, end: 2 },
    ts: (x) => x0(x).flatten(1, 2),
  },
  {
    name: 'narrow',
    op: 'narrow',
    inputs: [f([4, 6])],
    attrs: { dim: 1, start: 2, len: 3 },
    ts: (x) => x0(x).narrow(1, 2, 3),
  },
  {
    name: 'expand',
    op: 'expand',
    inputs: [f([3, 1])],
    attrs: { shape: [2, 3, 4] },
    ts: (x) => x0(x).expand([2, 3, 4]),
  },
  { name: 'squeeze', op: 'squeeze', inputs: [f([3, 1, 2])], attrs: { dim: 1 }, ts: (x) => x0(x).squeeze(1) },
  {
    name: 'unsqueeze',
    op: 'unsqueeze',
    inputs: [f([3, 2])],
    attrs: { dim: -1 },
    ts: (x) => x0(x).unsqueeze(-1),
  },
  { name: 'index', op: 'select0', inputs: [f([3, 2])], attrs: { i: 1 }, ts: (x) => x0(x).index(1) },
  { name: 'cat', op: 'cat', inputs: [f([2, 3]), f([2, 5])], attrs: { dim: 1 }, ts: (x) => cat(x, 1) },
  {
    name: 'stack',
    op: 'stack',
    inputs: [f([2, 3]), f([2, 3]), f([2, 3])],
    attrs: { dim: 0 },
    ts: (x) => stack(x, 0),
  },
  {
    name: 'split',
    op: 'split',
    inputs: [f([7, 2])],
    attrs: { size: 3, dim: 0 },
    ts: (x) => split(x0(x), 3, 0),
  },
  {
    name: 'where',
    op: 'where',
    inputs: [{ shape: [2, 3], dtype: 'bool' }, f([2, 3]), f([3])],
    ts: (x) => where(x0(x), x1(x), x[2] as Tensor),
  },
  // convolution and linear
  ...(
    [
      ['conv2d_plain', [2, 3, 9, 9], [4, 3, 3, 3], { stride: 1, padding: 0, dilation: 1, groups: 1 }, true],
      [
        'conv2d_stride2_pad1',
        [2, 3, 10, 9],
        [5, 3, 3, 3],
        { stride: 2, padding: 1, dilation: 1, groups: 1 },
        true,
      ],
      [
        'conv2d_rect_dilated',
        [1, 2, 11, 12],
        [3, 2, 3, 2],
        { stride: [1, 2], padding: [2, 1], dilation: 2, groups: 1 },
        true,
      ],
      ['conv2d_groups2', [2, 4, 8, 8], [6, 2, 3, 3], { stride: 1, padding: 1, dilation: 1, groups: 2 }, true],
      [
        'conv2d_depthwise',
        [2, 4, 8, 8],
        [4, 1, 3, 3],
        { stride: 2, padding: 1, dilation: 1, groups: 4 },
        true,
      ],
      [
        'conv2d_no_bias_1x1',
        [2, 4, 5, 5],
        [6, 4, 1, 1],
        { stride: 1, padding: 0, dilation: 1, groups: 1 },
        false,
      ],
    ] as const
  ).map(([name, xs, ws, o, bias]): Case => ({
    name,
    op: 'conv2d',
    inputs: bias ? [f([...xs]), f([...ws]), f([ws[0]])] : [f([...xs]), f([...ws])],
    attrs: { stride: p2(o.stride), padding: p2(o.padding), dilation: p2(o.dilation), groups: o.groups },
    ts: (x) =>
      F.conv2d(x0(x), x1(x), xi(x, 2), {
        stride: p2(o.stride),
        padding: p2(o.padding),
        dilation: p2(o.dilation),
        groups: o.groups,
      }),
  })),
  {
    name: 'linear',
    op: 'linear',
    inputs: [f([3, 5]), f([4, 5]), f([4])],
    ts: (x) => F.linear(x0(x), x1(x), xi(x, 2)),
  },
  {
    name: 'linear_3d_no_bias',
    op: 'linear',
    inputs: [f([2, 3, 5]), f([4, 5])],
    ts: (x) => F.linear(x0(x), x1(x), null),
  },
  // normalisation
  {
    name: 'batch_norm_train',
    op: 'batch_norm_train',
    inputs: [f([4, 3, 5, 5]), { shape: [3] }, { shape: [3], range: [0.5, 2] }, f([3]), f([3])],
    attrs: { momentum: 0.1, eps: 1e-5 },
    ts: (x) => {
      const rm = (x[1] as Tensor).clone();
      const rv = (x[2] as Tensor).clone();
      const y = F.batchNorm(x0(x), rm, rv, xi(x, 3), xi(x, 4), true, 0.1, 1e-5);
      return [y, rm, rv];
    },
  },
  {
    name: 'batch_norm_eval',
    op: 'batch_norm_eval',
    inputs: [f([2, 3, 4, 4]), { shape: [3] }, { shape: [3], range: [0.5, 2] }, f([3]), f([3])],
    attrs: { eps: 1e-3 },
    ts: (x) => F.batchNorm(x0(x), xi(x, 1), xi(x, 2), xi(x, 3), xi(x, 4), false, 0.1, 1e-3),
  },
  {
    name: 'layer_norm',
    op: 'layer_norm',
    inputs: [f([2, 3, 6]), f([6]), f([6])],
    attrs: { shape: [6], eps: 1e-6 },
    ts: (x) => F.layerNorm(x0(x), [6], xi(x, 1), xi(x, 2), 1e-6),
  },
  {
    name: 'group_norm',
    op: 'group_norm',
    inputs: [f([2, 6, 3, 3]), f([6]), f([6])],
    attrs: { groups: 3, eps: 1e-5 },
    ts: (x) => F.groupNorm(x0(x), 3, xi(x, 1), xi(x, 2), 1e-5),
  },
  // pooling
  {
    name: 'max_pool2d_3s2p1',
    op: 'max_pool2d',
    inputs: [f([2, 3, 9, 9])],
    attrs: { k: 3, s: 2, p: 1 },
    ts: (x) => F.maxPool2d(x0(x), { kernelSize: 3, stride: 2, padding: 1 }),
  },
  {
    name: 'max_pool2d_ceil',
    op: 'max_pool2d',
    inputs: [f([1, 2, 8, 8])],
    attrs: { k: 3, s: 2, p: 0, ceil: true },
    ts: (x) => F.maxPool2d(x0(x), { kernelSize: 3, stride: 2, ceilMode: true }),
  },
  {
    name: 'avg_pool2d_2',
    op: 'avg_pool2d',
    inputs: [f([2, 3, 8, 8])],
    attrs: { k: 2, s: 2, p: 0 },
    ts: (x) => F.avgPool2d(x0(x), { kernelSize: 2 }),
  },
  {
    name: 'avg_pool2d_pad_excl_ceil',
    op: 'avg_pool2d',
    inputs: [f([1, 2, 7, 7])],
    attrs: { k: 3, s: 2, p: 1, ceil: true, cip: false },
    ts: (x) =>
      F.avgPool2d(x0(x), { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
  },
  {
    name: 'adaptive_avg_pool2d_1',
    op: 'adaptive_avg_pool2d',
    inputs: [f([2, 3, 5, 7])],
    attrs: { size: [1, 1] },
    ts: (x) => F.adaptiveAvgPool2d(x0(x), 1),
  },
  {
    name: 'adaptive_avg_pool2d_7to3',
    op: 'adaptive_avg_pool2d',
    inputs: [f([1, 2, 7, 7])],
    attrs: { size: [3, 3] },
    ts: (x) => F.adaptiveAvgPool2d(x0(x), 3),
  },
  // resampling and padding
  {
    name: 'bilinear_size',
    op: 'interpolate',
    inputs: [f([1, 2, 5, 6])],
    attrs: { mode: 'bilinear', size: [9, 7] },
    ts: (x) => F.interpolate(x0(x), { mode: 'bilinear', size: [9, 7] }),
  },
  {
    name: 'bilinear_align_corners',
    op: 'interpolate',
    inputs: [f([1, 2, 5, 6])],
    attrs: { mode: 'bilinear', size: [10, 3], alignCorners: true },
    ts: (x) => F.interpolate(x0(x), { mode: 'bilinear', size: [10, 3], alignCorners: true }),
  },
  {
    name: 'bilinear_scale',
    op: 'interpolate',
    inputs: [f([1, 2, 5, 6])],
    attrs: { mode: 'bilinear', scale: 1.5 },
    ts: (x) => F.interpolate(x0(x), { mode: 'bilinear', scaleFactor: 1.5 }),
  },
  {
    name: 'nearest_scale2',
    op: 'interpolate',
    inputs: [f([1, 2, 3, 4])],
    attrs: { mode: 'nearest', scale: 2 },
    ts: (x) => F.interpolate(x0(x), { mode: 'nearest', scaleFactor: 2 }),
  },
  {
    name: 'affine_grid',
    op: 'affine_grid',
    inputs: [{ shape: [2, 2, 3], grad: true, range: [-1, 1] }],
    attrs: { size: [2, 1, 5, 6], alignCorners: false },
    ts: (x) => F.affineGrid(x0(x), [2, 1, 5, 6], false),
  },
  {
    name: 'grid_sample_bilinear_zeros',
    op: 'grid_sample',
    // positions past the edges too, where zeros padding counts
    inputs: [f([2, 3, 5, 6]), { shape: [2, 4, 7, 2], grad: true, range: [-1.3, 1.3] }],
    attrs: { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false },
    ts: (x) => F.gridSample(x0(x), x[1] as Tensor),
  },
  {
    name: 'grid_sample_nearest_border_aligned',
    op: 'grid_sample',
    inputs: [f([1, 2, 4, 5], false), { shape: [1, 3, 3, 2], range: [-1.3, 1.3] }],
    attrs: { mode: 'nearest', paddingMode: 'border', alignCorners: true },
    ts: (x) => F.gridSample(x0(x), x[1] as Tensor, { mode: 'nearest', paddingMode: 'border', alignCorners: true }),
  },
  {
    name: 'pad_constant',
    op: 'pad',
    inputs: [f([1, 2, 3, 4])],
    attrs: { pads: [1, 2, 0, 3], mode: 'constant', value: 0.5 },
    ts: (x) => F.pad(x0(x), [1, 2, 0, 3], 'constant', 0.5),
  },
  {
    name: 'pad_reflect',
    op: 'pad',
    inputs: [f([1, 2, 4, 5])],
    attrs: { pads: [2, 1, 1, 2], mode: 'reflect' },
    ts: (x) => F.pad(x0(x), [2, 1, 1, 2], 'reflect'),
  },
  {
    name: 'pad_replicate',
    op: 'pad',
    inputs: [f([1, 2, 4, 5])],
    attrs: { pads: [2, 1, 1, 2], mode: 'replicate' },
    ts: (x) => F.pad(x0(x), [2, 1, 1, 2], 'replicate'),
  },
  // losses
  ...(['mean', 'sum', 'none'] as const).flatMap((r): Case[] => [
    {
      name: `l1_${r}`,
      op: 'l1_loss',
      inputs: [f([3, 4]), f([3, 4])],
      attrs: { r },
      ts: (x) => F.l1Loss(x0(x), x1(x), r),
    },
    {
      name: `mse_${r}`,
      op: 'mse_loss',
      inputs: [f([3, 4]), f([3, 4])],
      attrs: { r },
      ts: (x) => F.mseLoss(x0(x), x1(x), r),
    },
    {
      name: `smooth_l1_${r}`,
      op: 'smooth_l1_loss',
      inputs: [f([3, 4]), f([3, 4])],
      attrs: { r, beta: 0.5 },
      ts: (x) => F.smoothL1Loss(x0(x), x1(x), 0.5, r),
    },
  ]),
  {
    name: 'cross_entropy_plain',
    op: 'cross_entropy',
    inputs: [f([5, 4]), { shape: [5], dtype: 'int64', classes: 4 }],
    attrs: { r: 'mean', ls: 0 },
    ts: (x) => F.crossEntropy(x0(x), x1(x)),
  },
  {
    name: 'cross_entropy_weight_smooth',
    op: 'cross_entropy',
    inputs: [f([6, 3]), { shape: [6], dtype: 'int64', classes: 3 }, { shape: [3], range: [0.5, 2] }],
    attrs: { r: 'mean', ls: 0.1 },
    ts: (x) => F.crossEntropy(x0(x), x1(x), { weight: x[2] as Tensor, labelSmoothing: 0.1 }),
  },
  {
    name: 'cross_entropy_smooth_sum',
    op: 'cross_entropy',
    inputs: [f([6, 3]), { shape: [6], dtype: 'int64', classes: 3 }],
    attrs: { r: 'sum', ls: 0.2 },
    ts: (x) => F.crossEntropy(x0(x), x1(x), { labelSmoothing: 0.2, reduction: 'sum' }),
  },
  {
    name: 'bce_logits',
    op: 'bce_logits',
    inputs: [f([4, 3]), { shape: [4, 3], range: [0, 1] }],
    attrs: { r: 'mean' },
    ts: (x) => F.binaryCrossEntropyWithLogits(x0(x), x1(x)),
  },
  {
    name: 'bce_logits_pos_weight',
    op: 'bce_logits',
    inputs: [f([4, 3]), { shape: [4, 3], range: [0, 1] }, { shape: [3], range: [0.5, 3] }],
    attrs: { r: 'none' },
    ts: (x) => F.binaryCrossEntropyWithLogits(x0(x), x1(x), { posWeight: x[2] as Tensor, reduction: 'none' }),
  },
  // optimisers, clipping, schedules (forward only)
  {
    name: 'adamw_5_steps',
    op: 'adamw',
    inputs: [
      { shape: [3, 4] },
      { shape: [3, 4] },
      { shape: [3, 4] },
      { shape: [3, 4] },
      { shape: [3, 4] },
      { shape: [3, 4] },
    ],
    attrs: { lr: 0.01, betas: [0.9, 0.99], eps: 1e-8, wd: 0.05 },
    ts: (x) => {
      const p = x0(x).clone().requiresGrad_(true);
      const opt = new AdamW([p], { lr: 0.01, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.05 });
      for (const g of x.slice(1)) {
        p.setGrad(g.clone());
        opt.step();
      }
      return [p.detach()];
    },
  },
  ...(
    [
      ['sgd_momentum_wd', { lr: 0.1, momentum: 0.9, dampening: 0.1, wd: 1e-3, nesterov: false }],
      ['sgd_nesterov', { lr: 0.05, momentum: 0.8, dampening: 0, wd: 0.01, nesterov: true }],
      ['sgd_plain', { lr: 0.2, momentum: 0, dampening: 0, wd: 0, nesterov: false }],
    ] as const
  ).map(([name, a]): Case => ({
    name,
    op: 'sgd',
    inputs: [{ shape: [5] }, { shape: [5] }, { shape: [5] }, { shape: [5] }, { shape: [5] }],
    attrs: { ...a },
    ts: (x) => {
      const p = x0(x).clone().requiresGrad_(true);
      const opt = new SGD([p], {
        lr: a.lr,
        momentum: a.momentum,
        dampening: a.dampening,
        weightDecay: a.wd,
        nesterov: a.nesterov,
      });
      for (const g of x.slice(1)) {
        p.setGrad(g.clone());
        opt.step();
      }
      return [p.detach()];
    },
  })),
  {
    name: 'clip_grad_norm',
    op: 'clip_grad_norm',
    inputs: [{ shape: [3, 2] }, { shape: [4] }, { shape: [3, 2] }, { shape: [4] }],
    attrs: { max: 0.5 },
    ts: (x) => {
      const a = x0(x).clone().requiresGrad_(true);
      const b = x1(x).clone().requiresGrad_(true);
      a.setGrad((x[2] as Tensor).clone());
      b.setGrad((x[3] as Tensor).clone());
      const n = clipGradNorm([a, b], 0.5);
      return [scalar(n), a.grad as Tensor, b.grad as Tensor];
    },
  },
  {
    name: 'one_cycle',
    op: 'one_cycle',
    inputs: [],
    attrs: { maxLr: 0.01, total: 50, pct: 0.3, div: 25, finalDiv: 1e4 },
    ts: () => {
      const s = oneCycle({ maxLr: 0.01, totalSteps: 50, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4 });
      return [
        tensor(
          Array.from({ length: 50 }, (_, i) => s(i)),
          [50],
        ),
      ];
    },
  },
];

interface Saved {
  file: string;
  shape: number[];
  dtype: DT;
}
interface Computed {
  outputs: Tensor[];
  grads: Tensor[];
  error?: string;
}

function writeTensor(dir: string, file: string, data: TypedData): void {
  writeFileSync(join(dir, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}
function readSaved(dir: string, s: Saved): Float64Array {
  const buf = readFileSync(join(dir, s.file));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  if (s.dtype === 'float32') return Float64Array.from(new Float32Array(ab));
  if (s.dtype === 'int64') return Float64Array.from(new BigInt64Array(ab), (v) => Number(v));
  return Float64Array.from(new Uint8Array(ab));
}
function asF64(t: Tensor): Float64Array {
  return Float64Array.from(t.toFloat32Array());
}
function compare(what: string, got: Float64Array, want: Float64Array): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} elements, PyTorch has ${want.length}`);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    // rtol 1e-5 per element, with an absolute floor of 1e-6 of the tensor's scale for values near zero
    const tol = RTOL * Math.abs(w) + 1e-6 * Math.max(scale, 1e-3);
    if (!(Math.abs(g - w) <= tol))
      assert.fail(`${what}[${i}]: engine ${g}, PyTorch ${w} (|diff| ${Math.abs(g - w)} > ${tol})`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'physis-parity-'));
const computed = new Map<string, Computed>();
const specCases: unknown[] = [];
for (const c of CASES) {
  const inputs: Tensor[] = [];
  const specs: unknown[] = [];
  c.inputs.forEach((s, j) => {
    const data = makeData(s);
    const file = `${c.name}.in${j}.bin`;
    writeTensor(dir, file, data);
    inputs.push(tensor(data, s.shape, { dtype: s.dtype ?? 'float32', requiresGrad: s.grad ?? false }));
    specs.push({ file, shape: s.shape, dtype: s.dtype ?? 'float32', grad: s.grad ?? false });
  });
  const upstream: unknown[] = [];
  try {
    const out = c.ts(inputs, c.attrs ?? {});
    const outputs = Array.isArray(out) ? out : [out];
    const gradIn = inputs.filter((_, j) => c.inputs[j]?.grad === true);
    const used: Tensor[] = [];
    const ups: Tensor[] = [];
    outputs.forEach((o, i) => {
      if (gradIn.length === 0 || o.dtype !== 'float32' || !o.requiresGrad) return;
      const g = makeData({ shape: [...o.shape] }) as Float32Array;
      const file = `${c.name}.up${i}.bin`;
      writeTensor(dir, file, g);
      upstream.push({ file, shape: [...o.shape], dtype: 'float32', index: i });
      used.push(o);
      ups.push(tensor(g, o.shape));
    });
    const grads = used.length > 0 ? autogradGrad(used, gradIn, ups) : [];
    computed.set(c.name, { outputs, grads });
  } catch (e) {
    computed.set(c.name, { outputs: [], grads: [], error: String(e) });
  }
  specCases.push({ name: c.name, op: c.op, inputs: specs, attrs: c.attrs ?? {}, upstream });
}
writeFileSync(join(dir, 'cases.json'), JSON.stringify({ threads: getNumThreads(), cases: specCases }));
const py = spawnSync(PY, [SCRIPT, dir], { encoding: 'utf8' });
const skip =
  py.error !== undefined
    ? `${PY} not runnable (${py.error.message})`
    : py.status === 77
      ? `${PY} has no torch: ${py.stderr.trim()}`
      : null;
if (skip === null && py.status !== 0)
  throw new Error(`engine_parity.py failed (exit ${py.status}): ${py.stderr}`);
const results: Record<string, { outputs?: Saved[]; grads?: Saved[]; error?: string }> =
  skip === null
    ? (JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<
        string,
        { outputs?: Saved[]; grads?: Saved[]; error?: string }
      >)
    : {};

for (const c of CASES) {
  void test(`parity ${c.name}`, { skip: skip ?? false }, () => {
    const mine = computed.get(c.name);
    const ref = results[c.name];
    assert.ok(mine !== undefined && ref !== undefined, 'case ran on both sides');
    assert.equal(mine.error, undefined, `engine failed: ${mine.error}`);
    assert.equal(ref.error, undefined, `PyTorch failed: ${ref.error}`);
    const outs = ref.outputs ?? [];
    assert.equal(mine.outputs.length, outs.length, 'number of outputs');
    outs.forEach((s, i) => {
      const o = mine.outputs[i] as Tensor;
      assert.deepEqual([...o.shape], s.shape, `output ${i} shape`);
      compare(`${c.name} output ${i}`, asF64(o), readSaved(dir, s));
    });
    const grads = ref.grads ?? [];
    assert.equal(mine.grads.length, grads.length, 'number of input gradients');
    grads.forEach((s, j) =>
      compare(`${c.name} grad of input ${j}`, asF64(mine.grads[j] as Tensor), readSaved(dir, s)),
    );
  });
}

void test('parity covers forward and gradient of every differentiable case', { skip: skip ?? false }, () => {
  const withGrad = CASES.filter((c) => c.inputs.some((s) => s.grad === true)).map((c) => c.name);
  for (const n of withGrad) assert.ok((results[n]?.grads ?? []).length > 0, `${n} has reference gradients`);
  rmSync(dir, { recursive: true, force: true });
});
