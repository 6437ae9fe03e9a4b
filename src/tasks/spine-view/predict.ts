/**
 * The spine-view answer for one film that passed every check: the class and its probability when the top
 * probability reaches the bundle's reject threshold, else "human review" with every class's probability — never a
 * silent class.
 *
 * Why: a registry files films without a person; the threshold was chosen on validation films so that the films it
 * answers reach the target accuracy (Geifman & El-Yaniv, NeurIPS 2017), and the rest need a person's reading.
 */
import type { FilmContext, TaskAnswer } from '../task.js';
import type { SpineViewState } from './state.js';

/** Softmax over the first `k` logits (the classes of the bundle; later logits are unused). @param heads - head outputs @param k - classes */
export function spineProbabilities(heads: ArrayLike<number>, k: number): number[] {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, heads[j] as number);
  const e = Array.from({ length: k }, (_, j) => Math.exp((heads[j] as number) - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The index of the largest value. @param values - e.g. probabilities */
export function argmaxOf(values: ArrayLike<number>, k = values.length): number {
  let best = 0;
  for (let j = 1; j < k; j++) if ((values[j] as number) > (values[best] as number)) best = j;
  return best;
}

/** The answer's fields. */
export interface SpineViewAnswer {
  /** `class`: answered; `human review`: below the reject threshold (or no threshold in the bundle). */
  readonly decision: 'class' | 'human review';
  /** The class when answered, else null. */
  readonly class: string | null;
  /** The most probable class and its probability (also when it goes to review, so a person sees the model's guess). */
  readonly mostLikely: string;
  readonly probability: number;
  readonly probabilities: Readonly<Record<string, number>>;
  /** The bundle's threshold; null when the bundle has none. */
  readonly rejectThreshold: number | null;
  readonly reviewReason?: string;
  readonly simulatedTraining?: string;
}

/**
 * The decision for one probability vector.
 * @param probabilities - per class, in `classes` order
 * @param classes - the bundle's class list
 * @param threshold - the bundle's reject threshold; null: every film goes to review
 */
export function decide(probabilities: readonly number[], classes: readonly string[], threshold: number | null): SpineViewAnswer {
  const k = argmaxOf(probabilities);
  const p = probabilities[k] as number;
  const name = classes[k] as string;
  const probabilitiesByClass = Object.fromEntries(classes.map((c, j) => [c, Number((probabilities[j] as number).toFixed(4))]));
  const base = { mostLikely: name, probability: Number(p.toFixed(4)), probabilities: probabilitiesByClass, rejectThreshold: threshold };
  if (threshold === null) return { decision: 'human review', class: null, ...base, reviewReason: 'the bundle has no reject threshold (reject.json)' };
  if (p < threshold) return { decision: 'human review', class: null, ...base, reviewReason: `top probability ${p.toFixed(3)} < threshold ${threshold.toFixed(3)}` };
  return { decision: 'class', class: name, ...base };
}

/**
 * The answer for one film: the mean class probabilities of the members (one for a single bundle), then the decision.
 * @param ctx - the film and the members that answer it
 */
export function predictSpineView(ctx: FilmContext<SpineViewState>): TaskAnswer {
  const first = ctx.routes[0];
  if (first === undefined) throw new Error(`${ctx.file}: no model answered`);
  const classes = first.state.classes.classes;
  const k = classes.length;
  const sum = new Array<number>(k).fill(0);
  let members = 0;
  for (const r of ctx.routes) {
    for (const heads of r.firstPass.heads) {
      spineProbabilities(heads, k).forEach((p, j) => (sum[j] = (sum[j] as number) + p));
      members++;
    }
  }
  const probabilities = sum.map((s) => s / Math.max(1, members));
  // an ensemble answers only above the strictest member's threshold
  const thresholds = ctx.routes.map((r) => r.state.reject?.threshold ?? null);
  const threshold = thresholds.some((t) => t === null) ? null : Math.max(...(thresholds as number[]));
  const notices = [...new Set(ctx.routes.map((r) => r.state.trainingData?.notice).filter((n): n is string => typeof n === 'string'))];
  return { ...decide(probabilities, classes, threshold), ...(notices.length === 0 ? {} : { simulatedTraining: notices.join(' ') }) };
}
