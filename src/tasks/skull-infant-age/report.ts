/**
 * The skull-infant-age answer as report findings: the age in months (regression head) and the monthly class with
 * its probability (class head), per view (each qualified by the assumed view) when the view is unknown.
 *
 * Why: the Structured Report written back to the PACS (PS3.16 TID 1500, TID 300) carries the same numbers as
 * `format`; the concepts are Physis' own (no standard code names an infant age estimated from a skull film).
 */
import { physisCode, UCUM_MONTH } from '../report-codes.js';
import type { CodedConcept, FilmResult, FindingQualifier, ReportFinding } from '../task.js';
import { SKULL_VIEWS, type SkullView } from './config.js';
import type { SkullViewAnswer } from './predict.js';

/** Postnatal age estimated on an infant skull radiograph, months. */
export const SKULL_AGE_CONCEPT = physisCode('INFANT-AGE', 'Postnatal age estimated from skull radiograph');
/** The monthly age class the class head chose. */
export const SKULL_AGE_CLASS_CONCEPT = physisCode('INFANT-AGE-CLASS', 'Postnatal age class (whole months) from skull radiograph');
/** The qualifier concept: the projection an estimate assumes because the view is unknown. */
export const ASSUMED_VIEW = physisCode('ASSUMED-VIEW', 'Projection assumed for this estimate (view unknown)');
/** The qualifier concept: the projection the model was given. */
export const GIVEN_VIEW = physisCode('GIVEN-VIEW', 'Projection given to the model');

const VIEW_CODES: Readonly<Record<SkullView, CodedConcept>> = {
  AP: physisCode('VIEW-AP', 'Antero-posterior skull projection'),
  LATERAL: physisCode('VIEW-LATERAL', 'Lateral skull projection'),
};

/**
 * The concept of the monthly class k (ages in [k, k + 1) months).
 * @param k - class index, 0 … 11
 */
export function skullAgeClassCode(k: number): CodedConcept {
  return physisCode(`AGE-CLASS-${k}`, `Age ${k} to under ${k + 1} months`);
}

/**
 * The findings of a skull-infant-age result (none without an answer).
 * @param r - the film's result
 */
export function skullReportFindings(r: FilmResult): ReportFinding[] {
  const a = (r.answer ?? {}) as Partial<SkullViewAnswer> & { byView?: Partial<Record<SkullView, SkullViewAnswer>>; view?: SkullView | null };
  const of = (v: SkullViewAnswer, q: FindingQualifier): ReportFinding[] => [
    { kind: 'numeric', concept: SKULL_AGE_CONCEPT, value: v.ageMonths, unit: UCUM_MONTH, qualifiers: [q] },
    { kind: 'coded', concept: SKULL_AGE_CLASS_CONCEPT, value: skullAgeClassCode(v.ageClass), probability: v.ageClassProbability, qualifiers: [q] },
  ];
  if (a.byView !== undefined) {
    return SKULL_VIEWS.flatMap((view) => {
      const v = a.byView?.[view];
      return v === undefined ? [] : of(v, { concept: ASSUMED_VIEW, value: VIEW_CODES[view] });
    });
  }
  if (a.ageMonths === undefined || a.view == null) return [];
  return of(a as SkullViewAnswer, { concept: GIVEN_VIEW, value: VIEW_CODES[a.view] });
}
