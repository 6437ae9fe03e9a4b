/**
 * The pairing step of knee bone age by transfer from the hand model: each knee film is paired with the hand film of
 * the same patient nearest in time within 3 months, and is labelled later with that hand's bone age.
 *
 * Why: the paper (doi 10.1177/23259671261424923) labels AP knee films of children with the bone age of a hand film
 * taken within 3 months, and leaves out children with physeal trauma, genetic disorders, skeletal dysplasias or
 * endocrinopathies; skeletal maturity moves about a month per month, so a wider window would blur the label. The
 * knee model also takes the chronological age at the knee study, so a knee without a birth date or a sex is no
 * use. What a hospital manifest leaves empty is read from the DICOM header (PS3.3 C.7.1.1 PatientBirthDate,
 * PatientSex; C.7.2.1 StudyDate; C.8.11.2 ImageLaterality, else C.7.3.1 Laterality); a manifest value that
 * contradicts its film's header is refused, never resolved by picking one.
 *
 * The manifest (`manifest.csv`, one row per film; written by `physis phantoms knee-bone-age` or by a hospital):
 *
 * | column | required | meaning |
 * |---|---|---|
 * | `patient_id` | yes | films of one patient share it |
 * | `film` | yes | the film (DICOM, PNG or JPEG), relative to the CSV; a missing file is reported by the pairing |
 * | `body_part` | yes | `hand` or `knee` |
 * | `study_date`, `birth_date` | no | `YYYY-MM-DD`; empty: the DICOM header |
 * | `sex` | no | `M` or `F`; empty: the DICOM header |
 * | `bone_age_months` | no | the radiologist's reading on a hand film, in [0, 240] |
 * | `laterality` | no | `L` or `R` (knee films); empty: the DICOM header |
 * | exclusion columns | no | `0`/`1` (empty: not flagged); default `physeal_trauma`, `genetic_disorder`, `skeletal_dysplasia`, `endocrinopathy` where present |
 * | `split` | no | `train`, `dev`, `test`, … (kept as written) |
 * | `simulated` | no | `1` for a phantom film, `0` or empty for a real one |
 *
 * @example
 * import { readFilmManifest, pairKneesWithHands, summarisePairing, writePairsCsv } from './tasks/knee-bone-age/pairing.js';
 * const result = pairKneesWithHands(await readFilmManifest('cohort/manifest.csv'));
 * summarisePairing(result);
 * // '1023 pairs (1023 knee films of 926 patients, 926 hand films); interval median 43 days, max 90 days (window 92 days). …'
 * await writePairsCsv('cohort/pairs.csv', result);
 */
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { ageMonthsBetween, csvField, dicomHeaderMetadata, looksLikeDicom, parseDicomDate } from '../../radiograph/index.js';
import { LabelsError, OutputExistsError } from '../errors.js';
import { labelsTable, readLabelsText } from '../labels-table.js';

/**
 * The pairing window, days: the paper's "within 3 months", taken as the longest 3 calendar months (92 days, e.g.
 * July–September) so that no pair 3 months apart by the calendar is dropped.
 */
export const PAIRING_WINDOW_DAYS = 92;

/** The exclusion columns read by default (those present): the paper's exclusion criteria. */
export const DEFAULT_EXCLUSION_COLUMNS = Object.freeze([
  'physeal_trauma',
  'genetic_disorder',
  'skeletal_dysplasia',
  'endocrinopathy',
] as const);

/** The largest bone-age reading accepted, months (the hand atlases end at 18–19 years; 240 leaves margin). */
const MAX_READING_MONTHS = 240;

/** One film of a paired hand/knee manifest, validated, with empty cells filled from its DICOM header. */
export interface ManifestFilm {
  /** The CSV line of its row (the header is line 1). */
  readonly row: number;
  readonly patientId: string;
  /** The file's path (a relative `film` resolved against the CSV's folder). */
  readonly path: string;
  /** `film` as written. */
  readonly film: string;
  readonly bodyPart: 'hand' | 'knee';
  /** `YYYY-MM-DD`. */
  readonly studyDate?: string;
  /** `YYYY-MM-DD`. */
  readonly birthDate?: string;
  readonly sex?: 'M' | 'F';
  /** The radiologist's bone-age reading (hand films), months. */
  readonly readingMonths?: number;
  readonly laterality?: 'L' | 'R';
  /** Names of the exclusion columns flagged (1) on this row. */
  readonly exclusions: readonly string[];
  readonly split?: string;
  readonly simulated: boolean;
  /** True when the file was not found when the manifest was read (the pairing reports it). */
  readonly missing?: boolean;
}

/** What the DICOM header says about a film (only what the pairing reads). */
interface HeaderFacts {
  readonly studyDate: string | null;
  readonly birthDate: string | null;
  readonly sex: string | null;
  readonly laterality: string | null;
}

/** `YYYY-MM-DD` that is a real calendar date (2023-02-29 is not). */
function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && parseDicomDate(value.replace(/-/g, '')) !== null;
}

/** The header facts of a DICOM film; null for a file that is not DICOM. Reads the file, never decodes pixels. */
async function headerFacts(path: string, at: string): Promise<HeaderFacts | null> {
  const bytes = await readFile(path);
  if (!looksLikeDicom(bytes)) return null;
  try {
    const { metadata } = dicomHeaderMetadata(bytes, path);
    return {
      studyDate: metadata.studyDate,
      birthDate: metadata.patientBirthDate,
      sex: metadata.patientSex,
      laterality: metadata.laterality,
    };
  } catch (e) {
    throw new LabelsError(`${at}: ${(e as Error).message}`, { cause: e });
  }
}

/** A PNG or JPEG film by its name: no header to read. */
const RASTER_NAME = /\.(png|jpe?g)$/i;

/**
 * Read and validate a paired hand/knee manifest.
 * @param csvPath - the manifest (columns in the file comment)
 * @param o - `exclusionColumns`: the 0/1 columns that exclude a patient (default: the paper's four, those present;
 *   any named column must be present)
 * @throws LabelsError naming the file and line for a missing column, an empty patient_id or film, a film listed
 *   twice, an invalid value (date, sex, body part, reading, laterality, flag, simulated), or a manifest value that
 *   contradicts the film's DICOM header (both values named)
 */
export async function readFilmManifest(csvPath: string, o: { exclusionColumns?: readonly string[] } = {}): Promise<ManifestFilm[]> {
  const { columns, records } = labelsTable(readLabelsText(csvPath, 'the manifest'), csvPath, ['patient_id', 'film', 'body_part']);
  const exclusionColumns = o.exclusionColumns ?? DEFAULT_EXCLUSION_COLUMNS.filter((c) => columns.has(c));
  const absent = exclusionColumns.filter((c) => !columns.has(c));
  if (absent.length > 0) throw new LabelsError(`${csvPath}: no exclusion column(s) ${absent.join(', ')}; header has ${[...columns.keys()].join(',')}`);
  const base = dirname(resolve(csvPath));
  const seen = new Map<string, number>();
  const films: ManifestFilm[] = [];
  for (const r of records) {
    const at = `${csvPath}:${r.line}`;
    const get = (name: string): string => {
      const i = columns.get(name);
      return i === undefined ? '' : (r.fields[i] ?? '').trim();
    };
    const patientId = get('patient_id');
    if (patientId === '') throw new LabelsError(`${at}: empty patient_id`);
    const film = get('film');
    if (film === '') throw new LabelsError(`${at}: empty film`);
    const before = seen.get(film);
    if (before !== undefined) throw new LabelsError(`${at}: film '${film}' is listed again (first on line ${before})`);
    seen.set(film, r.line);
    const bodyPart = get('body_part').toLowerCase();
    if (bodyPart !== 'hand' && bodyPart !== 'knee') throw new LabelsError(`${at}: body_part '${get('body_part')}' must be hand or knee`);
    const path = isAbsolute(film) ? film : resolve(base, film);
    const missing = !(existsSync(path) && statSync(path).isFile());
    const header = missing || RASTER_NAME.test(film) ? null : await headerFacts(path, at);

    /** A cell, else the header's value; both given and different is an error naming both. */
    const cell = (name: string, fromHeader: string | null, valid: (v: string) => boolean, expected: string): string | undefined => {
      const raw = name === 'sex' || name === 'laterality' ? get(name).toUpperCase() : get(name);
      if (raw !== '' && !valid(raw)) throw new LabelsError(`${at}: ${name} '${get(name)}' must be ${expected}`);
      if (raw !== '' && fromHeader !== null && raw !== fromHeader) {
        throw new LabelsError(`${at}: ${name} '${raw}' in the manifest contradicts '${fromHeader}' in the DICOM header of ${path}`);
      }
      if (raw !== '') return raw;
      return fromHeader !== null && valid(fromHeader) ? fromHeader : undefined;
    };
    const studyDate = cell('study_date', header?.studyDate ?? null, isIsoDate, 'a date YYYY-MM-DD');
    const birthDate = cell('birth_date', header?.birthDate ?? null, isIsoDate, 'a date YYYY-MM-DD');
    const sex = cell('sex', header?.sex ?? null, (v) => v === 'M' || v === 'F', 'M, F or empty') as 'M' | 'F' | undefined;
    const laterality = cell('laterality', header?.laterality ?? null, (v) => v === 'L' || v === 'R', 'L, R or empty') as 'L' | 'R' | undefined;

    const rawReading = get('bone_age_months');
    const readingMonths = rawReading === '' ? undefined : Number(rawReading);
    if (readingMonths !== undefined && !(Number.isFinite(readingMonths) && readingMonths >= 0 && readingMonths <= MAX_READING_MONTHS)) {
      throw new LabelsError(`${at}: bone_age_months '${rawReading}' must be a number in [0, ${MAX_READING_MONTHS}]`);
    }
    const exclusions: string[] = [];
    for (const name of exclusionColumns) {
      const v = get(name);
      if (v !== '' && v !== '0' && v !== '1') throw new LabelsError(`${at}: ${name} '${v}' must be 1, 0 or empty`);
      if (v === '1') exclusions.push(name);
    }
    const rawSimulated = get('simulated');
    if (!['', '0', '1'].includes(rawSimulated)) throw new LabelsError(`${at}: simulated '${rawSimulated}' must be 1, 0 or empty`);
    const split = get('split');
    films.push({
      row: r.line,
      patientId,
      path,
      film,
      bodyPart,
      ...(studyDate === undefined ? {} : { studyDate }),
      ...(birthDate === undefined ? {} : { birthDate }),
      ...(sex === undefined ? {} : { sex }),
      ...(readingMonths === undefined ? {} : { readingMonths }),
      ...(laterality === undefined ? {} : { laterality }),
      exclusions,
      ...(split === '' ? {} : { split }),
      simulated: rawSimulated === '1',
      ...(missing ? { missing: true } : {}),
    });
  }
  if (films.length === 0) throw new LabelsError(`${csvPath}: no films`);
  return films;
}

/** A knee film paired with its patient's hand film. */
export interface KneePair {
  readonly patientId: string;
  readonly knee: ManifestFilm;
  readonly hand: ManifestFilm;
  /** Knee study date − hand study date, days (negative: the knee came first); |intervalDays| ≤ the window. */
  readonly intervalDays: number;
  /** Chronological age at the knee study: days since birth / (365.2425 / 12). */
  readonly chronologicalAgeMonths: number;
  readonly sex: 'M' | 'F';
  /** The hand's bone-age reading, if the manifest has one. */
  readonly readingMonths?: number;
  /** The knee's side. */
  readonly laterality?: 'L' | 'R';
  readonly split?: string;
  /** Either film is a phantom. */
  readonly simulated: boolean;
}

/** Why a knee film was not paired. */
export type UnpairedKneeCause =
  | 'missing-file'
  | 'no-study-date'
  | 'no-hand'
  | 'beyond-interval'
  | 'no-birth-date'
  | 'no-sex'
  | 'inconsistent-patient';

/** Why a hand film serves no knee. */
export type UnusedHandCause = 'missing-file' | 'no-study-date' | 'no-knee' | 'beyond-interval' | 'nearer-hand' | 'knees-unpaired';

/** The pairs, and every film of the manifest that did not make one, with the reason. */
export interface PairingResult {
  readonly pairs: readonly KneePair[];
  readonly unpairedKnees: readonly { readonly film: ManifestFilm; readonly cause: UnpairedKneeCause; readonly reason: string }[];
  readonly unusedHands: readonly { readonly film: ManifestFilm; readonly cause: UnusedHandCause; readonly reason: string }[];
  /** Patients with an exclusion flag on any film: every film of theirs is left out. */
  readonly excluded: readonly { readonly patientId: string; readonly films: number; readonly reasons: readonly string[] }[];
  /** The window the pairs were made with, days. */
  readonly maxIntervalDays: number;
}

const DAY_MS = 86_400_000;

/** Days from `a` to `b` (ISO dates). */
function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

type Dated = ManifestFilm & { readonly studyDate: string };
const isDatedPresent = (f: ManifestFilm): f is Dated => f.studyDate !== undefined && f.missing !== true;

/** The hand nearest in time to a knee study (tie: the earlier hand, then the earlier row). */
function nearestHand(knee: Dated, hands: readonly Dated[]): { hand: Dated; intervalDays: number } | null {
  let best: { hand: Dated; intervalDays: number } | null = null;
  for (const hand of hands) {
    const intervalDays = daysBetween(hand.studyDate, knee.studyDate);
    if (best === null || Math.abs(intervalDays) < Math.abs(best.intervalDays) || (Math.abs(intervalDays) === Math.abs(best.intervalDays) && intervalDays > best.intervalDays)) {
      best = { hand, intervalDays };
    }
  }
  return best;
}

/** A patient value the knee and hand rows give: the knee's, else the hand's; both and different is a conflict. */
function patientValue<T extends string>(knee: T | undefined, hand: T | undefined): { value?: T; conflict?: string } {
  if (knee !== undefined && hand !== undefined && knee !== hand) return { conflict: `${knee} on the knee row, ${hand} on the hand row` };
  const value = knee ?? hand;
  return value === undefined ? {} : { value };
}

/**
 * Pair each knee film with its patient's hand film nearest in time within the window.
 *
 * A hand may serve several knees (left and right, repeat visits). A patient with any exclusion flag on any film is
 * left out entirely. A knee is unpaired, with the reason, when its file is missing, it has no study date, its
 * patient has no usable hand, the nearest hand is beyond the window (the distance is given), or its patient's birth
 * date or sex is unknown or differs between the knee and hand rows (the knee model needs both).
 * @param films - the manifest's films (readFilmManifest)
 * @param o - `maxIntervalDays`: the window, days (default {@link PAIRING_WINDOW_DAYS} = 92, the paper's 3 months)
 * @throws RangeError for a window that is not a number ≥ 0
 *
 * @example
 * const r = pairKneesWithHands(films);
 * // on the phantom cohort of 1023 RSNA hands (seed 1):
 * // r.pairs[0] -> { patientId: 'RSNA1377', intervalDays: 2, chronologicalAgeMonths: 163.81…, sex: 'F', readingMonths: 180, laterality: 'R', … }
 */
export function pairKneesWithHands(films: readonly ManifestFilm[], o: { maxIntervalDays?: number } = {}): PairingResult {
  const maxIntervalDays = o.maxIntervalDays ?? PAIRING_WINDOW_DAYS;
  if (!(Number.isFinite(maxIntervalDays) && maxIntervalDays >= 0)) throw new RangeError(`maxIntervalDays ${maxIntervalDays} must be a number ≥ 0`);
  const byPatient = new Map<string, ManifestFilm[]>();
  for (const f of films) byPatient.set(f.patientId, [...(byPatient.get(f.patientId) ?? []), f]);

  const pairs: KneePair[] = [];
  const unpairedKnees: PairingResult['unpairedKnees'][number][] = [];
  const unusedHands: PairingResult['unusedHands'][number][] = [];
  const excluded: PairingResult['excluded'][number][] = [];
  for (const [patientId, own] of byPatient) {
    const flags = [...new Set(own.flatMap((f) => f.exclusions))].sort();
    if (flags.length > 0) {
      excluded.push({ patientId, films: own.length, reasons: flags });
      continue;
    }
    const hands = own.filter((f) => f.bodyPart === 'hand');
    const usableHands = hands.filter(isDatedPresent);
    const knees = own.filter((f) => f.bodyPart === 'knee');
    const used = new Set<ManifestFilm>();
    for (const knee of knees) {
      const unpaired = (cause: UnpairedKneeCause, reason: string): void => void unpairedKnees.push({ film: knee, cause, reason });
      if (knee.missing === true) {
        unpaired('missing-file', `file not found: ${knee.path}`);
        continue;
      }
      if (!isDatedPresent(knee)) {
        unpaired('no-study-date', 'no study date in the manifest or the DICOM header');
        continue;
      }
      const nearest = nearestHand(knee, usableHands);
      if (nearest === null) {
        unpaired('no-hand', hands.length === 0 ? `no hand film of patient ${patientId}` : `patient ${patientId}'s hand film(s) are missing or undated`);
        continue;
      }
      const { hand, intervalDays } = nearest;
      if (Math.abs(intervalDays) > maxIntervalDays) {
        unpaired('beyond-interval', `nearest hand film ${hand.film} is ${Math.abs(intervalDays)} days away (window ${maxIntervalDays} days)`);
        continue;
      }
      const birth = patientValue(knee.birthDate, hand.birthDate);
      const sex = patientValue(knee.sex, hand.sex);
      if (birth.conflict !== undefined || sex.conflict !== undefined) {
        unpaired('inconsistent-patient', birth.conflict !== undefined ? `birth date ${birth.conflict}` : `sex ${sex.conflict ?? ''}`);
        continue;
      }
      if (birth.value === undefined) {
        unpaired('no-birth-date', 'no birth date on the knee or hand row or in the DICOM header: chronological age unknown');
        continue;
      }
      const chronologicalAgeMonths = ageMonthsBetween(birth.value, knee.studyDate);
      if (chronologicalAgeMonths === null) {
        unpaired('inconsistent-patient', `knee study ${knee.studyDate} precedes birth ${birth.value}`);
        continue;
      }
      if (sex.value === undefined) {
        unpaired('no-sex', 'no sex on the knee or hand row or in the DICOM header');
        continue;
      }
      used.add(hand);
      const split = knee.split ?? hand.split;
      pairs.push({
        patientId,
        knee,
        hand,
        intervalDays,
        chronologicalAgeMonths,
        sex: sex.value,
        ...(hand.readingMonths === undefined ? {} : { readingMonths: hand.readingMonths }),
        ...(knee.laterality === undefined ? {} : { laterality: knee.laterality }),
        ...(split === undefined ? {} : { split }),
        simulated: knee.simulated || hand.simulated,
      });
    }
    for (const hand of hands) {
      if (used.has(hand)) continue;
      const unused = (cause: UnusedHandCause, reason: string): void => void unusedHands.push({ film: hand, cause, reason });
      if (hand.missing === true) unused('missing-file', `file not found: ${hand.path}`);
      else if (!isDatedPresent(hand)) unused('no-study-date', 'no study date in the manifest or the DICOM header');
      else if (knees.length === 0) unused('no-knee', `no knee film of patient ${patientId}`);
      else {
        const within = (k: ManifestFilm): boolean => k.studyDate !== undefined && Math.abs(daysBetween(hand.studyDate, k.studyDate)) <= maxIntervalDays;
        const causes = [...new Set(unpairedKnees.filter((u) => u.film.patientId === patientId && (u.film.studyDate === undefined || within(u.film))).map((u) => u.cause))];
        if (knees.some((k) => k.studyDate !== undefined) && !knees.some(within)) unused('beyond-interval', `no knee film of patient ${patientId} within ${maxIntervalDays} days`);
        else if (causes.length === 0 && knees.some(within)) unused('nearer-hand', 'another hand film is nearer to each knee film of the patient within the window');
        else unused('knees-unpaired', `the patient's knee films are unpaired (${causes.join(', ')})`);
      }
    }
  }
  const byRow = (a: { row: number }, b: { row: number }): number => a.row - b.row;
  pairs.sort((a, b) => byRow(a.knee, b.knee));
  unpairedKnees.sort((a, b) => byRow(a.film, b.film));
  unusedHands.sort((a, b) => byRow(a.film, b.film));
  return { pairs, unpairedKnees, unusedHands, excluded, maxIntervalDays };
}

/** The counts a pairing is judged by (what `physis pair --json` prints). */
export interface PairingCounts {
  readonly pairs: number;
  readonly patients: number;
  readonly handFilms: number;
  readonly unpairedKnees: number;
  readonly unpairedKneesByCause: Readonly<Partial<Record<UnpairedKneeCause, number>>>;
  readonly unusedHands: number;
  readonly unusedHandsByCause: Readonly<Partial<Record<UnusedHandCause, number>>>;
  readonly excludedPatients: number;
  readonly excludedFilms: number;
  /** Patients flagged in each exclusion column. */
  readonly excludedByColumn: Readonly<Partial<Record<string, number>>>;
  /** Median and largest |interval| of the pairs, days (null without pairs). */
  readonly intervalDaysMedian: number | null;
  readonly intervalDaysMax: number | null;
  readonly maxIntervalDays: number;
}

function tally<K extends string>(keys: readonly K[]): Partial<Record<K, number>> {
  const counts: Partial<Record<K, number>> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
}

/**
 * Count a pairing's outcome.
 * @param result - pairKneesWithHands' result
 */
export function countPairing(result: PairingResult): PairingCounts {
  const intervals = result.pairs.map((p) => Math.abs(p.intervalDays)).sort((a, b) => a - b);
  const mid = intervals.length >> 1;
  const median = intervals.length === 0 ? null : intervals.length % 2 === 1 ? (intervals[mid] ?? 0) : ((intervals[mid - 1] ?? 0) + (intervals[mid] ?? 0)) / 2;
  return {
    pairs: result.pairs.length,
    patients: new Set(result.pairs.map((p) => p.patientId)).size,
    handFilms: new Set(result.pairs.map((p) => p.hand)).size,
    unpairedKnees: result.unpairedKnees.length,
    unpairedKneesByCause: tally(result.unpairedKnees.map((u) => u.cause)),
    unusedHands: result.unusedHands.length,
    unusedHandsByCause: tally(result.unusedHands.map((u) => u.cause)),
    excludedPatients: result.excluded.length,
    excludedFilms: result.excluded.reduce((n, e) => n + e.films, 0),
    excludedByColumn: tally(result.excluded.flatMap((e) => e.reasons)),
    intervalDaysMedian: median,
    intervalDaysMax: intervals.length === 0 ? null : (intervals[intervals.length - 1] ?? 0),
    maxIntervalDays: result.maxIntervalDays,
  };
}

/** `a 2, b 1` from a tally, largest first. */
function listCounts(counts: Readonly<Partial<Record<string, number>>>): string {
  return Object.entries(counts)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0) || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n ?? 0}`)
    .join(', ');
}

/**
 * One paragraph on a pairing: pairs, patients, unpaired knees and unused hands by cause, exclusions by column, and
 * the median and largest interval.
 * @param result - pairKneesWithHands' result
 *
 * @example
 * summarisePairing(result) // the manifest of test/tasks/knee-bone-age/pairing.test.ts
 * // '6 pairs (6 knee films of 5 patients, 5 hand films); interval median 52.5 days, max 92 days (window 92 days).
 * //  Unpaired knees: 5 (no-hand 2, beyond-interval 1, missing-file 1, no-birth-date 1). Unused hands: 7 (beyond-interval 2,
 * //  knees-unpaired 2, missing-file 1, nearer-hand 1, no-knee 1). Excluded: 1 patient (2 films; physeal_trauma 1).'
 */
export function summarisePairing(result: PairingResult): string {
  const c = countPairing(result);
  const s = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const interval = c.intervalDaysMedian === null ? 'no intervals' : `interval median ${c.intervalDaysMedian} days, max ${c.intervalDaysMax ?? 0} days`;
  const parts = [
    `${s(c.pairs, 'pair')} (${s(c.pairs, 'knee film')} of ${s(c.patients, 'patient')}, ${s(c.handFilms, 'hand film')}); ${interval} (window ${c.maxIntervalDays} days).`,
    `Unpaired knees: ${c.unpairedKnees}${c.unpairedKnees === 0 ? '' : ` (${listCounts(c.unpairedKneesByCause)})`}.`,
    `Unused hands: ${c.unusedHands}${c.unusedHands === 0 ? '' : ` (${listCounts(c.unusedHandsByCause)})`}.`,
    `Excluded: ${s(c.excludedPatients, 'patient')}${c.excludedPatients === 0 ? '' : ` (${s(c.excludedFilms, 'film')}; ${listCounts(c.excludedByColumn)})`}.`,
  ];
  return parts.join(' ');
}

/** The header of `pairs.csv`, exactly. */
export const PAIRS_CSV_HEADER = 'patient_id,knee_film,hand_film,interval_days,chronological_age_months,sex,laterality,reading_months,split,simulated';

/** A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */

/**
 * Write the pairs as `pairs.csv` (film paths relative to its folder, with forward slashes).
 * @param path - the CSV to write
 * @param result - pairKneesWithHands' result
 * @param o - `force`: overwrite an existing file
 * @throws OutputExistsError when the file exists and `force` is not set
 */
export async function writePairsCsv(path: string, result: PairingResult, o: { force?: boolean } = {}): Promise<void> {
  if (existsSync(path) && o.force !== true) throw new OutputExistsError(`${path} exists; pass force (--force) to overwrite it`);
  const base = dirname(resolve(path));
  const rel = (film: ManifestFilm): string => relative(base, film.path).split(sep).join('/');
  const lines = [PAIRS_CSV_HEADER];
  for (const p of result.pairs) {
    lines.push(
      [
        p.patientId,
        rel(p.knee),
        rel(p.hand),
        String(p.intervalDays),
        p.chronologicalAgeMonths.toFixed(2),
        p.sex,
        p.laterality ?? '',
        p.readingMonths === undefined ? '' : String(p.readingMonths),
        p.split ?? '',
        p.simulated ? '1' : '0',
      ]
        .map(csvField)
        .join(','),
    );
  }
  await writeFile(path, `${lines.join('\n')}\n`);
}

/** One row of `pairs.csv` read back: a {@link KneePair} with the films as paths. */
export interface PairRow {
  /** The CSV line of its row. */
  readonly row: number;
  readonly patientId: string;
  /** `knee_film` as written, and resolved against the CSV's folder. */
  readonly kneeFilm: string;
  readonly kneePath: string;
  readonly handFilm: string;
  readonly handPath: string;
  readonly intervalDays: number;
  readonly chronologicalAgeMonths: number;
  readonly sex: 'M' | 'F';
  readonly laterality?: 'L' | 'R';
  readonly readingMonths?: number;
  readonly split?: string;
  readonly simulated: boolean;
}

/**
 * Read `pairs.csv` back (for a step that starts from pairs instead of a manifest).
 * @param path - a file written by writePairsCsv
 * @throws LabelsError naming the file and line for a missing column or an invalid value
 */
export function readPairsCsv(path: string): PairRow[] {
  const { columns, records } = labelsTable(readLabelsText(path, 'the pairs'), path, PAIRS_CSV_HEADER.split(','));
  const base = dirname(resolve(path));
  return records.map((r): PairRow => {
    const at = `${path}:${r.line}`;
    const get = (name: string): string => (r.fields[columns.get(name) ?? -1] ?? '').trim();
    const num = (name: string, ok: (n: number) => boolean): number => {
      const v = Number(get(name));
      if (get(name) === '' || !Number.isFinite(v) || !ok(v)) throw new LabelsError(`${at}: ${name} '${get(name)}' is not a valid number`);
      return v;
    };
    const sex = get('sex');
    if (sex !== 'M' && sex !== 'F') throw new LabelsError(`${at}: sex '${sex}' must be M or F`);
    const laterality = get('laterality');
    if (laterality !== '' && laterality !== 'L' && laterality !== 'R') throw new LabelsError(`${at}: laterality '${laterality}' must be L, R or empty`);
    const simulated = get('simulated');
    if (simulated !== '0' && simulated !== '1') throw new LabelsError(`${at}: simulated '${simulated}' must be 0 or 1`);
    const kneeFilm = get('knee_film');
    const handFilm = get('hand_film');
    if (kneeFilm === '' || handFilm === '' || get('patient_id') === '') throw new LabelsError(`${at}: empty patient_id, knee_film or hand_film`);
    const split = get('split');
    return {
      row: r.line,
      patientId: get('patient_id'),
      kneeFilm,
      kneePath: isAbsolute(kneeFilm) ? kneeFilm : resolve(base, kneeFilm),
      handFilm,
      handPath: isAbsolute(handFilm) ? handFilm : resolve(base, handFilm),
      intervalDays: num('interval_days', Number.isInteger),
      chronologicalAgeMonths: num('chronological_age_months', (n) => n >= 0),
      sex,
      ...(laterality === '' ? {} : { laterality }),
      ...(get('reading_months') === '' ? {} : { readingMonths: num('reading_months', (n) => n >= 0 && n <= MAX_READING_MONTHS) }),
      ...(split === '' ? {} : { split }),
      simulated: simulated === '1',
    };
  });
}
