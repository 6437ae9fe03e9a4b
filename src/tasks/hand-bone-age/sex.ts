/**
 * Sex for the bone-age model: parsed strictly and resolved from the command line, a manifest or the
 * DICOM header, in that order, and never defaulted.
 *
 * Why: Greulich-Pyle standards differ by sex (girls mature earlier), and the hand model takes sex as an
 * input; a silent default would shift every prediction for the other sex. When no source knows the sex,
 * the caller predicts both and reports `sexSource: 'unknown'` (issue 5). DICOM PatientSex (0010,0040)
 * may be M, F or O (PS3.3 C.7.1.1); O and empty are treated as unknown.
 */
import type { PatientSex } from '../../radiograph/index.js';
import { SexError } from '../errors.js';

/** The two sexes the Greulich-Pyle standards and the model distinguish. */
export type Sex = 'M' | 'F';

/** Where a resolved sex came from. */
export type SexSource = 'cli' | 'manifest' | 'dicom' | 'unknown';

/** A resolved sex: `sex` is null exactly when `sexSource` is `unknown`. */
export interface ResolvedSex {
  readonly sex: Sex | null;
  readonly sexSource: SexSource;
  /** Set when two sources disagree; the higher-priority one wins and this says so. */
  readonly conflict?: string;
}

/**
 * Read M/F from common spellings (`M`, `F`, `male`, `female`, any case); anything else is null.
 * @param value - the raw text
 */
export function parseSex(value: string | null | undefined): Sex | null {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'm' || v === 'male') return 'M';
  if (v === 'f' || v === 'female') return 'F';
  return null;
}

/**
 * Parse a required sex (command line `--sex`), throwing SexError for anything but M/F.
 * @param value - the raw text
 * @param what - where it came from, for the message
 */
export function requireSex(value: string, what: string): Sex {
  const s = parseSex(value);
  if (s === null) throw new SexError(`${what} '${value}' is not a sex; use M or F (or leave it out to predict both)`);
  return s;
}

/** The sources {@link resolveSex} considers, highest priority first. */
export interface SexSources {
  /** `--sex` on the command line (already validated). */
  readonly cli?: Sex | null;
  /** The manifest's `sex` column, raw. */
  readonly manifest?: string | null;
  /** DICOM PatientSex. */
  readonly dicom?: PatientSex | null;
}

/**
 * Resolve sex from the command line, then the manifest, then DICOM PatientSex; unknown when none says.
 * @param sources - the available values
 */
export function resolveSex(sources: SexSources): ResolvedSex {
  const candidates: [SexSource, Sex | null][] = [
    ['cli', sources.cli ?? null],
    ['manifest', parseSex(sources.manifest)],
    ['dicom', sources.dicom === 'M' || sources.dicom === 'F' ? sources.dicom : null],
  ];
  const known = candidates.filter((c): c is [SexSource, Sex] => c[1] !== null);
  const first = known[0];
  if (!first) return { sex: null, sexSource: 'unknown' };
  const other = known.find((c) => c[1] !== first[1]);
  return other
    ? { sex: first[1], sexSource: first[0], conflict: `${first[0]} says ${first[1]} but ${other[0]} says ${other[1]}; using ${first[0]}` }
    : { sex: first[1], sexSource: first[0] };
}
