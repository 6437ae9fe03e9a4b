/**
 * A small seeded random stream for the procedural radiograph phantoms.
 *
 * Why: phantoms must be reproducible from a seed (the same cohort seed rebuilds the same films), and the generators
 * must stay light: the training engine's RNG lives behind `train/index.ts`, which loads the trainer and its native
 * backend (and sits above this layer), so the phantoms keep their own generator here. splitmix32 (Steele, Lea & Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014, 32-bit variant) is enough for drawing anatomy and acquisition parameters.
 */

/** Hash integers (seed, stream label, index…) into one 32-bit seed; order matters. */
export function mixPhantomSeed(...parts: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const lo = Math.trunc(p) >>> 0;
    const hi = Math.trunc(p / 4294967296) >>> 0;
    h = Math.imul(h ^ lo, 0x01000193) >>> 0;
    h = avalanche(h + 0x9e3779b9);
    h = Math.imul(h ^ hi, 0x01000193) >>> 0;
    h = avalanche(h);
  }
  return h;
}

function avalanche(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded stream of uniform and normal deviates. */
export class PhantomRandom {
  private state: number;
  private spare: number | null = null;

  /** @param seed - any finite number; equal seeds give equal streams */
  constructor(seed: number) {
    this.state = mixPhantomSeed(seed) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    return avalanche(this.state) / 4294967296;
  }

  /** Uniform in [lo, hi). @param lo - lower bound @param hi - upper bound */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [0, n). @param n - exclusive upper bound */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.float() * n));
  }

  /** Standard normal deviate (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = this.float();
    while (u === 0) u = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * this.float();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /** Normal deviate with mean and SD, clipped to [lo, hi]. */
  clippedNormal(mean: number, sd: number, lo: number, hi: number): number {
    const v = mean + sd * this.normal();
    return v < lo ? lo : v > hi ? hi : v;
  }
}
