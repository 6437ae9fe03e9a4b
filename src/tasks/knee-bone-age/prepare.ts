/**
 * From paired hand and knee films to the knee labels file: pair each knee with its patient's hand film within the
 * window, label each paired hand with the teacher hand model (a pseudo-label), and give each knee the hand's bone
 * age — the radiologist's reading where the manifest has one, else the pseudo-label (or, by choice, always one of
 * them) — recording the source of every label and the teacher's id and weights hash.
 *
 * Why: the published knee system labelled each knee with the bone age of a hand film taken within three months, read
 * by a radiologist or pseudo-labelled by a hand deep-learning model (doi 10.1177/23259671261424923); the teacher runs
 * through the same pipeline as `physis predict` (suitability gate first, its own feature check), so a hand the
 * teacher refuses gives no pseudo-label, and says why.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { csvField } from '../../radiograph/index.js';
import type { Gate } from '../suitability/index.js';
import { HAND_BONE_AGE_TASK } from '../hand-bone-age/index.js';
import { InputError } from '../errors.js';
import { analyseFilm, closeTaskModels, openTaskModels } from '../pipeline.js';
import { KNEE_MAX_AGE_MONTHS } from './config.js';
import { KNEE_LABELS_HEADER, type LabelSource } from './labels.js';
import { pairKneesWithHands, readFilmManifest, summarisePairing, type KneePair } from './pairing.js';

/** Which label a knee learns: the reading where present else the pseudo-label (default), or always one of them. */
export type KneeLabelPolicy = 'reading-else-pseudo' | 'pseudo' | 'reading';
export const KNEE_LABEL_POLICIES: readonly KneeLabelPolicy[] = ['reading-else-pseudo', 'pseudo', 'reading'];

/** Options of {@link prepareKneeLabels}. */
export interface PrepareKneeOptions {
  /** The film manifest (one row per hand or knee film). */
  readonly manifest: string;
  /** The teacher: a hand-bone-age bundle or composite folder; absent only with the `reading` policy. */
  readonly teacher?: string;
  /** The suitability gate every teacher hand passes first (null: skipped, and the labels file says so). */
  readonly gate: Gate | null;
  readonly policy: KneeLabelPolicy;
  readonly maxIntervalDays?: number;
  /** The labels CSV to write. */
  readonly out: string;
  readonly force?: boolean;
  /** Lines a person should read (pairing summary, progress, refused hands). */
  readonly onNote?: (line: string) => void;
}

/** What {@link prepareKneeLabels} wrote. */
export interface PreparedKneeLabels {
  readonly csv: string;
  readonly knees: number;
  readonly bySource: Readonly<Record<LabelSource, number>>;
  /** The teacher's id and weights sha256, when it labelled hands. */
  readonly teacher?: { readonly id: string; readonly weightsSha256: string };
  /** One line for the card's training-data summary. */
  readonly summary: string;
}

/** A phantom cohort's mask beside the knees folder (`masks/<stem>_<kind>.png`), if there is one. */
function maskOf(kneePath: string, kind: 'physes' | 'ossification'): string | undefined {
  const stem = basename(kneePath, extname(kneePath));
  const p = join(dirname(dirname(kneePath)), 'masks', `${stem}_${kind}.png`);
  return existsSync(p) ? p : undefined;
}

/**
 * Pair, pseudo-label and write the knee labels file.
 * @param o - manifest, teacher, gate, label policy, output
 * @throws InputError when the policy needs a teacher and none is given, or no knee gets a label
 */
export async function prepareKneeLabels(o: PrepareKneeOptions): Promise<PreparedKneeLabels> {
  if (existsSync(o.out) && o.force !== true) throw new InputError(`${o.out} exists (the labels of another run?); pass --force to rewrite it or --resume to reuse it`);
  if (o.policy !== 'reading' && o.teacher === undefined) throw new InputError(`the label policy '${o.policy}' needs a teacher hand bundle (--teacher)`);
  const films = await readFilmManifest(o.manifest);
  const pairing = pairKneesWithHands(films, o.maxIntervalDays === undefined ? {} : { maxIntervalDays: o.maxIntervalDays });
  o.onNote?.(summarisePairing(pairing));
  const pseudo = new Map<string, number>();
  let teacher: PreparedKneeLabels['teacher'];
  if (o.teacher !== undefined) {
    const models = openTaskModels(HAND_BONE_AGE_TASK, o.teacher, { gate: o.gate, gateSkipped: 'knee label preparation: no gate given' });
    try {
      const member = models.set.members[0];
      teacher = { id: models.set.composite?.manifest.id ?? member?.bundle.card.id ?? o.teacher, weightsSha256: member?.bundle.card.files.weights.sha256 ?? '' };
      const hands = new Map<string, KneePair>();
      for (const p of pairing.pairs) hands.set(p.hand.path, p);
      const started = Date.now();
      let done = 0;
      let refused = 0;
      for (const [path, p] of hands) {
        const r = await analyseFilm(models, path, { given: { cli: { sex: p.sex } } });
        const months = (r.answer as { boneAgeMonths?: number } | undefined)?.boneAgeMonths;
        if (months !== undefined) pseudo.set(path, months);
        else {
          refused++;
          o.onNote?.(`teacher: no pseudo-label for ${p.hand.film}: ${r.rejected?.reason ?? r.error?.message ?? 'no answer'}`);
        }
        done++;
        if (done % 100 === 0 || done === hands.size) {
          const rate = done / ((Date.now() - started) / 1000);
          o.onNote?.(`teacher ${teacher.id}: ${done}/${hands.size} hands labelled (${rate.toFixed(1)} films/s, ETA ${((hands.size - done) / rate).toFixed(0)} s; ${refused} refused)`);
        }
      }
    } finally {
      await closeTaskModels(models);
    }
  }
  const base = dirname(resolve(o.out));
  const rel = (p: string): string => relative(base, p).split(sep).join('/');
  const bySource: Record<LabelSource, number> = { reading: 0, pseudo: 0 };
  const lines = [KNEE_LABELS_HEADER.join(',')];
  let unlabelled = 0;
  let beyondRange = 0;
  for (const p of pairing.pairs) {
    // the model's range, as the published cohort's (patients ≤ 18 years)
    if (p.chronologicalAgeMonths > KNEE_MAX_AGE_MONTHS) {
      beyondRange++;
      continue;
    }
    const reading = p.readingMonths;
    const pl = pseudo.get(p.hand.path);
    const source: LabelSource | null =
      o.policy === 'reading' ? (reading === undefined ? null : 'reading') : o.policy === 'pseudo' ? (pl === undefined ? null : 'pseudo') : reading !== undefined ? 'reading' : pl !== undefined ? 'pseudo' : null;
    if (source === null) {
      unlabelled++;
      continue;
    }
    bySource[source]++;
    const mask = maskOf(p.knee.path, 'physes');
    const ossification = maskOf(p.knee.path, 'ossification');
    const row: Record<(typeof KNEE_LABELS_HEADER)[number], string> = {
      file: rel(p.knee.path),
      patient_id: p.patientId,
      sex: p.sex,
      chronological_age_months: p.chronologicalAgeMonths.toFixed(2),
      bone_age_months: String(source === 'reading' ? reading : pl),
      label_source: source,
      reading_months: reading === undefined ? '' : String(reading),
      pseudo_months: pl === undefined ? '' : pl.toFixed(2),
      pseudo_by: pl === undefined || teacher === undefined ? '' : `${teacher.id}@${teacher.weightsSha256}`,
      laterality: p.laterality ?? '',
      split: p.split ?? '',
      hand_file: rel(p.hand.path),
      physis_mask: mask === undefined ? '' : rel(mask),
      ossification_mask: ossification === undefined ? '' : rel(ossification),
      simulated: p.knee.simulated ? '1' : '0',
    };
    lines.push(KNEE_LABELS_HEADER.map((k) => csvField(row[k])).join(','));
  }
  const knees = lines.length - 1;
  if (knees === 0) throw new InputError(`${o.manifest}: no paired knee got a label (policy ${o.policy}; ${pairing.pairs.length} pairs, ${unlabelled} without the label the policy needs)`);
  await writeFile(o.out, `${lines.join('\n')}\n`);
  const summary =
    `${knees} knees paired with hand films of ${o.manifest} within ${o.maxIntervalDays ?? 92} days; labels: ${bySource.reading} radiologist readings, ${bySource.pseudo} pseudo-labels` +
    `${teacher === undefined ? '' : ` by ${teacher.id} (weights sha256 ${teacher.weightsSha256})`}${unlabelled > 0 ? `; ${unlabelled} paired knees without the label policy ${o.policy} needs left out` : ''}` +
    `${beyondRange > 0 ? `; ${beyondRange} paired knees of patients older than ${KNEE_MAX_AGE_MONTHS / 12} years left out` : ''}`;
  o.onNote?.(summary);
  return { csv: o.out, knees, bySource, ...(teacher === undefined ? {} : { teacher }), summary };
}
