/**
 * Seeded pseudo-random numbers with a serialisable state.
 *
 * Why: training must be reproducible (same seed → same folds, shuffles and augmentations) and resumable
 * (the RNG state goes into the checkpoint), and each data-loader worker needs its own independent
 * stream. Math.random offers neither. The generator is xoshiro128** (Blackman & Vigna, "Scrambled
 * linear pseudorandom number generators", ACM TOMS 2021), seeded through splitmix32 so that nearby
 * seeds give unrelated streams.
 */
import { TrainConfigError } from './errors.js';

/** The four 32-bit words of a generator's state, as stored in checkpoints. */
export type RngState = readonly [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Hash a list of integers (seed, epoch, index…) into one 32-bit seed; order matters. */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const lo = Math.trunc(p) >>> 0;
    const hi = Math.trunc(p / 4294967296) >>> 0;
    h = splitmix32((h ^ lo) >>> 0)();
    h = splitmix32((h + hi) >>> 0)();
  }
  return h;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** A xoshiro128** generator. */
export class Rng {
  private s: [number, number, number, number];

  /** @param seed - any integer; equal seeds give equal streams */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new TrainConfigError(`seed ${seed} must be a finite number`);
    const sm = splitmix32(Math.trunc(seed));
    this.s = [sm(), sm(), sm(), sm()];
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** A generator continuing from a saved state. @param state - from {@link Rng.state} */
  static fromState(state: RngState): Rng {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new TrainConfigError(`RNG state ${JSON.stringify(state)} is not four unsigned 32-bit integers`);
    }
    if (state.every((w) => w === 0)) throw new TrainConfigError('RNG state is all zeros, which xoshiro128** cannot leave');
    const r = new Rng(0);
    r.s = [state[0], state[1], state[2], state[3]];
    return r;
  }

  /** The current state, for checkpoints. */
  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). @param lo - lower bound @param hi - upper bound */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n). @param n - exclusive upper bound, a positive integer */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new TrainConfigError(`Rng.int(${n}): n must be a positive integer`);
    return Math.floor(this.float() * n);
  }

  /** Standard normal deviate (Box-Muller). */
  normal(): number {
    let u = this.float();
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** True with probability p. @param p - probability in [0, 1] */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** Shuffle an array in place (Fisher-Yates) and return it. @param items - the array */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** An independent generator derived from this one's seed material and a label (does not advance this). */
  fork(...labels: readonly number[]): Rng {
    return new Rng(mixSeed(this.s[0], this.s[1], this.s[2], this.s[3], ...labels));
  }
}
