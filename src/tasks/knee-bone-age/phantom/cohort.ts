/**
 * Write a semi-synthetic paired hand/knee cohort: every real RSNA hand film of a hands folder is one patient,
 * paired with phantom AP knee films rendered at that child's skeletal age, and a `manifest.csv` with one row per
 * film in the shape a hospital export of paired studies takes.
 *
 * Why: knee bone age by transfer from the hand model (doi 10.1177/23259671261424923) labels each knee film of a
 * patient ≤ 18 years with the bone age read on a hand film taken within 3 months; no public paediatric knee films
 * with bone age exist, so the pairing, pseudo-labelling and training code is validated on real hands paired with
 * simulated knees. What the pairing must cope with is built in: knees beyond the 3-month window, patients with an
 * exclusion flag, knees without a hand and hands without a knee, and patients with two knee films. Hands are
 * referenced in place (never copied: RSNA terms), by paths relative to the manifest.
 *
 * The generative story, per patient: chronological age = hand bone age − deviation, the deviation drawn from the
 * spread of skeletal about chronological age in the Greulich & Pyle standards (Greulich & Pyle, Radiographic
 * Atlas of Skeletal Development of the Hand and Wrist, 2nd ed. 1959: SDs of ≈ 3 months at 1 year rising to ≈ 10–12
 * months at 10–15 years, read approximately from the atlas' tables); knee skeletal age = hand bone age + knee–hand
 * discordance ~ Normal(0, 6 months) (an assumption of this generator: indicators of one child's hand and knee
 * agree closely but not exactly, Roche et al. 1975 report knee and hand–wrist skeletal ages correlating highly),
 * plus the time between the hand and knee studies.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  DAYS_PER_MONTH,
  PhantomRandom,
  encodeMaskPng,
  encodeStoredPng,
  mixPhantomSeed,
  parseCsvTable,
  uidFrom,
} from '../../../radiograph/index.js';
import { encodeKneePhantomDicom } from './dicom-writer.js';
import { HandsFolderError, KneeCohortExistsError, KneePhantomOptionsError } from './errors.js';
import { drawKneeTraits, MAX_KNEE_SKELETAL_AGE_MONTHS } from './growth.js';
import { renderKneePhantom, type KneeLaterality } from './render.js';

/** Version of the generator, written into COHORT.md and each DICOM's DerivationDescription. */
export const KNEE_PHANTOM_GENERATOR_VERSION = '1.0.0';

/** The header of `manifest.csv`, exactly. */
export const KNEE_MANIFEST_HEADER =
  'patient_id,film,body_part,study_date,birth_date,sex,bone_age_months,laterality,physeal_trauma,genetic_disorder,skeletal_dysplasia,endocrinopathy,split,simulated,knee_skeletal_age_months';

/** The exclusion columns of the manifest (0/1), in order. */
export const KNEE_EXCLUSION_COLUMNS = Object.freeze([
  'physeal_trauma',
  'genetic_disorder',
  'skeletal_dysplasia',
  'endocrinopathy',
] as const);

/** Fractions of patients in each special case (the brief of the validation cohort). */
export const KNEE_COHORT_RATES = Object.freeze({
  /** Knee taken 100–400 days from the hand (pairing must drop it: beyond 3 months). */
  lateKnee: 0.05,
  /** Flagged in one exclusion column. */
  excluded: 0.03,
  /** Extra patients with a knee and no hand, as a fraction of the hands. */
  kneeOnly: 0.03,
  /** Hands with no knee film. */
  handOnly: 0.03,
  /** Patients with two knee films (left and right the same day, or a repeat visit). */
  twoKnees: 0.1,
});

/** SD of the knee–hand skeletal-age discordance, months (an assumption; see the file comment). */
export const KNEE_HAND_DISCORDANCE_SD_MONTHS = 6;

/** What cohort to write. */
export interface KneeCohortOptions {
  /** Folder of real hand films with `labels.csv` (`file,rsna_id,boneage_months,sex,split`). */
  readonly handsDir: string;
  /** Folder to write; refused (KneeCohortExistsError) if it exists and is not empty, unless `force`. */
  readonly outDir: string;
  readonly seed: number;
  /** Film side, pixels (default 256). */
  readonly size?: number;
  readonly format: 'dicom' | 'png';
  /** Use only the first N hands (default: all). */
  readonly maxHands?: number;
  readonly force?: boolean;
}

/** What was written. */
export interface KneeCohortResult {
  /** Path of manifest.csv. */
  readonly manifestCsv: string;
  readonly patients: number;
  readonly handFilms: number;
  readonly kneeFilms: number;
  readonly kneeOnlyPatients: number;
  readonly handOnlyPatients: number;
  readonly lateKneePatients: number;
  readonly excludedPatients: number;
  readonly twoKneePatients: number;
}

/** Day 0 of the study-date range (hand studies fall in 2015–2024). */
const EPOCH_MS = Date.UTC(2015, 0, 1);
const DAY_MS = 86_400_000;
const STUDY_RANGE_DAYS = Math.round((Date.UTC(2025, 0, 1) - EPOCH_MS) / DAY_MS);

/** `YYYY-MM-DD` of a day number (days from 2015-01-01; negative before it). */
function isoDate(day: number): string {
  return new Date(EPOCH_MS + day * DAY_MS).toISOString().slice(0, 10);
}

/**
 * SD of skeletal about chronological age, months, by age (Greulich & Pyle 1959; approximate, both sexes, boys
 * ≈ 0.5 month larger in adolescence).
 */
const GP_SD_MONTHS: readonly (readonly [number, number])[] = [
  [0, 2],
  [12, 3],
  [24, 5],
  [48, 8],
  [72, 9],
  [120, 10.5],
  [156, 11],
  [180, 10.5],
  [216, 9],
];

function gpSdMonths(ageMonths: number, sex: 'M' | 'F'): number {
  let sd = GP_SD_MONTHS[GP_SD_MONTHS.length - 1]?.[1] ?? 9;
  for (let i = 1; i < GP_SD_MONTHS.length; i++) {
    const [a0, s0] = GP_SD_MONTHS[i - 1] ?? [0, 0];
    const [a1, s1] = GP_SD_MONTHS[i] ?? [0, 0];
    if (ageMonths <= a1) {
      sd = s0 + ((s1 - s0) * Math.max(0, ageMonths - a0)) / (a1 - a0);
      break;
    }
  }
  return sex === 'M' && ageMonths >= 132 ? sd + 0.5 : sd;
}

/** One hand of the hands folder. */
interface Hand {
  readonly file: string;
  readonly rsnaId: string;
  readonly boneAgeMonths: number;
  readonly sex: 'M' | 'F';
  readonly split: string;
}

async function readHands(handsDir: string, maxHands: number | undefined): Promise<Hand[]> {
  const path = join(handsDir, 'labels.csv');
  if (!existsSync(path))
    throw new HandsFolderError(`${path} not found; expected a hands folder with labels.csv`);
  const table = parseCsvTable(await readFile(path, 'utf8'), path, [
    'file',
    'rsna_id',
    'boneage_months',
    'sex',
    'split',
  ]);
  const col = (name: string): number => table.columns.get(name) ?? -1;
  const hands: Hand[] = [];
  for (const rec of table.records) {
    if (maxHands !== undefined && hands.length >= maxHands) break;
    const f = (name: string): string => (rec.fields[col(name)] ?? '').trim();
    const boneAgeMonths = Number(f('boneage_months'));
    const sex = f('sex');
    if (!Number.isFinite(boneAgeMonths) || boneAgeMonths < 0)
      throw new HandsFolderError(
        `${path}:${rec.line}: boneage_months '${f('boneage_months')}' is not a number ≥ 0`,
      );
    if (sex !== 'M' && sex !== 'F')
      throw new HandsFolderError(`${path}:${rec.line}: sex '${sex}' is not M or F`);
    const file = f('file');
    if (!existsSync(join(handsDir, file)))
      throw new HandsFolderError(`${path}:${rec.line}: ${file} not found`);
    hands.push({ file, rsnaId: f('rsna_id'), boneAgeMonths, sex, split: f('split') || 'train' });
  }
  if (hands.length === 0) throw new HandsFolderError(`${path} lists no hands`);
  return hands;
}

/** One knee film of the plan. */
interface KneeFilm {
  readonly laterality: KneeLaterality;
  readonly studyDay: number;
  readonly skeletalAgeMonths: number;
}

/** One patient of the plan. */
interface Patient {
  readonly index: number;
  readonly patientId: string;
  readonly sex: 'M' | 'F';
  readonly birthDay: number;
  readonly split: string;
  readonly hand: (Hand & { readonly studyDay: number }) | null;
  readonly knees: readonly KneeFilm[];
  /** Index into KNEE_EXCLUSION_COLUMNS, or −1. */
  readonly exclusion: number;
  readonly late: boolean;
}

const clampAge = (m: number): number => Math.max(0, Math.min(MAX_KNEE_SKELETAL_AGE_MONTHS, m));

function planPatients(hands: readonly Hand[], seed: number): Patient[] {
  const rates = KNEE_COHORT_RATES;
  const patients: Patient[] = [];
  hands.forEach((hand, i) => {
    const r = new PhantomRandom(mixPhantomSeed(seed, 0xc0, i));
    const deviation = gpSdMonths(hand.boneAgeMonths, hand.sex) * r.normal();
    const chronologicalMonths = clampAge(hand.boneAgeMonths - deviation);
    const handDay = r.int(STUDY_RANGE_DAYS);
    const birthDay = handDay - Math.round(chronologicalMonths * DAYS_PER_MONTH);
    const kneeBaseMonths = hand.boneAgeMonths + KNEE_HAND_DISCORDANCE_SD_MONTHS * r.normal();
    const handOnly = r.float() < rates.handOnly;
    const late = !handOnly && r.float() < rates.lateKnee;
    const two = !handOnly && r.float() < rates.twoKnees;
    const exclusion = r.float() < rates.excluded ? r.int(KNEE_EXCLUSION_COLUMNS.length) : -1;
    const knees: KneeFilm[] = [];
    if (!handOnly) {
      const sign = r.float() < 0.5 ? -1 : 1;
      const gapDays = late ? r.int(301) + 100 : r.int(91);
      const day = handDay + sign * gapDays;
      const side: KneeLaterality = r.float() < 0.5 ? 'L' : 'R';
      const at = (d: number, l: KneeLaterality): KneeFilm => ({
        laterality: l,
        studyDay: d,
        // the knee matures with time between the studies, a month per month on average
        skeletalAgeMonths: clampAge(kneeBaseMonths + (d - handDay) / DAYS_PER_MONTH),
      });
      knees.push(at(day, side));
      if (two) {
        // half: the other knee the same day; half: the same knee at a repeat visit within the window
        if (r.float() < 0.5) knees.push(at(day, side === 'L' ? 'R' : 'L'));
        else knees.push(at(handDay + (r.float() < 0.5 ? -1 : 1) * r.int(91), side));
      }
    }
    patients.push({
      index: i,
      patientId: `RSNA${hand.rsnaId}`,
      sex: hand.sex,
      birthDay,
      split: hand.split,
      hand: { ...hand, studyDay: handDay },
      knees,
      exclusion,
      late,
    });
  });
  const extra = Math.max(1, Math.round(rates.kneeOnly * hands.length));
  for (let j = 0; j < extra; j++) {
    const index = hands.length + j;
    const r = new PhantomRandom(mixPhantomSeed(seed, 0xc1, j));
    const sex: 'M' | 'F' = r.float() < 0.5 ? 'M' : 'F';
    const skeletalAgeMonths = r.uniform(12, MAX_KNEE_SKELETAL_AGE_MONTHS);
    const chronologicalMonths = clampAge(skeletalAgeMonths - gpSdMonths(skeletalAgeMonths, sex) * r.normal());
    const day = r.int(STUDY_RANGE_DAYS);
    patients.push({
      index,
      patientId: `KNEEONLY${String(j + 1).padStart(4, '0')}`,
      sex,
      birthDay: day - Math.round(chronologicalMonths * DAYS_PER_MONTH),
      split: 'train',
      hand: null,
      knees: [{ laterality: r.float() < 0.5 ? 'L' : 'R', studyDay: day, skeletalAgeMonths }],
      exclusion: -1,
      late: false,
    });
  }
  return patients;
}

/** Refuse a used folder unless forced; with force, clear only what a cohort writes. */
async function prepareOutDir(outDir: string, force: boolean): Promise<void> {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    if (!force)
      throw new KneeCohortExistsError(
        `${outDir} exists and is not empty; pass force to overwrite the cohort`,
      );
    for (const name of ['knees', 'masks', 'manifest.csv', 'COHORT.md'])
      await rm(join(outDir, name), { recursive: true, force: true });
  }
  await mkdir(join(outDir, 'knees'), { recursive: true });
  await mkdir(join(outDir, 'masks'), { recursive: true });
}

/**
 * Write a paired hand/knee cohort.
 * @param o - hands folder, output folder, seed, film size and format
 * @param onProgress - called after each knee film with (films done, knee films in all)
 *
 * @example
 * const r = await writeKneePhantomCohort({ handsDir: '../shared/data/rsna-hand', outDir: 'out/knees', seed: 1, format: 'dicom' });
 * // r.handFilms === 1023, r.kneeFilms ≈ 1100, manifest at out/knees/manifest.csv
 */
export async function writeKneePhantomCohort(
  o: KneeCohortOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<KneeCohortResult> {
  if (o.format !== 'dicom' && o.format !== 'png')
    throw new KneePhantomOptionsError(`format ${String(o.format)} is not dicom or png`);
  if (!Number.isFinite(o.seed)) throw new KneePhantomOptionsError(`seed ${o.seed} is not a finite number`);
  if (o.maxHands !== undefined && !(Number.isInteger(o.maxHands) && o.maxHands >= 1))
    throw new KneePhantomOptionsError(`maxHands ${o.maxHands} must be a positive integer`);
  const hands = await readHands(o.handsDir, o.maxHands);
  await prepareOutDir(o.outDir, o.force === true);
  const patients = planPatients(hands, o.seed);
  const total = patients.reduce((n, p) => n + p.knees.length, 0);
  const ext = o.format === 'dicom' ? 'dcm' : 'png';
  const rows: string[] = [KNEE_MANIFEST_HEADER];
  let done = 0;
  const flags = (p: Patient): string[] =>
    KNEE_EXCLUSION_COLUMNS.map((_, c) => (c === p.exclusion ? '1' : '0'));
  for (const p of patients) {
    const birth = isoDate(p.birthDay);
    if (p.hand) {
      // paths relative to the manifest's folder, with forward slashes whatever the platform
      const film = relative(o.outDir, join(o.handsDir, p.hand.file)).split(sep).join('/');
      rows.push(
        [
          p.patientId,
          film,
          'hand',
          isoDate(p.hand.studyDay),
          birth,
          p.sex,
          String(p.hand.boneAgeMonths),
          '',
          ...flags(p),
          p.split,
          '0',
          '',
        ].join(','),
      );
    }
    const traits = drawKneeTraits(mixPhantomSeed(o.seed, p.index, 0x71));
    for (const [j, knee] of p.knees.entries()) {
      const stem = `${p.patientId}_K${j + 1}_${knee.laterality}`;
      const seed = mixPhantomSeed(o.seed, p.index, j, 0x6b);
      const film = renderKneePhantom({
        skeletalAgeMonths: knee.skeletalAgeMonths,
        sex: p.sex,
        laterality: knee.laterality,
        seed,
        size: o.size,
        traits,
      });
      const file = `knees/${stem}.${ext}`;
      if (o.format === 'dicom') {
        const studyUid = uidFrom(`${o.seed}/${p.patientId}/knee/${knee.studyDay}/study`);
        const bytes = await encodeKneePhantomDicom({
          pixels: film.pixels,
          rows: film.height,
          columns: film.width,
          imagerPixelSpacingMm: film.pixelSpacingMm,
          magnification: film.anatomy['magnification'] ?? 1,
          laterality: knee.laterality,
          patientId: p.patientId,
          sex: p.sex,
          birthDate: isoDate(p.birthDay).replace(/-/g, ''),
          studyDate: isoDate(knee.studyDay).replace(/-/g, ''),
          ageDays: knee.studyDay - p.birthDay,
          studyInstanceUid: studyUid,
          seriesInstanceUid: uidFrom(`${o.seed}/${stem}/series`),
          sopInstanceUid: uidFrom(`${o.seed}/${stem}/instance`),
          seriesNumber: j + 1,
          instanceNumber: 1,
          derivation: `Physis procedural knee phantom v${KNEE_PHANTOM_GENERATOR_VERSION}, seed ${o.seed}; simulated, not a clinical film`,
        });
        await writeFile(join(o.outDir, file), bytes);
      } else {
        await writeFile(join(o.outDir, file), encodeStoredPng(film.pixels, film.width, film.height));
      }
      await writeFile(
        join(o.outDir, 'masks', `${stem}_physes.png`),
        encodeMaskPng(film.masks.physes, film.width, film.height),
      );
      await writeFile(
        join(o.outDir, 'masks', `${stem}_ossification.png`),
        encodeMaskPng(film.masks.ossificationCentres, film.width, film.height),
      );
      rows.push(
        [
          p.patientId,
          file,
          'knee',
          isoDate(knee.studyDay),
          birth,
          p.sex,
          '',
          knee.laterality,
          ...flags(p),
          p.split,
          '1',
          knee.skeletalAgeMonths.toFixed(2),
        ].join(','),
      );
      done++;
      onProgress?.(done, total);
    }
  }
  const manifestCsv = join(o.outDir, 'manifest.csv');
  await writeFile(manifestCsv, `${rows.join('\n')}\n`);
  const result: KneeCohortResult = {
    manifestCsv,
    patients: patients.length,
    handFilms: patients.filter((p) => p.hand).length,
    kneeFilms: total,
    kneeOnlyPatients: patients.filter((p) => !p.hand).length,
    handOnlyPatients: patients.filter((p) => p.knees.length === 0).length,
    lateKneePatients: patients.filter((p) => p.late).length,
    excludedPatients: patients.filter((p) => p.exclusion >= 0).length,
    twoKneePatients: patients.filter((p) => p.knees.length === 2).length,
  };
  await writeFile(join(o.outDir, 'COHORT.md'), cohortReadme(o, result));
  return result;
}

function cohortReadme(o: KneeCohortOptions, r: KneeCohortResult): string {
  return `# Paired hand/knee cohort: real hands, SIMULATED knees

**The knee films here are simulated** (procedural phantoms made by Physis's knee phantom generator, version
${KNEE_PHANTOM_GENERATOR_VERSION}, seed ${o.seed}, ${o.size ?? 256} px, format ${o.format}). They are projections of
a 3-D model whose maturity follows published knee atlases; they are not radiographs of any person. **The hand films
are real** RSNA Pediatric Bone Age Challenge radiographs, referenced in place from \`${o.handsDir}\` (never copied;
RSNA terms apply), with the RSNA radiologist's bone-age reading. Nothing here may support a clinical decision.

Counts: ${r.patients} patients, ${r.handFilms} hand films, ${r.kneeFilms} knee films; ${r.kneeOnlyPatients} patients
with a knee and no hand, ${r.handOnlyPatients} with a hand and no knee, ${r.lateKneePatients} whose knee was taken
100–400 days from the hand (beyond a 3-month pairing window), ${r.excludedPatients} flagged in one exclusion column,
${r.twoKneePatients} with two knee films (both knees the same day, or a repeat visit).

- \`manifest.csv\`: one row per film, columns ${KNEE_MANIFEST_HEADER.split(',')
    .map((c) => `\`${c}\``)
    .join(', ')}. Paths are relative to this folder; dates are YYYY-MM-DD; \`bone_age_months\` is the RSNA
  reading on hand rows (empty on knee rows); \`simulated\` is 0 for real hands and 1 for phantom knees;
  \`knee_skeletal_age_months\` is the age the phantom was rendered at — a diagnostic, never a training label.
- \`knees/<patient>_K<n>_<L|R>.${o.format === 'dicom' ? 'dcm' : 'png'}\`: ${o.format === 'dicom' ? 'DICOM DX, AP, with PatientID, PatientSex, PatientBirthDate, StudyDate, ImageLaterality and ImageComments SIMULATED PHANTOM' : '16-bit PNG (12-bit values scaled); the manifest is the only source of dates, sex and side'}.
- \`masks/<film>_physes.png\`, \`masks/<film>_ossification.png\`: 8-bit masks (0/255) of the physes and of the
  ossification centres, aligned with each knee film.

How the cohort was drawn: chronological age = hand bone age − a deviation with the Greulich & Pyle SD for the age
(≈ 3–11 months); knee skeletal age = hand bone age + Normal(0, ${KNEE_HAND_DISCORDANCE_SD_MONTHS} months) (an
assumption) + the time between the studies; hand studies in 2015–2024; knee studies within ±90 days of the hand
except for the late ones.
`;
}
