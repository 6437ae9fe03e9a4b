/**
 * The knee-bone-age answer for one film that passed every check: bone age in months (per sex when sex is unknown)
 * with the bundle's 90% interval, beside the chronological age it was given, and what taught the model.
 *
 * Single bundle: the first (un-augmented) forward. Fold ensemble: the members' weighted mean, with the composite's
 * interval when it has one.
 */
import { spreadOf } from '../../eval/index.js';
import type { FilmContext, TaskAnswer } from '../task.js';
import type { KneeState } from './state.js';

/** A 90% interval in months. */
export interface KneeInterval90 {
  readonly lowMonths: number;
  readonly highMonths: number;
}

/**
 * The answer for one film.
 * @param ctx - the film, its variants (one per sex when sex is unknown) and the members that answer them
 */
export function predictKneeBoneAge(ctx: FilmContext<KneeState>): TaskAnswer {
  const bySex = new Map<string, { months: number; interval: KneeInterval90 | null }>();
  const age = ctx.inputs['age-months'];
  const ageMonths = Number(age?.value);
  ctx.variants.forEach((variant, j) => {
    const answering = ctx.routes.filter((r) => r.variants.includes(j));
    const values = answering.map((r) => r.firstPass.outputs[r.variants.indexOf(j)] as number);
    const months = spreadOf(values, answering.map((r) => r.member.weight)).mean;
    const half = ctx.setKind === 'ensemble' ? ctx.compositeInterval?.halfWidth : answering[0]?.state.interval?.halfWidthMonths;
    bySex.set(variant.values['sex'] as string, { months, interval: half === undefined ? null : { lowMonths: Math.max(0, months - half), highMonths: months + half } });
  });
  const sex = ctx.inputs['sex'];
  const mine = sex?.value == null ? undefined : bySex.get(sex.value);
  const state = ctx.routes[0]?.state;
  const notices = [...new Set(ctx.routes.map((r) => r.state.trainingData?.notice).filter((n): n is string => typeof n === 'string'))];
  const teachers = state?.labels?.teachers ?? [];
  const laterality = ctx.radiograph.metadata.laterality;
  const pair = <T>(f: (v: { months: number; interval: KneeInterval90 | null }) => T): Record<string, T> =>
    Object.fromEntries([...bySex].map(([s, v]) => [s, f(v)]));
  return {
    ...(notices.length === 0 ? {} : { simulatedTraining: notices.join(' ') }),
    ...(mine !== undefined
      ? { boneAgeMonths: mine.months, ...(mine.interval === null ? {} : { interval90: mine.interval }), differenceMonths: mine.months - ageMonths }
      : { boneAgeMonthsBySex: pair((v) => v.months), interval90BySex: pair((v) => v.interval) }),
    sex: sex?.value ?? null,
    sexSource: sex?.source ?? 'unknown',
    ...(sex?.conflict ? { sexConflict: sex.conflict } : {}),
    chronologicalAgeMonths: ageMonths,
    chronologicalAgeSource: age?.source ?? 'unknown',
    ...(age?.conflict ? { chronologicalAgeConflict: age.conflict } : {}),
    // the network learned left knees: a right knee was mirrored, a knee of unknown side was used as stored
    laterality: laterality === 'L' || laterality === 'R' ? laterality : null,
    ...(laterality === 'L' || laterality === 'R' ? { mirrored: ctx.prepared.flipped } : { lateralityNote: 'laterality unknown (no DICOM ImageLaterality): the film was used as stored, not mirrored to a left knee' }),
    ...(teachers.length === 0 ? {} : { labelsFrom: teachers.map((t) => `${t.id} (weights sha256 ${t.weightsSha256.slice(0, 12)}…, ${t.labels} pseudo-labels)`).join('; ') }),
  };
}
