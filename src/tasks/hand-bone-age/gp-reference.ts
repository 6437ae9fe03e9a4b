/**
 * Greulich-Pyle reference standard deviations of skeletal age by chronological age and sex, and the
 * bone-age standard deviation score (SDS) computed from them.
 *
 * Primary source: W. W. Greulich and S. I. Pyle, "Radiographic Atlas of Skeletal Development of the Hand
 * and Wrist", 2nd ed., Stanford University Press, 1959 — the standard deviations of skeletal age (months)
 * of the Brush Foundation study children at each chronological age, boys 3 months to 17 years, girls
 * 3 months to 16 years. These are the SDs bone-age reports quote ("using the Brush Foundation data, two
 * standard deviations at this age is ...") to call a reading "within 2 SD".
 *
 * Where the numbers were read (2026-11-22; the printed atlas itself was not available):
 * - dfnr2/bone-age-app, src/data/BrushFoundationData.js at commit
 *   081d346a5ca0ade7a6127f56f19e5eb63e78b264 (https://github.com/dfnr2/bone-age-app), the Brush
 *   Foundation SD table of a Greulich and Pyle bone-age calculator. Every value below was compared with
 *   it one by one and equals it.
 * - Three further public transcriptions in a code index (a bone-age web report generator, a Python
 *   growth-chart plotter, and a Python calculator that names its source as Gaskin CM, Kahn SL,
 *   Bertozzi JC, Bunch PM, "Skeletal Development of the Hand and Wrist", Oxford University Press 2011,
 *   Tables 1 and 2, pp. 8-9, "modified from Greulich and Pyle, 1959") give the same 47 SDs digit for
 *   digit; their repositories could not be identified, so they are not cited as sources.
 * - A different table also circulates as "Greulich-Pyle SDs" (boys 12 months 2.1, 18 months 2.7, ...,
 *   one decimal, from 1 year), reproduced in a pediatric-endocrinology text "with permission from
 *   Gilsanz V, Ratib O. Hand bone age. Springer 2005". It is not the Brush Foundation table and is not
 *   used here.
 *
 * Changed from the first version of this module, which was written from memory: boys at 3 months
 * 0.72 -> 0.69 (0.72 is the girls' value); girls at 204 months (6.55) removed, because the Brush
 * Foundation girls' table ends at 192 months (16 years) in every transcription found. All other 45
 * values were already equal to the source.
 *
 * Provenance flag: `GP_REFERENCE.verifiedAgainstSource` stays false. The values agree with four
 * independent transcriptions, but none of them is the atlas page, and the one that is citable by
 * repository and path does not itself state which printed table it copied; the flag turns true only
 * when someone compares the table with the atlas (or Gaskin 2011, Tables 1-2). Every SDS result carries it.
 *
 * SDS = (bone age − chronological age) / SD(chronological age, sex), with the SD linearly interpolated
 * between tabulated ages; outside the tabulated range (boys 3-204 months, girls 3-192 months) no SDS is
 * given (never extrapolated).
 */

import type { Sex } from './sex.js';

/** One row: chronological age in months and the SD of skeletal age in months at that age. */
export interface ReferenceSdRow {
  readonly ageMonths: number;
  readonly sdMonths: number;
}

/** A reference table with its citation. */
export interface BoneAgeReference {
  readonly name: string;
  readonly citation: string;
  /** False while the transcription has not been checked against the printed source. */
  readonly verifiedAgainstSource: boolean;
  readonly boys: readonly ReferenceSdRow[];
  readonly girls: readonly ReferenceSdRow[];
}

// [chronological age months, SD of skeletal age months], Brush Foundation study, as tabulated by Greulich
// and Pyle (1959); values read from dfnr2/bone-age-app src/data/BrushFoundationData.js (module comment).
// prettier-ignore
const BOYS: readonly (readonly [number, number])[] = [
  [3, 0.69], [6, 1.13], [9, 1.43], [12, 1.97], [18, 3.52], [24, 3.92], [30, 4.52], [36, 5.08],
  [42, 5.40], [48, 6.66], [54, 8.36], [60, 8.79], [72, 9.17], [84, 8.91], [96, 9.10], [108, 9.00],
  [120, 9.79], [132, 10.09], [144, 10.38], [156, 10.44], [168, 10.72], [180, 11.32], [192, 12.86], [204, 13.05],
];
// The girls' table ends at 16 years (192 months).
// prettier-ignore
const GIRLS: readonly (readonly [number, number])[] = [
  [3, 0.72], [6, 1.16], [9, 1.36], [12, 1.77], [18, 3.49], [24, 4.64], [30, 5.37], [36, 5.97],
  [42, 7.48], [48, 8.98], [54, 10.73], [60, 11.65], [72, 10.23], [84, 9.64], [96, 10.23], [108, 10.74],
  [120, 11.73], [132, 11.94], [144, 10.24], [156, 10.67], [168, 11.30], [180, 9.23], [192, 7.31],
];

const rows = (pairs: readonly (readonly [number, number])[]): readonly ReferenceSdRow[] =>
  Object.freeze(pairs.map(([ageMonths, sdMonths]) => Object.freeze({ ageMonths, sdMonths })));

/**
 * Greulich & Pyle (1959) standard deviations of skeletal age (Brush Foundation study), in months: boys 3-204
 * months (24 rows), girls 3-192 months (23 rows). Provenance and the values changed are in the module comment.
 */
export const GP_REFERENCE: BoneAgeReference = Object.freeze({
  name: 'Greulich-Pyle 1959',
  citation:
    'Greulich WW, Pyle SI. Radiographic Atlas of Skeletal Development of the Hand and Wrist, 2nd ed. Stanford University Press, 1959: standard deviations of skeletal age by chronological age (Brush Foundation study). Values as read from https://github.com/dfnr2/bone-age-app src/data/BrushFoundationData.js (commit 081d346a); not yet compared with the printed atlas',
  verifiedAgainstSource: false,
  boys: rows(BOYS),
  girls: rows(GIRLS),
});

/**
 * The reference SD in months at a chronological age, linearly interpolated; null outside the table.
 * @param chronologicalAgeMonths - the child's age
 * @param sex - M or F
 * @param reference - the table, default {@link GP_REFERENCE}
 */
export function referenceSdMonths(
  chronologicalAgeMonths: number,
  sex: Sex,
  reference: BoneAgeReference = GP_REFERENCE,
): number | null {
  const table = sex === 'M' ? reference.boys : reference.girls;
  const first = table[0];
  const last = table[table.length - 1];
  if (!first || !last || !Number.isFinite(chronologicalAgeMonths)) return null;
  if (chronologicalAgeMonths < first.ageMonths || chronologicalAgeMonths > last.ageMonths) return null;
  for (let i = 1; i < table.length; i++) {
    const hi = table[i] as ReferenceSdRow;
    const lo = table[i - 1] as ReferenceSdRow;
    if (chronologicalAgeMonths <= hi.ageMonths) {
      const t = (chronologicalAgeMonths - lo.ageMonths) / (hi.ageMonths - lo.ageMonths);
      return lo.sdMonths + t * (hi.sdMonths - lo.sdMonths);
    }
  }
  return first.sdMonths; // single-row table at exactly its age
}

/** Bone age compared with chronological age. */
export interface BoneAgeSds {
  /** Bone age − chronological age, months. */
  readonly differenceMonths: number;
  /** differenceMonths / referenceSdMonths; null outside the reference's age range. */
  readonly sds: number | null;
  readonly referenceSdMonths: number | null;
  readonly reference: string;
  readonly citation: string;
  readonly referenceVerified: boolean;
}

/**
 * Difference and SDS of a bone age against chronological age, with the source cited.
 * @param boneAgeMonths - predicted bone age
 * @param chronologicalAgeMonths - age at the study
 * @param sex - M or F
 * @param reference - the SD table, default {@link GP_REFERENCE}
 */
export function boneAgeSds(
  boneAgeMonths: number,
  chronologicalAgeMonths: number,
  sex: Sex,
  reference: BoneAgeReference = GP_REFERENCE,
): BoneAgeSds {
  const sd = referenceSdMonths(chronologicalAgeMonths, sex, reference);
  const differenceMonths = boneAgeMonths - chronologicalAgeMonths;
  return {
    differenceMonths,
    sds: sd === null ? null : differenceMonths / sd,
    referenceSdMonths: sd,
    reference: reference.name,
    citation: reference.citation,
    referenceVerified: reference.verifiedAgainstSource,
  };
}
