/**
 * Write a cohort of phantom infants: films (DICOM or PNG), suture, fontanelle and calvarium masks, `labels.csv` and a
 * README.
 *
 * Why: the infant-age task trains and validates on folders of films with a labels table, the shape real cohorts
 * come in (Lee et al., Sci Rep 2024;14:16600: AP and lateral films per visit, ages under 12 months in monthly
 * classes). Each infant keeps its own traits across 1–3 visits at ages spread uniformly over 0–12 months, so every
 * monthly class is populated about evenly; the train/dev/test split is by infant, so no infant's anatomy is seen
 * on both sides of it (the leakage Roberts et al., Nat Mach Intell 2021;3:199, found in many imaging studies).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DAYS_PER_MONTH,
  PhantomRandom,
  encodeMaskPng,
  encodeStoredPng,
  mixPhantomSeed,
  uidFrom,
} from '../../../radiograph/index.js';
import { encodePhantomDicom } from './dicom-writer.js';
import { CohortExistsError, PhantomOptionsError } from './errors.js';
import { drawInfantTraits } from './growth.js';
import { renderSkullPhantom } from './render.js';
import type { PhantomView } from './project.js';

/** Version of the generator, written into each cohort's README and each DICOM's DerivationDescription. */
export const PHANTOM_GENERATOR_VERSION = '1.1.0';

/** The header of `labels.csv`, exactly. */
export const PHANTOM_LABELS_HEADER = 'file,patient_id,sex,view,age_months,split,suture_mask,fontanelle_mask,calvarium_mask,simulated';

/** What cohort to write. */
export interface PhantomCohortOptions {
  /** Folder to write; refused (CohortExistsError) if it already holds a labels.csv unless `force`. */
  readonly outDir: string;
  readonly infants: number;
  readonly seed: number;
  /** Film side, pixels (default 256). */
  readonly size?: number;
  readonly format: 'dicom' | 'png';
  /** SD of the error of the recorded age, days (default 0: recorded age = true age). */
  readonly labelNoiseSdDays?: number;
  readonly force?: boolean;
}

/** What was written. */
export interface PhantomCohortResult {
  /** Path of labels.csv. */
  readonly labelsCsv: string;
  readonly films: number;
  readonly infants: number;
}

/** Day 0 of the birth-date range (births spread over 2015–2023). */
const EPOCH_MS = Date.UTC(2015, 0, 1);
const DAY_MS = 86_400_000;
/** One year in days, the end of the age range (12 months). */
const YEAR_DAYS = 365;

function dicomDate(days: number): string {
  return new Date(EPOCH_MS + days * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

type Split = 'train' | 'dev' | 'test';

/** Infant index → split: a seeded shuffle cut 70/15/15, dev and test never empty from three infants up. */
function assignSplits(infants: number, r: PhantomRandom): Split[] {
  const order = Array.from({ length: infants }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  const small = infants >= 3 ? 1 : 0;
  const nDev = Math.max(small, Math.round(0.15 * infants));
  const nTest = Math.max(small, Math.round(0.15 * infants));
  const splits = new Array<Split>(infants).fill('train');
  order.forEach((infant, rank) => {
    if (rank < nDev) splits[infant] = 'dev';
    else if (rank < nDev + nTest) splits[infant] = 'test';
  });
  return splits;
}

/**
 * Write a phantom cohort.
 * @param o - folder, size of the cohort, seed, film format, label noise
 * @param onProgress - called after each film with (films done, films in all)
 *
 * @example
 * const result = await writeSkullPhantomCohort({ outDir: 'out/phantoms', infants: 200, seed: 1, format: 'dicom' });
 * // result.films ≈ 800 (1–3 visits × AP + lateral), labels at out/phantoms/labels.csv
 */
export async function writeSkullPhantomCohort(
  o: PhantomCohortOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<PhantomCohortResult> {
  if (!Number.isInteger(o.infants) || o.infants < 1)
    throw new PhantomOptionsError(`infants ${o.infants} must be a positive integer`);
  if (o.format !== 'dicom' && o.format !== 'png')
    throw new PhantomOptionsError(`format ${String(o.format)} is not dicom or png`);
  const noiseSd = o.labelNoiseSdDays ?? 0;
  if (!(noiseSd >= 0)) throw new PhantomOptionsError(`labelNoiseSdDays ${noiseSd} must be ≥ 0`);
  if (!Number.isFinite(o.seed)) throw new PhantomOptionsError(`seed ${o.seed} is not a finite number`);
  const labelsCsv = join(o.outDir, 'labels.csv');
  if (existsSync(labelsCsv) && !o.force)
    throw new CohortExistsError(`${labelsCsv} already exists; pass force to overwrite the cohort`);
  await mkdir(join(o.outDir, 'films'), { recursive: true });
  await mkdir(join(o.outDir, 'masks'), { recursive: true });

  const r = new PhantomRandom(mixPhantomSeed(o.seed, 0xc0407));
  // label noise has its own stream: the same seed gives the same infants and true ages with or without it
  const labelNoise = new PhantomRandom(mixPhantomSeed(o.seed, 0x1abe1));
  const splits = assignSplits(o.infants, new PhantomRandom(mixPhantomSeed(o.seed, 0x5911)));
  interface Visit {
    readonly trueDays: number;
    readonly recordedDays: number;
  }
  const plan = Array.from({ length: o.infants }, (_, i) => {
    const sex: 'M' | 'F' = r.float() < 0.5 ? 'M' : 'F';
    const birthDay = r.int(9 * 365);
    const count = 1 + r.int(3);
    const visits: Visit[] = [];
    for (let j = 0; j < count; j++) {
      // visit j of k falls uniformly in the j-th k-th of the year: ages uniform over 0–12 months, visits apart
      const trueDays = Math.min(YEAR_DAYS - 1, Math.floor(((j + r.float()) / count) * YEAR_DAYS));
      const error = noiseSd > 0 ? Math.round(noiseSd * labelNoise.normal()) : 0;
      visits.push({ trueDays, recordedDays: Math.max(0, trueDays + error) });
    }
    return {
      index: i,
      patientId: `SKP${String(i + 1).padStart(4, '0')}`,
      sex,
      birthDay,
      visits,
      split: splits[i] ?? 'train',
    };
  });
  const total = plan.reduce((n, p) => n + 2 * p.visits.length, 0);
  const rows: string[] = [PHANTOM_LABELS_HEADER];
  const ext = o.format === 'dicom' ? 'dcm' : 'png';
  let done = 0;
  for (const infant of plan) {
    const traits = drawInfantTraits(mixPhantomSeed(o.seed, infant.index, 0x71));
    for (const [j, visit] of infant.visits.entries()) {
      const visitId = `V${j + 1}`;
      const studyUid = uidFrom(`${o.seed}/${infant.patientId}/${visitId}/study`);
      for (const view of ['AP', 'LATERAL'] as const satisfies readonly PhantomView[]) {
        const tag = view === 'AP' ? 'AP' : 'LAT';
        const film = renderSkullPhantom({
          ageMonths: visit.trueDays / DAYS_PER_MONTH,
          view,
          sex: infant.sex,
          seed: mixPhantomSeed(o.seed, infant.index, j, view === 'AP' ? 1 : 2),
          size: o.size,
          traits,
        });
        const stem = `${infant.patientId}_${visitId}_${tag}`;
        const file = `films/${stem}.${ext}`;
        if (o.format === 'dicom') {
          const bytes = await encodePhantomDicom({
            pixels: film.pixels,
            rows: film.height,
            columns: film.width,
            imagerPixelSpacingMm: film.pixelSpacingMm,
            magnification: film.anatomy.magnification ?? 1,
            view,
            patientId: infant.patientId,
            sex: infant.sex,
            birthDate: dicomDate(infant.birthDay),
            studyDate: dicomDate(infant.birthDay + visit.recordedDays),
            ageDays: visit.recordedDays,
            studyInstanceUid: studyUid,
            seriesInstanceUid: uidFrom(`${o.seed}/${infant.patientId}/${visitId}/${tag}/series`),
            sopInstanceUid: uidFrom(`${o.seed}/${infant.patientId}/${visitId}/${tag}/instance`),
            seriesNumber: view === 'AP' ? 1 : 2,
            instanceNumber: 1,
            derivation: `Physis procedural skull phantom v${PHANTOM_GENERATOR_VERSION}, seed ${o.seed}; not a clinical film`,
          });
          await writeFile(join(o.outDir, file), bytes);
        } else {
          await writeFile(join(o.outDir, file), encodeStoredPng(film.pixels, film.width, film.height));
        }
        const sutureMask = `masks/${stem}_sutures.png`;
        const fontanelleMask = `masks/${stem}_fontanelles.png`;
        await writeFile(join(o.outDir, sutureMask), encodeMaskPng(film.masks.sutures, film.width, film.height));
        await writeFile(
          join(o.outDir, fontanelleMask),
          encodeMaskPng(film.masks.fontanelles, film.width, film.height),
        );
        const calvariumMask = `masks/${stem}_calvarium.png`;
        await writeFile(join(o.outDir, calvariumMask), encodeMaskPng(film.masks.calvarium, film.width, film.height));
        const ageMonths = (visit.recordedDays / DAYS_PER_MONTH).toFixed(3);
        rows.push(
          [
            file,
            infant.patientId,
            infant.sex,
            view,
            ageMonths,
            infant.split,
            sutureMask,
            fontanelleMask,
            calvariumMask,
            // every phantom row says it is simulated, so a model trained on it says so in each answer
            '1',
          ].join(','),
        );
        done++;
        onProgress?.(done, total);
      }
    }
  }
  await writeFile(labelsCsv, `${rows.join('\n')}\n`);
  await writeFile(join(o.outDir, 'README.md'), readme(o, done));
  return { labelsCsv, films: done, infants: o.infants };
}

function readme(o: PhantomCohortOptions, films: number): string {
  return `# Infant skull phantoms (procedural, not clinical films)

These ${films} films of ${o.infants} infants are **procedural phantoms** made by Physis's skull phantom generator
(version ${PHANTOM_GENERATOR_VERSION}, seed ${o.seed}, ${o.size ?? 256} px, format ${o.format}, label noise SD
${o.labelNoiseSdDays ?? 0} days). They are projections of a 3-D model whose head size, fontanelles, sutures,
calvarial thickness and density follow published infant growth data; they are not radiographs of any person and
must not be used to make or support clinical decisions.

- \`labels.csv\`: ${PHANTOM_LABELS_HEADER.split(',')
    .map((c) => `\`${c}\``)
    .join(', ')}; paths relative to this
  folder; \`age_months\` is the recorded postnatal age (days / ${DAYS_PER_MONTH.toFixed(6)}), split by infant;
  \`simulated\` is 1 on every row, so a model trained here says in each answer that it was trained on simulated films.
- \`films/\`: AP and left-lateral (\`LAT\`) film per visit${o.format === 'dicom' ? ' (DICOM DX; age from PatientBirthDate and StudyDate)' : ' (16-bit PNG; labels.csv is the only age source)'}.
- \`masks/\`: 8-bit PNG masks (0/255) of the projected sutures and fontanelles, and of the calvarium's rim (the vault
  seen edge-on along the head's outline, where its thickness and density show), aligned with each film.
`;
}
