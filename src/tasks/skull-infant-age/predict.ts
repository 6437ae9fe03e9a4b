/**
 * The skull-infant-age answer for one film that passed every check: the age in months (regression output) and the
 * monthly class with its probability (class head), per view when the view is unknown, with the chronological age
 * from the header when there is one.
 *
 * Why both heads: Lee et al. (Sci Rep 2024) classified months; a clinician reads an age. The two are trained together
 * on shared features and reported side by side, so a disagreement between them is visible, not hidden.
 */
import type { FilmContext, TaskAnswer } from '../task.js';
import { AGE_CLASS_COUNT, MAX_AGE_MONTHS, type SkullView } from './config.js';
import type { SkullState } from './state.js';

/** One view's answer. */
export interface SkullViewAnswer {
  /** The regression output, clamped to the task's range [0, 12) months. */
  readonly ageMonths: number;
  /** The class head's month (class k: ages in [k, k + 1) months) and its softmax probability. */
  readonly ageClass: number;
  readonly ageClassProbability: number;
  /** Softmax over the twelve monthly classes. */
  readonly classProbabilities: readonly number[];
}

/** Softmax of the class logits (outputs 1 … 12 of the head). @param heads - one variant's head outputs */
export function classProbabilities(heads: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let k = 0; k < AGE_CLASS_COUNT; k++) max = Math.max(max, heads[1 + k] as number);
  const e = Array.from({ length: AGE_CLASS_COUNT }, (_, k) => Math.exp((heads[1 + k] as number) - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The class head's argmax. @param heads - one variant's head outputs */
export function predictedClass(heads: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < AGE_CLASS_COUNT; k++) if ((heads[1 + k] as number) > (heads[1 + best] as number)) best = k;
  return best;
}

/** One variant's answer from its head outputs. @param heads - [age, 12 logits] */
export function viewAnswer(heads: ArrayLike<number>): SkullViewAnswer {
  const p = classProbabilities(heads);
  const k = predictedClass(heads);
  const age = Math.min(MAX_AGE_MONTHS - 1e-3, Math.max(0, heads[0] as number));
  return { ageMonths: age, ageClass: k, ageClassProbability: p[k] as number, classProbabilities: p.map((x) => Number(x.toFixed(4))) };
}

/**
 * The answer for one film.
 * @param ctx - the film, its variants (one per view when unknown) and the member that answers them
 */
export function predictSkullInfantAge(ctx: FilmContext<SkullState>): TaskAnswer {
  const byView = new Map<SkullView, SkullViewAnswer[]>();
  for (const r of ctx.routes) {
    r.variants.forEach((i, j) => {
      const view = ctx.variants[i]?.values['view'] as SkullView;
      const heads = r.firstPass.heads[j];
      if (heads !== undefined) byView.set(view, [...(byView.get(view) ?? []), viewAnswer(heads)]);
    });
  }
  // several members (a fold ensemble): the mean age and the mean class probabilities
  const combine = (answers: readonly SkullViewAnswer[]): SkullViewAnswer => {
    if (answers.length === 1) return answers[0] as SkullViewAnswer;
    const p = Array.from({ length: AGE_CLASS_COUNT }, (_, k) => answers.reduce((a, x) => a + (x.classProbabilities[k] as number), 0) / answers.length);
    const k = p.indexOf(Math.max(...p));
    return {
      ageMonths: answers.reduce((a, x) => a + x.ageMonths, 0) / answers.length,
      ageClass: k,
      ageClassProbability: p[k] as number,
      classProbabilities: p.map((x) => Number(x.toFixed(4))),
    };
  };
  const view = ctx.inputs['view'];
  const known = (view?.value ?? null) as SkullView | null;
  const age = ctx.radiograph.metadata.age;
  const answers = Object.fromEntries([...byView].map(([v, a]) => [v, combine(a)])) as Partial<Record<SkullView, SkullViewAnswer>>;
  const mine = known === null ? undefined : answers[known];
  // a model trained on simulated films says so in every answer, not only in its card
  const notices = [...new Set(ctx.routes.map((r) => r.state.trainingData?.notice).filter((n): n is string => typeof n === 'string'))];
  return {
    ...(notices.length === 0 ? {} : { simulatedTraining: notices.join(' ') }),
    ...(mine !== undefined ? mine : { byView: answers }),
    view: known,
    viewSource: view?.source ?? 'unknown',
    ...(view?.conflict ? { viewConflict: view.conflict } : {}),
    ...(age ? { chronologicalAgeMonths: age.ageMonths, chronologicalAgeSource: age.source } : {}),
    ...(age && mine !== undefined ? { differenceMonths: mine.ageMonths - age.ageMonths } : {}),
  };
}
