/**
 * Parameter initialisers matching torch.nn.init (He et al. 2015 for Kaiming, Glorot & Bengio 2010 for Xavier).
 * They fill tensors in place outside autograd.
 */
import { N } from './native.js';
import type { Tensor } from './tensor.js';
import { ShapeError } from './errors.js';

/** Fan computation of torch.nn.init._calculate_fan_in_and_fan_out. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.rank < 2) throw new ShapeError(`init: fan in/out needs at least 2 dims, got [${t.shape.join(',')}]`);
  let receptive = 1;
  for (let i = 2; i < t.rank; i++) receptive *= t.shape[i] ?? 1;
  return { fanIn: (t.shape[1] ?? 1) * receptive, fanOut: (t.shape[0] ?? 1) * receptive };
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions {
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: 'relu' | 'linear' | 'leakyRelu';
  /** negative slope for leakyRelu (PyTorch's `a`) */
  a?: number;
}

function gain(o: KaimingOptions): number {
  const nl = o.nonlinearity ?? 'leakyRelu';
  if (nl === 'linear') return 1;
  if (nl === 'relu') return Math.SQRT2;
  const a = o.a ?? 0;
  return Math.sqrt(2 / (1 + a * a));
}

function noGradDo(f: () => void): void {
  const prev = N.isGradEnabled();
  N.setGradEnabled(false);
  try {
    f();
  } finally {
    N.setGradEnabled(prev);
  }
}

/** torch.nn.init equivalents. */
export const init = {
  /** N(0, gain/sqrt(fan)) (defaults: fanIn, leaky_relu with a=0, i.e. gain √2). */
  kaimingNormal_(t: Tensor, o: KaimingOptions = {}): void {
    const f = fans(t);
    const std = gain(o) / Math.sqrt(o.mode === 'fanOut' ? f.fanOut : f.fanIn);
    N.normal_(t.handle, 0, std);
  },
  /** U(-b, b) with b = gain·sqrt(3/fan). */
  kaimingUniform_(t: Tensor, o: KaimingOptions = {}): void {
    const f = fans(t);
    const bound = gain(o) * Math.sqrt(3 / (o.mode === 'fanOut' ? f.fanOut : f.fanIn));
    N.uniform_(t.handle, -bound, bound);
  },
  /** U(-b, b) with b = gain·sqrt(6/(fanIn+fanOut)). */
  xavierUniform_(t: Tensor, g = 1): void {
    const f = fans(t);
    const bound = g * Math.sqrt(6 / (f.fanIn + f.fanOut));
    N.uniform_(t.handle, -bound, bound);
  },
  normal_(t: Tensor, mean = 0, std = 1): void {
    N.normal_(t.handle, mean, std);
  },
  uniform_(t: Tensor, a = 0, b = 1): void {
    N.uniform_(t.handle, a, b);
  },
  /** Truncated normal on [a, b] by inverse-CDF sampling, as torch.nn.init.trunc_normal_. */
  truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2): void {
    const cdf = (x: number): number => (1 + erf(x / Math.SQRT2)) / 2;
    const l = cdf((a - mean) / std);
    const u = cdf((b - mean) / std);
    noGradDo(() => {
      N.uniform_(t.handle, 2 * l - 1, 2 * u - 1);
      N.erfinv_(t.handle);
      N.mulScalar_(t.handle, std * Math.SQRT2);
      N.addScalar_(t.handle, mean);
      N.clamp_(t.handle, a, b);
    });
  },
  zeros_(t: Tensor): void {
    noGradDo(() => N.zero_(t.handle));
  },
  ones_(t: Tensor): void {
    noGradDo(() => N.fill_(t.handle, 1));
  },
  constant_(t: Tensor, v: number): void {
    noGradDo(() => N.fill_(t.handle, v));
  },
};

/** The error function: Maclaurin series below |x| = 2.5, continued fraction for erfc above (JS has no Math.erf). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  if (ax > 6) return sign;
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let sum = 0;
    let term = ax;
    for (let n = 0; n < 60; n++) {
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
      term *= (-ax * ax) / (n + 1);
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let k = 60; k >= 1; k--) f = k / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return sign * (1 - erfc);
}
