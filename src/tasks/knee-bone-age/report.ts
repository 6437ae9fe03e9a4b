/**
 * The knee-bone-age answer as report findings: the bone age in months with its 90% interval, one per sex (each
 * qualified by the assumed sex) when the sex is unknown.
 *
 * Why: the Structured Report written back to the PACS (PS3.16 TID 1500, TID 300) carries the same numbers as
 * `format`; the concept is Physis' own (no standard code names a knee bone age learned from paired hand films).
 */
import { physisCode, sexQualifier, UCUM_MONTH } from '../report-codes.js';
import type { FilmResult, ReportFinding } from '../task.js';
import type { KneeInterval90 } from './predict.js';

/** Bone age estimated on a knee radiograph (learned from the paired hand films' bone ages), months. */
export const KNEE_BONE_AGE_CONCEPT = physisCode('KNEE-BONE-AGE', 'Bone age estimated from knee radiograph');

/**
 * The findings of a knee-bone-age result (none without an answer).
 * @param r - the film's result
 */
export function kneeReportFindings(r: FilmResult): ReportFinding[] {
  const a = (r.answer ?? {}) as {
    boneAgeMonths?: number;
    interval90?: KneeInterval90;
    boneAgeMonthsBySex?: Record<string, number>;
    interval90BySex?: Record<string, KneeInterval90 | null>;
    sex?: string | null;
  };
  const age = (months: number, iv: KneeInterval90 | null | undefined, sex: 'M' | 'F', assumed: boolean): ReportFinding => ({
    kind: 'numeric',
    concept: KNEE_BONE_AGE_CONCEPT,
    value: months,
    unit: UCUM_MONTH,
    ...(iv === undefined || iv === null ? {} : { interval90: { lower: iv.lowMonths, upper: iv.highMonths } }),
    qualifiers: [sexQualifier(sex, assumed)],
  });
  if (a.boneAgeMonths !== undefined && (a.sex === 'M' || a.sex === 'F')) return [age(a.boneAgeMonths, a.interval90, a.sex, false)];
  const bySex = a.boneAgeMonthsBySex;
  if (bySex === undefined) return [];
  return (['M', 'F'] as const).flatMap((sex) => {
    const months = bySex[sex];
    return months === undefined ? [] : [age(months, a.interval90BySex?.[sex], sex, true)];
  });
}
