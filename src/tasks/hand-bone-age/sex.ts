/**
 * Sex for the bone-age model: parsed strictly and resolved from the command line, a manifest or the
 * DICOM header, in that order, and never defaulted.
 *
 * Why: Greulich-Pyle standards differ by sex (girls mature earlier), and the hand model takes sex as an
 * input; a silent default would shift every prediction for the other sex. When no source knows the sex,
 * the caller predicts both and reports `sexSource: 'unknown'`. DICOM PatientSex (0010,0040)
 * may be M, F or O (PS3.3 C.7.1.1); O and empty are treated as unknown.
 */
import { SexError } from '../errors.js';

/** The two sexes the Greulich-Pyle standards and the model distinguish. */
export type Sex = 'M' | 'F';

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
