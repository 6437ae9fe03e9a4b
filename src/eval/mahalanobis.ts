/**
 * Mahalanobis distances under a shrunk covariance: the Ledoit–Wolf estimate (Ledoit & Wolf 2004, J. Multivariate
 * Anal. 88:365), stored as its lower Cholesky factor, and the distance ||L⁻¹(x − mean)|| by forward substitution.
 *
 * Why here: feature-distance checks (a task's "is this like my training films", an open-set gate's
 * rejection of Lee et al., NeurIPS 2018) share the estimator; with a few hundred films and hundreds of feature
 * dimensions the sample covariance is ill-conditioned, and shrinkage towards a scaled identity fixes that.
 */
import { MetricInputError } from './errors.js';

/** A covariance as its packed lower Cholesky factor, with the shrinkage weight that made it. */
export interface ShrunkCovariance {
  /** Rows of the lower factor packed (d(d+1)/2 values). */
  readonly choleskyLower: number[];
  /** Weight on the scaled identity, in [0, 1]. */
  readonly shrinkage: number;
}

/**
 * The Ledoit–Wolf shrunk covariance of centred rows, as a Cholesky factor.
 * @param centred - rows with their (class) mean already subtracted, each of length d
 * @param d - the dimension
 * @throws MetricInputError when fewer than 2 rows or the matrix is not positive definite
 */
export function shrunkCovariance(centred: readonly Float64Array[], d: number): ShrunkCovariance {
  const n = centred.length;
  if (n < 2 || d < 1) throw new MetricInputError(`a covariance needs at least 2 vectors of dimension >= 1, got ${n} of ${d}`);
  // sample covariance with the 1/n normalisation Ledoit–Wolf's formulas use
  const s = new Float64Array(d * d);
  for (const x of centred) {
    for (let i = 0; i < d; i++) {
      const xi = x[i] as number;
      if (xi === 0) continue;
      const row = i * d;
      for (let j = 0; j <= i; j++) s[row + j] = (s[row + j] as number) + xi * (x[j] as number);
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) s[i * d + j] = (s[i * d + j] as number) / n;
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) s[i * d + j] = s[j * d + i] as number;
  let trace = 0;
  let frob2 = 0;
  for (let i = 0; i < d; i++) trace += s[i * d + i] as number;
  for (let k = 0; k < d * d; k++) frob2 += (s[k] as number) ** 2;
  const mu = trace / d;
  // delta² = ||S − μI||²_F, beta² = (1/n²) Σ_k ||x_k x_kᵀ − S||²_F (Ledoit & Wolf 2004, Lemma 3.2–3.4)
  const delta2 = frob2 - 2 * mu * trace + mu * mu * d;
  let beta2 = 0;
  for (const x of centred) {
    let nx2 = 0;
    for (let i = 0; i < d; i++) nx2 += (x[i] as number) ** 2;
    let xsx = 0;
    for (let i = 0; i < d; i++) {
      let acc = 0;
      const row = i * d;
      for (let j = 0; j < d; j++) acc += (s[row + j] as number) * (x[j] as number);
      xsx += acc * (x[i] as number);
    }
    beta2 += nx2 * nx2 - 2 * xsx + frob2;
  }
  beta2 /= n * n;
  const shrinkage = delta2 > 0 ? Math.min(1, Math.min(beta2, delta2) / delta2) : 1;
  const floor = mu > 0 ? mu : 1e-12;
  const cov = new Float64Array(d * d);
  for (let k = 0; k < d * d; k++) cov[k] = (1 - shrinkage) * (s[k] as number);
  for (let i = 0; i < d; i++) cov[i * d + i] = (cov[i * d + i] as number) + shrinkage * floor;
  return { choleskyLower: cholesky(cov, d), shrinkage };
}

/** Packed lower Cholesky factor of a symmetric positive-definite d×d matrix (row-major input). */
function cholesky(a: Float64Array, d: number): number[] {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j] as number;
      for (let k = 0; k < j; k++) sum -= (l[i * d + k] as number) * (l[j * d + k] as number);
      if (i === j) {
        if (!(sum > 0)) throw new MetricInputError(`the covariance is not positive definite at row ${i}`);
        l[i * d + i] = Math.sqrt(sum);
      } else {
        l[i * d + j] = sum / (l[j * d + j] as number);
      }
    }
  }
  const packed: number[] = [];
  for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) packed.push(l[i * d + j] as number);
  return packed;
}

/**
 * Mahalanobis distance of one vector: ||L⁻¹(x − mean)||.
 * @param dim - d
 * @param mean - d values
 * @param choleskyLower - the packed factor
 * @param x - the vector
 * @throws MetricInputError when x has the wrong length
 */
export function mahalanobisDistance(dim: number, mean: ArrayLike<number>, choleskyLower: ArrayLike<number>, x: ArrayLike<number>): number {
  if (x.length !== dim) throw new MetricInputError(`feature vector has ${x.length} values, the model ${dim}`);
  const z = new Float64Array(dim);
  let sq = 0;
  let p = 0;
  for (let i = 0; i < dim; i++) {
    let v = (x[i] as number) - (mean[i] as number);
    for (let k = 0; k < i; k++) v -= (choleskyLower[p + k] as number) * (z[k] as number);
    const zi = v / (choleskyLower[p + i] as number);
    z[i] = zi;
    sq += zi * zi;
    p += i + 1;
  }
  return Math.sqrt(sq);
}
