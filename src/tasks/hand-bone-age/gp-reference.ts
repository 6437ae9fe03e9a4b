/**
 * Greulich-Pyle reference standard deviations of skeletal age by chronological age and sex, and the
 * bone-age standard deviation score (SDS) computed from them.
 *
 * Source: W. W. Greulich and S. I. Pyle, "Radiographic Atlas of Skeletal Development of the Hand and
 * Wrist", 2nd ed., Stanford University Press, 1959 — the table of standard deviations of skeletal age
 * (in months) for each chronological age group of the Brush Foundation study children. These are the
 * SDs that bone-age reports quote to call a reading "within 2 SD".
 *
 * Provenance caveat (kept visible on purpose): the values below were transcribed from that widely
 * reproduced atlas table from the author's recollection while writing this module; no printed copy was
 * available to check them against in this session. `GP_REFERENCE.verifiedAgainstSource` is false until
 * someone compares them with the atlas page and flips it; every SDS result carries that flag.
 *
 * SDS = (bone age − chronological age) / SD(chronological age, sex), with the SD linearly interpolated
 * between tabulated ages; outside the tabulated range no SDS is given (never extrapolated).
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

const AGES_MONTHS = [3, 6, 9, 12, 18, 24, 30, 36, 42, 48, 54, 60, 72, 84, 96, 108, 120, 132, 144, 156, 168, 180, 192, 204];
// prettier-ignore
const BOYS_SD = [0.72, 1.13, 1.43, 1.97, 3.52, 3.92, 4.52, 5.08, 5.40, 6.66, 8.36, 8.79, 9.17, 8.91, 9.10, 9.00, 9.79, 10.09, 10.38, 10.44, 10.72, 11.32, 12.86, 13.05];
// prettier-ignore
const GIRLS_SD = [0.72, 1.16, 1.36, 1.77, 3.49, 4.64, 5.37, 5.97, 7.48, 8.98, 10.73, 11.65, 10.23, 9.64, 10.23, 10.74, 11.73, 11.94, 10.24, 10.67, 11.30, 9.23, 7.31, 6.55];

const rows = (sds: readonly number[]): ReferenceSdRow[] =>
  AGES_MONTHS.map((ageMonths, i) => Object.freeze({ ageMonths, sdMonths: sds[i] as number }));

/** Greulich & Pyle (1959) standard deviations of skeletal age (Brush Foundation study), in months. */
export const GP_REFERENCE: BoneAgeReference = Object.freeze({
  name: 'Greulich-Pyle 1959',
  citation:
    'Greulich WW, Pyle SI. Radiographic Atlas of Skeletal Development of the Hand and Wrist, 2nd ed. Stanford University Press, 1959: standard deviations of skeletal age by chronological age (Brush Foundation study)',
  verifiedAgainstSource: false,
  boys: Object.freeze(rows(BOYS_SD)),
  girls: Object.freeze(rows(GIRLS_SD)),
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
