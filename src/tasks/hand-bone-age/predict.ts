/**
 * The hand-bone-age answer for one film that passed every check: bone age in months with a 90% interval, per sex
 * when sex is unknown, with the Greulich–Pyle SDS when the chronological age is known.
 *
 * Single bundle or routed member: the mean of test-time-augmentation views (one backbone forward of the views
 * shared by both sexes when sex is unknown), its interval the TTA spread scaled by the split-conformal calibration
 * in the bundle's calibration artifact. The first (un-augmented) forward is reused only when the calibration asks
 * for one view: a batch of one and the batch of all views differ in the last float bits (about 1e-5 months).
 * Fold ensemble: the members' weighted mean of that first forward, with the composite's constant-width interval
 * calibrated on out-of-fold residuals.
 */
import { scaledInterval, spreadOf } from '../../eval/index.js';
import type { ModelSetMember } from '../../infer/index.js';
import { stackViews } from '../../train/index.js';
import type { FilmContext, TaskAnswer } from '../task.js';
import { boneAgeSds } from './gp-reference.js';
import type { Sex } from './sex.js';
import type { HandState } from './state.js';

/** A 90% interval in months. */
export interface Interval90 {
  readonly lowMonths: number;
  readonly highMonths: number;
}

interface SexAnswer {
  readonly months: number;
  readonly interval: Interval90 | null;
  readonly sd?: number;
}

/**
 * The answer for one film.
 * @param ctx - the film, its variants (one per sex when unknown) and the members that answer them
 */
export async function predictHandBoneAge(ctx: FilmContext<HandState>): Promise<TaskAnswer> {
  const sexOf = (i: number): Sex => ctx.variants[i]?.values['sex'] as Sex;
  const known = (ctx.inputs['sex']?.value ?? null) as Sex | null;
  const bySex = new Map<Sex, SexAnswer>();
  const perMember = new Map<ModelSetMember, Map<Sex, number>>();
  let missing: string | undefined;
  let method: string | undefined;
  if (ctx.setKind === 'ensemble') {
    const hw = ctx.compositeInterval?.halfWidth;
    ctx.variants.forEach((_, j) => {
      const values = ctx.routes.map((r) => r.firstPass.outputs[r.variants.indexOf(j)] as number);
      ctx.routes.forEach((r, i) => perMember.set(r.member, (perMember.get(r.member) ?? new Map<Sex, number>()).set(sexOf(j), values[i] as number)));
      const s = spreadOf(values, ctx.routes.map((r) => r.member.weight));
      bySex.set(sexOf(j), {
        months: s.mean,
        sd: s.sd,
        interval: hw === undefined ? null : { lowMonths: Math.max(0, s.mean - hw), highMonths: s.mean + hw },
      });
    });
    const iv = ctx.compositeInterval;
    if (iv === undefined) missing = `${ctx.compositeId ?? 'the composite'} has no interval90 in composite.json`;
    else method = `${iv.method} (out-of-fold coverage ${iv.coverage.toFixed(3)}, n = ${iv.n})`;
  } else {
    for (const r of ctx.routes) {
      const cal = r.state.interval;
      const views = cal === null ? 1 : cal.views;
      const extras = r.variants.map((i) => ctx.variants[i]?.extra ?? []);
      const image = { width: ctx.prepared.image.width, height: ctx.prepared.image.height, data: ctx.prepared.image.data };
      const outputs =
        views === 1 ? r.firstPass.outputs.map((m) => [m]) : (await r.runner.run(stackViews(image, views), views, image.width, extras)).outputs;
      r.variants.forEach((i, j) => {
        const s = spreadOf(outputs[j] as readonly number[]);
        const iv = cal === null ? null : scaledInterval(s, cal, 0);
        bySex.set(sexOf(i), { months: s.mean, interval: iv === null ? null : { lowMonths: iv.low, highMonths: iv.high } });
      });
      if (cal === null) missing = `${r.member.bundle.card.id} has no interval calibration (calibration.json) in its bundle`;
    }
    if (ctx.setKind === 'routed') method = "the member's own interval: its TTA spread scaled by the split-conformal calibration on its dev images (its card)";
  }
  const pair = <T>(f: (v: SexAnswer) => T): { M: T; F: T } => ({ M: f(bySex.get('M') as SexAnswer), F: f(bySex.get('F') as SexAnswer) });
  const mine = known === null ? undefined : bySex.get(known);
  const age = ctx.radiograph.metadata.age;
  const memberPredictions =
    ctx.setKind !== 'ensemble'
      ? undefined
      : ctx.routes.map((r) => {
          const m = perMember.get(r.member) as Map<Sex, number>;
          return {
            id: r.member.bundle.card.id,
            ...(known !== null ? { boneAgeMonths: m.get(known) as number } : { boneAgeMonthsBySex: { M: m.get('M') as number, F: m.get('F') as number } }),
          };
        });
  const sexInput = ctx.inputs['sex'];
  return {
    ...(mine === undefined ? { boneAgeMonthsBySex: pair((v) => v.months) } : { boneAgeMonths: mine.months }),
    ...(missing !== undefined
      ? { interval90Missing: missing }
      : mine === undefined
        ? { interval90BySex: pair((v) => v.interval as Interval90) }
        : { interval90: mine.interval as Interval90 }),
    ...(method === undefined || missing !== undefined ? {} : { interval90Method: method }),
    sex: known,
    sexSource: sexInput?.source ?? 'unknown',
    ...(sexInput?.conflict ? { sexConflict: sexInput.conflict } : {}),
    ...(memberPredictions === undefined ? {} : { memberPredictions }),
    ...(ctx.setKind !== 'ensemble' ? {} : mine === undefined ? { memberSdMonthsBySex: pair((v) => v.sd ?? 0) } : { memberSdMonths: mine.sd ?? 0 }),
    ...(age ? { chronologicalAgeMonths: age.ageMonths, chronologicalAgeSource: age.source } : {}),
    ...(age && mine !== undefined && known !== null ? { greulichPyle: boneAgeSds(mine.months, age.ageMonths, known) } : {}),
  };
}
