/**
 * The hand-bone-age answer as report findings: the bone age in months with its 90% interval (one per sex, each
 * qualified by the assumed sex, when the sex is unknown) and the Greulich–Pyle SDS when the chronological age is known.
 *
 * Why: the Structured Report written back to the PACS (PS3.16 TID 1500, TID 300) carries the same numbers as
 * `format`; the concepts are Physis' own (no standard code says "bone age estimated by this model"), the unit UCUM.
 */
import { physisCode, sexQualifier, UCUM_MONTH, UCUM_NO_UNITS } from '../report-codes.js';
import type { FilmResult, ReportFinding } from '../task.js';
import type { Interval90 } from './predict.js';

/** Bone age estimated on a left-hand radiograph (Greulich–Pyle reference readings), months. */
export const HAND_BONE_AGE_CONCEPT = physisCode('HAND-BONE-AGE', 'Bone age estimated from hand radiograph (Greulich-Pyle)');
/** The Greulich–Pyle standard deviation score of the bone age for the chronological age. */
export const HAND_BONE_AGE_SDS_CONCEPT = physisCode('HAND-BONE-AGE-SDS', 'Bone age SDS for chronological age (Greulich-Pyle)');

/**
 * The findings of a hand-bone-age result (none without an answer).
 * @param r - the film's result
 */
export function handReportFindings(r: FilmResult): ReportFinding[] {
  const a = (r.answer ?? {}) as {
    boneAgeMonths?: number;
    boneAgeMonthsBySex?: { M: number; F: number };
    interval90?: Interval90;
    interval90BySex?: { M: Interval90; F: Interval90 };
    sex?: 'M' | 'F' | null;
    greulichPyle?: { sds: number | null };
  };
  const age = (months: number, iv: Interval90 | undefined, sex: 'M' | 'F', assumed: boolean): ReportFinding => ({
    kind: 'numeric',
    concept: HAND_BONE_AGE_CONCEPT,
    value: months,
    unit: UCUM_MONTH,
    ...(iv === undefined ? {} : { interval90: { lower: iv.lowMonths, upper: iv.highMonths } }),
    qualifiers: [sexQualifier(sex, assumed)],
  });
  const out: ReportFinding[] = [];
  if (a.boneAgeMonths !== undefined && (a.sex === 'M' || a.sex === 'F')) out.push(age(a.boneAgeMonths, a.interval90, a.sex, false));
  else if (a.boneAgeMonthsBySex !== undefined) {
    for (const sex of ['M', 'F'] as const) out.push(age(a.boneAgeMonthsBySex[sex], a.interval90BySex?.[sex], sex, true));
  }
  const sds = a.greulichPyle?.sds;
  if (typeof sds === 'number' && (a.sex === 'M' || a.sex === 'F')) {
    out.push({ kind: 'numeric', concept: HAND_BONE_AGE_SDS_CONCEPT, value: sds, unit: UCUM_NO_UNITS, qualifiers: [sexQualifier(a.sex, false)] });
  }
  return out;
}
