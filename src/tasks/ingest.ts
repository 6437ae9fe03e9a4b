/**
 * Registry ingestion: every file of a folder into an imaging registry, exactly once. Each film is hashed, read,
 * judged by the suitability gate once, answered by every requested task that accepts it, de-identified, and written
 * with all its predictions in one registry transaction (`recordIngest`), so a killed run leaves each film whole or
 * absent and is resumed by running it again.
 *
 * What becomes of a file:
 * - already recorded at this path with these bytes: skipped (a resumed run);
 * - its bytes (or its SOPInstanceUID) already stored: recorded as a duplicate, without running any model;
 * - unreadable, truncated, not an image, or refused by the gate for every task: quarantined with the reason (one line);
 * - otherwise stored, with one prediction per requested task: its answer, its refusal (by the gate or by the task's
 *   own check) or its error, each with the model id, the weights sha256 and the gate's verdict.
 * The run never stops at one bad file; only a failing registry stops it.
 *
 * De-identification (PS3.15 Annex E): the registry keeps an allow-list of attributes, never the DICOM header itself
 * nor its pixels. PatientID becomes a keyed pseudonym (HMAC-SHA-256), the Study, Series and SOP Instance UIDs are
 * remapped with {@link remapUid} under the same key (the basic profile's U action, so a de-identified copy written by
 * `deidentifyDicom` with that key carries the same UIDs), the acquisition date is shifted by a keyed number of days per
 * patient (Retain Longitudinal Temporal Information with Modified Dates, PS3.16 code 113107), and of the patient only
 * sex and age in months are kept (Retain Patient Characteristics, code 113108), ages above 89 years aggregated as
 * HIPAA Safe Harbor asks (45 CFR 164.514(b)(2)(i)(C)). Names, birth dates, accession numbers, institutions and every
 * other header field are never read into the record.
 *
 * Why in the tasks layer: it composes the gate and the tasks (which only this layer knows) with the registry store
 * (a bottom layer that imports nothing); the CLI command over it only parses flags and prints.
 *
 * @example
 * const models = await openIngestModels({ gateDir: 'models/suitability', tasks: [{ task: getTask('hand-bone-age'), dir: 'models/hand-bone-age' }] });
 * const store = await openRegistry('sqlite:registry.db');
 * const summary = await ingestFolder({ root: 'archive', store, models, key });
 * summary.stored; // -> 412 (and summary.quarantined, summary.duplicates, summary.skipped, summary.byTask)
 * await store.close();
 * await closeIngestModels(models);
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PredictorBackend } from '../infer/index.js';
import {
  isJpeg,
  isPng,
  listFiles,
  parseDicomDataSet,
  parseDicomDate,
  readRadiographBytes,
  readSidecarFor,
  remapUid,
  type Radiograph,
} from '../radiograph/index.js';
import {
  RegistryError,
  type FileRecord,
  type GateVerdict as RegistryGateVerdict,
  type InstanceMetadata,
  type JsonValue,
  type PredictionRecord,
  type RegistryStore,
} from '../registry/index.js';
import { InputError } from './errors.js';
import { readManifest, type ManifestEntry } from './manifest.js';
import { analyseFilm, closeTaskModels, openTaskModels, type AnalyseOptions, type TaskModels } from './pipeline.js';
import { closeGate, gateFilm, gateProvenance, gateVerdict, openGate, type Gate, type GateOutcome } from './suitability/index.js';
import type { Acceptance, FilmResult, Task } from './task.js';

/** A task that ingestion runs: its models (which pass films through the shared gate) and their registry identity. */
export interface IngestTask {
  readonly task: Task & { readonly accepts: Acceptance };
  readonly models: TaskModels;
  /** The card id (a composite's id for a composite). */
  readonly modelId: string;
  /** The weights sha256; for a composite, the sha256 of its members' weights hashes (one per line, in order). */
  readonly weightsSha256: string;
}

/** The gate and every task's models, opened once for a whole ingestion. */
export interface IngestModels {
  readonly gate: Gate;
  readonly tasks: readonly IngestTask[];
}

/**
 * Open the gate and the models of every task ingestion runs, once.
 * @param o - `gateDir`: the suitability gate; `tasks`: each task with its bundle or composite folder; `backend`: the
 *   models' runtime (ONNX Runtime where a bundle ships a graph with `auto`)
 * @throws InputError and the bundle errors of a folder that is not a verified bundle of its task
 */
export async function openIngestModels(o: {
  readonly gateDir: string;
  readonly tasks: readonly { readonly task: Task; readonly dir: string }[];
  readonly backend?: 'auto' | PredictorBackend;
}): Promise<IngestModels> {
  const backend = o.backend ?? 'auto';
  // the gate answers on ONNX Runtime only where its bundle ships a graph, as predict's gate does
  const gate = await openGate(o.gateDir, { backend: backend === 'onnx' ? 'auto' : backend });
  const tasks: IngestTask[] = [];
  try {
    for (const { task, dir } of o.tasks) {
      const accepts = task.accepts;
      if (accepts === undefined) throw new InputError(`${task.name} is the gate's own task; it is not ingested as a task`);
      const models = openTaskModels(task, dir, { backend, gate });
      tasks.push({ task: { ...task, accepts }, models, ...modelIdentity(models) });
    }
  } catch (e) {
    await closeIngestModels({ gate, tasks });
    throw e;
  }
  return { gate, tasks };
}

/** Close every task's models and then the shared gate. @param m - from {@link openIngestModels} */
export async function closeIngestModels(m: IngestModels): Promise<void> {
  // the models share one gate: close them without it, then it once
  for (const t of m.tasks) await closeTaskModels({ ...t.models, gate: null });
  await closeGate(m.gate);
}

/** A set's registry identity: the card (or composite) id and a weights hash that changes when any member's does. */
function modelIdentity(models: TaskModels): { modelId: string; weightsSha256: string } {
  const { set } = models;
  const first = set.members[0];
  if (set.composite === null && first !== undefined) return { modelId: first.bundle.card.id, weightsSha256: first.bundle.card.files.weights.sha256 };
  const hashes = set.members.map((m) => m.bundle.card.files.weights.sha256).join('\n');
  return { modelId: set.composite?.manifest.id ?? set.dir, weightsSha256: createHash('sha256').update(hashes).digest('hex') };
}

// ---------------------------------------------------------------------------------------------------------------
// de-identification of what the registry keeps (PS3.15 Annex E, applied to an allow-list of attributes)

/** The oldest age kept as it is; above it HIPAA Safe Harbor aggregates ages into one category (90 years or older). */
const MAX_AGE_MONTHS = 90 * 12;
/** Dates move back by 1–365 days, the same for every film of a patient, so intervals between films are kept. */
const MAX_SHIFT_DAYS = 365;

function hmac(key: string, purpose: string, value: string): Buffer {
  return createHmac('sha256', key).update(`${purpose}\0${value}`).digest();
}

/**
 * The pseudonym of a patient id: 24 hex digits of HMAC-SHA-256 under the ingestion key (a keyed hash, so it cannot be
 * reversed by hashing candidate ids without the key; PS3.15 E.1 replaces PatientID, this keeps films linkable).
 * @param patientId - the id as the file or manifest gives it
 * @param key - the de-identification key
 */
export function pseudonymOf(patientId: string, key: string): string {
  return `P${hmac(key, 'patient', patientId.trim()).subarray(0, 12).toString('hex')}`;
}

/** A DICOM DA value (or an ISO date) as a UTC date, or null when it is not a valid date. */
function parseDate(value: string | undefined | null): Date | null {
  const iso = parseDicomDate(value) ?? (/^\d{4}-\d{2}-\d{2}$/.test(value ?? '') ? (value as string) : null);
  const d = iso === null ? null : new Date(`${iso}T00:00:00Z`);
  return d === null || Number.isNaN(d.getTime()) ? null : d;
}

/**
 * A date moved back by the patient's keyed shift (1–365 days), `YYYY-MM-DD`.
 * @param date - the date as stored
 * @param patientKey - what identifies the patient (PatientID, else the study) so that every film of one patient moves alike
 * @param key - the de-identification key
 */
export function shiftedDate(date: Date, patientKey: string, key: string): string {
  const days = 1 + (hmac(key, 'date-shift', patientKey).readUInt32BE(0) % MAX_SHIFT_DAYS);
  return new Date(date.getTime() - days * 86_400_000).toISOString().slice(0, 10);
}

/** The manifest's value of a column, trimmed; undefined when absent or empty. */
function column(columns: Readonly<Record<string, string>>, name: string): string | undefined {
  const v = columns[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * What the registry keeps of a film: the allow-listed attributes, de-identified (see the module comment).
 * @param radiograph - the decoded film
 * @param bytes - its file (a DICOM's PatientID and acquisition date are read from it)
 * @param columns - its manifest row (PNG/JPEG: `sex`, `age_months`, `laterality`, `patient_id`), or none
 * @param key - the de-identification key
 */
export function deidentifiedInstance(radiograph: Radiograph, bytes: Uint8Array, columns: Readonly<Record<string, string>>, key: string): InstanceMetadata {
  const m = radiograph.metadata;
  let patientId = column(columns, 'patient_id') ?? null;
  let date: Date | null = null;
  if (radiograph.format === 'dicom') {
    const ds = parseDicomDataSet(bytes, radiograph.source);
    patientId = ds.string('x00100020')?.trim() || patientId;
    // the film's own date first (PS3.3 C.7.6.16: AcquisitionDate, else ContentDate), else the study's
    date = parseDate(ds.string('x00080022')) ?? parseDate(ds.string('x00080023')) ?? parseDate(m.studyDate);
  }
  const sexColumn = column(columns, 'sex')?.toUpperCase();
  // a manifest column wins over the header, as it does for the tasks' inputs
  const sex = sexColumn === 'M' || sexColumn === 'F' || sexColumn === 'O' ? sexColumn : m.patientSex;
  const ageColumn = Number(column(columns, 'age_months') ?? NaN);
  const ageMonths = Number.isFinite(ageColumn) && ageColumn >= 0 ? ageColumn : (m.age?.ageMonths ?? null);
  const lateralityColumn = column(columns, 'laterality')?.toUpperCase();
  const laterality = lateralityColumn === 'L' || lateralityColumn === 'R' ? lateralityColumn : m.laterality;
  const remap = (uid: string | null): string | null => (uid === null || uid.trim() === '' ? null : remapUid(uid, key));
  const studyUid = remap(m.studyInstanceUid);
  return {
    patientPseudonym: patientId === null ? null : pseudonymOf(patientId, key),
    studyInstanceUid: studyUid,
    seriesInstanceUid: remap(m.seriesInstanceUid),
    sopInstanceUid: remap(m.sopInstanceUid),
    modality: m.modality,
    bodyPart: m.bodyPartExamined,
    view: m.viewPosition,
    laterality,
    sex,
    ageMonths: ageMonths === null ? null : Math.min(Math.round(ageMonths * 100) / 100, MAX_AGE_MONTHS),
    acquisitionDateShifted: date === null ? null : shiftedDate(date, patientId ?? studyUid ?? '', key),
  };
}

/**
 * The de-identification key from a file, created (32 random bytes, hex, readable by its owner only) when absent: the
 * same key must serve every run into a registry, or pseudonyms, UIDs and date shifts would not match across runs.
 * @param path - the key file
 * @returns the key and whether it was created now (to be said to the user)
 */
export function readOrCreateKey(path: string): { key: string; created: boolean } {
  if (!existsSync(path)) {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return { key: readKey(path), created: true };
  }
  return { key: readKey(path), created: false };
}

function readKey(path: string): string {
  const key = readFileSync(path, 'utf8').trim();
  if (key.length < 16) throw new InputError(`${path}: a de-identification key must be at least 16 characters`);
  return key;
}

// ---------------------------------------------------------------------------------------------------------------
// what the registry records of a task's result

/** Any value as JSON (undefined fields dropped), as the registry stores it. */
function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

/**
 * Label, confidence and probabilities of an answer, read by the conventions the tasks' answers share. A class answer
 * names its class `<k>` beside `<k>Probability`, or gives `probability` with its `class` (null when the task leaves
 * the film to a person below its reject threshold: the label is then its `mostLikely` class, and the low confidence
 * puts it first in the review queue), with `classProbabilities` or `probabilities`. An estimate is the answer's first
 * number, with its 90% interval (`interval90`, or `interval90BySex` when an input is unknown and both answers are given,
 * in which case there is no single label).
 * @param answer - a task's answer
 */
export function predictionFields(answer: Readonly<Record<string, unknown>>): { label: string | null; confidence: number | null; probabilities: JsonValue } {
  const probabilities = toJson(answer['classProbabilities'] ?? answer['probabilities'] ?? answer['interval90'] ?? answer['interval90BySex'] ?? null);
  const p = answer['probability'];
  const named = [answer['class'], answer['mostLikely']].find((c): c is string => typeof c === 'string');
  if (typeof p === 'number' && p >= 0 && p <= 1 && named !== undefined) return { label: named, confidence: p, probabilities };
  for (const [k, v] of Object.entries(answer)) {
    const pk = answer[`${k}Probability`];
    if ((typeof v === 'number' || typeof v === 'string') && typeof pk === 'number' && pk >= 0 && pk <= 1) return { label: String(v), confidence: pk, probabilities };
  }
  const estimate = Object.values(answer).find((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return { label: estimate === undefined ? null : String(Math.round(estimate * 10) / 10), confidence: null, probabilities };
}

/** The gate's verdict as the registry keeps it: passed or not, the gate's identity, the verdict and notes. */
function gateRecord(gate: Gate, passed: boolean, report: { verdict: object; verdictAfterCorrection?: object; corrections: readonly string[]; metadata: readonly string[] } | undefined, reason?: string): RegistryGateVerdict {
  const g = gateProvenance(gate);
  return {
    passed,
    model: { id: g.id, weightsSha256: g.weightsSha256 },
    ...(reason === undefined ? {} : { reason }),
    ...(report === undefined
      ? {}
      : {
          verdict: toJson(report.verdict),
          ...(report.verdictAfterCorrection === undefined ? {} : { verdictAfterCorrection: toJson(report.verdictAfterCorrection) }),
          corrections: [...report.corrections],
          metadata: [...report.metadata],
        }),
  };
}

/** One line: a message's line breaks folded, and a leading `<file>: ` dropped (the registry names the file itself). */
function oneLine(message: string, file: string): string {
  const m = message.replace(/\s*\n\s*/g, ' ').trim();
  return m.startsWith(`${file}: `) ? m.slice(file.length + 2) : m;
}

// ---------------------------------------------------------------------------------------------------------------

/** What one task made of a stored film. */
export interface IngestTaskOutcome {
  readonly task: string;
  readonly outcome: 'answered' | 'refused' | 'error';
  /** The answer's label (answered), or the reason (refused, error). */
  readonly label?: string | null;
  readonly reason?: string;
  /** Refused by the suitability gate (rather than by the task's own check or its inputs). */
  readonly byGate?: boolean;
}

/** What became of one file. `skipped`: already recorded (a resumed run); `failed`: could not even be read to be hashed. */
export interface IngestFilmOutcome {
  readonly file: string;
  readonly status: 'stored' | 'quarantined' | 'duplicate' | 'skipped' | 'failed';
  readonly fileId?: number;
  readonly instanceId?: number | null;
  readonly reason?: string;
  readonly tasks?: readonly IngestTaskOutcome[];
}

/** Progress of a run, for a progress line. */
export interface IngestProgress {
  readonly done: number;
  readonly total: number;
  readonly filmsPerSecond: number;
  /** Seconds left at the rate of the films processed so far (resumed skips excluded), null before the first. */
  readonly etaSeconds: number | null;
}

/** The counts of a run. */
export interface IngestSummary {
  /** Files considered (every file under the folder but the excluded ones). */
  readonly films: number;
  readonly stored: number;
  readonly quarantined: number;
  readonly duplicates: number;
  /** Already recorded at the same path with the same bytes. */
  readonly skipped: number;
  /** Could not be read to be hashed, so not recorded (each had its line). */
  readonly failed: number;
  /** Files under the folder that are not films: the manifest, the registry's and the key's own files. */
  readonly excluded: number;
  /** Manifest rows whose file is not under the folder. */
  readonly manifestRowsUnused: number;
  /** Per task: films answered, refused (by the gate or the task's own check) and failed. */
  readonly byTask: Readonly<Record<string, { readonly answered: number; readonly refused: number; readonly error: number }>>;
  readonly seconds: number;
  readonly filmsPerSecond: number;
}

/** Options of {@link ingestFolder}. */
export interface IngestOptions {
  /** The folder (walked recursively, sorted; hidden entries and `<image>.json` sidecars are not films). */
  readonly root: string;
  readonly store: RegistryStore;
  readonly models: IngestModels;
  /** The de-identification key (at least 16 characters; see {@link readOrCreateKey}). */
  readonly key: string;
  /** A manifest (`file` column, relative to the CSV, plus task inputs such as `sex`) for PNG/JPEG films. */
  readonly manifest?: string;
  /** Files under the folder that are not films (e.g. the registry's own SQLite file); `-wal`/`-shm`/`-journal` follow. */
  readonly exclude?: readonly string[];
  readonly onFilm?: (outcome: IngestFilmOutcome) => void;
  /** Called at most every `progressEveryMs` (default 2000) and after the last film. */
  readonly onProgress?: (progress: IngestProgress) => void;
  readonly progressEveryMs?: number;
}

/** What one film's analysis gives the registry. */
interface Analysed {
  readonly record: FileRecord;
  readonly predictions: readonly Omit<PredictionRecord, 'instanceId'>[];
  readonly tasks: readonly IngestTaskOutcome[];
  /** Each task's full result, as the pipeline gave it. */
  readonly results: readonly FilmResult[];
}

/**
 * Ingest every file under a folder into the registry, exactly once (see the module comment).
 * @param o - the folder, the store, the opened models and the key; callbacks for each film and for progress
 * @returns the run's counts
 * @throws RegistryError when the registry fails (every film recorded before stays recorded; rerun to resume)
 */
export async function ingestFolder(o: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  if (o.key.length < 16) throw new InputError('the de-identification key must be at least 16 characters');
  const excluded = new Set((o.exclude ?? []).flatMap((p) => [p, `${p}-wal`, `${p}-shm`, `${p}-journal`].map((x) => resolve(x))));
  const manifestEntries: ManifestEntry[] = o.manifest === undefined ? [] : readManifest(o.manifest);
  if (o.manifest !== undefined) excluded.add(resolve(o.manifest));
  const byPath = new Map(manifestEntries.map((e) => [resolve(e.path), e]));
  const all = listFiles(o.root);
  const files = all.filter((f) => !excluded.has(resolve(f)));
  const listed = new Set(files.map((f) => resolve(f)));
  const manifestRowsUnused = manifestEntries.filter((e) => !listed.has(resolve(e.path))).length;

  // what is stored already, so that a duplicate is recognised before any model runs on it
  const storedSha = new Set<string>();
  const storedUid = new Set<string>();
  for (const row of await o.store.listInstances({ status: 'stored' })) {
    if (row.instance === null) continue;
    storedSha.add(row.instance.sha256);
    if (row.instance.sopInstanceUid !== null) storedUid.add(row.instance.sopInstanceUid);
  }

  const counts = { stored: 0, quarantined: 0, duplicates: 0, skipped: 0, failed: 0 };
  const byTask: Record<string, { answered: number; refused: number; error: number }> = {};
  for (const t of o.models.tasks) byTask[t.task.name] = { answered: 0, refused: 0, error: 0 };
  const every = o.progressEveryMs ?? 2000;
  let lastProgress = started;
  let processed = 0;
  let processedMs = 0;
  const progress = (done: number, force: boolean): void => {
    const now = performance.now();
    if (o.onProgress === undefined || (!force && now - lastProgress < every)) return;
    lastProgress = now;
    const perFilmMs = processed === 0 ? null : processedMs / processed;
    o.onProgress({
      done,
      total: files.length,
      filmsPerSecond: done / Math.max((now - started) / 1000, 1e-9),
      etaSeconds: perFilmMs === null ? null : ((files.length - done) * perFilmMs) / 1000,
    });
  };

  for (const [i, file] of files.entries()) {
    const t0 = performance.now();
    const outcome = await ingestFile(o, file, byPath.get(resolve(file))?.columns ?? {}, { storedSha, storedUid });
    if (outcome.status !== 'skipped') {
      processed++;
      processedMs += performance.now() - t0;
    }
    if (outcome.status === 'stored') counts.stored++;
    else if (outcome.status === 'quarantined') counts.quarantined++;
    else if (outcome.status === 'duplicate') counts.duplicates++;
    else if (outcome.status === 'skipped') counts.skipped++;
    else counts.failed++;
    for (const t of outcome.tasks ?? []) {
      const c = byTask[t.task];
      if (c !== undefined) c[t.outcome === 'answered' ? 'answered' : t.outcome === 'refused' ? 'refused' : 'error']++;
    }
    o.onFilm?.(outcome);
    progress(i + 1, i + 1 === files.length);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    films: files.length,
    ...counts,
    excluded: all.length - files.length,
    manifestRowsUnused,
    byTask,
    seconds,
    filmsPerSecond: files.length / Math.max(seconds, 1e-9),
  };
}

/** One file: read, then {@link ingestBytes}. */
async function ingestFile(
  o: IngestOptions,
  file: string,
  columns: Readonly<Record<string, string>>,
  known: { storedSha: Set<string>; storedUid: Set<string> },
): Promise<IngestFilmOutcome> {
  let bytes: Uint8Array;
  try {
    if (!statSync(file).isFile()) return { file, status: 'failed', reason: 'not a regular file' };
    const b = readFileSync(file);
    bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    return { file, status: 'failed', reason: `cannot read: ${oneLine(e instanceof Error ? e.message : String(e), file)}` };
  }
  return (await ingestBytes(o, { bytes, sourcePath: file, columns, known })).outcome;
}

/** One film given as bytes to {@link ingestBytes}. */
export interface IngestFilm {
  readonly bytes: Uint8Array;
  /** Where it came from, as the registry records it (a path, or e.g. `upload:<sha256>` for an upload). */
  readonly sourcePath: string;
  /** Its manifest row (PNG/JPEG: `sex`, `age_months`, `laterality`, `patient_id`), or none. */
  readonly columns?: Readonly<Record<string, string>>;
  /** Task inputs given by the caller (parsed by each input's `parse`), which win over the manifest and the header. */
  readonly given?: Readonly<Record<string, string | null>>;
  /** What a run already stored, so that a duplicate is recognised before any model runs (ingestion keeps these). */
  readonly known?: { readonly storedSha: Set<string>; readonly storedUid: Set<string> };
  /** Whether a PNG/JPEG's `<sourcePath>.json` sidecar is read (default true; false for bytes that have no folder). */
  readonly sidecar?: boolean;
  /** Most pixels (rows × columns) of a film; a larger one is quarantined before its pixels are allocated. */
  readonly maxPixels?: number;
  /**
   * Analyse a film already recorded at this source with these bytes again (nothing is recorded a second time): for a
   * caller whose own step after the analysis failed last time (e.g. sending the results back to a PACS).
   */
  readonly reanalyseRecorded?: boolean;
  /** Called with the film as read (before the gate), when it could be read. */
  readonly onRead?: (radiograph: Radiograph) => void;
  /** Called for each answering task with its heat map and the film it explains (see `AnalyseOptions.onSaliency`). */
  readonly onSaliency?: (task: string, s: Parameters<NonNullable<AnalyseOptions['onSaliency']>>[0]) => void;
}

/**
 * Ingest one film given as bytes: the resume check (same source and bytes recorded: `skipped`), the duplicate check,
 * the gate and every task, one registry write. Never throws for a problem of the film itself.
 * @param o - the store, the opened models and the key
 * @param film - the bytes, where they came from, the inputs and callbacks
 * @returns what became of the film, and each task's full result (for a caller that shows more than the registry keeps),
 *   the gate's refusals included, also when the gate refused the film for every task and it was quarantined
 * @throws RegistryError when the registry fails
 */
export async function ingestBytes(
  o: Pick<IngestOptions, 'store' | 'models' | 'key'>,
  film: IngestFilm,
): Promise<{ readonly outcome: IngestFilmOutcome; readonly results: readonly FilmResult[] }> {
  const file = film.sourcePath;
  const { bytes } = film;
  const known = film.known ?? { storedSha: new Set<string>(), storedUid: new Set<string>() };
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const existing = await o.store.findFile(file, sha256);
  if (existing !== null) {
    const outcome: IngestFilmOutcome = { file, status: 'skipped', fileId: existing.id, instanceId: existing.instanceId, ...(existing.quarantineReason === null ? {} : { reason: existing.quarantineReason }) };
    return { outcome, results: film.reanalyseRecorded === true ? (await analyse(o, film, sha256, new Set())).results : [] };
  }
  const a: Analysed = known.storedSha.has(sha256)
    ? // the same bytes are the same film: the registry records the duplicate; the models would only repeat themselves
      { record: { sourcePath: file, sha256, status: 'stored', instance: {} }, predictions: [], tasks: [], results: [] }
    : await analyse(o, film, sha256, known.storedUid);
  let result;
  try {
    result = await o.store.recordIngest({ file: a.record, predictions: a.predictions });
  } catch (e) {
    if (e instanceof RegistryError) throw e;
    throw new RegistryError(`recording file ${file} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const f = result.file;
  if (f.status === 'stored') {
    known.storedSha.add(sha256);
    if (a.record.status === 'stored' && a.record.instance.sopInstanceUid) known.storedUid.add(a.record.instance.sopInstanceUid);
  }
  const base = { file, fileId: f.id, instanceId: f.instanceId };
  if (f.status === 'quarantined') return { outcome: { ...base, status: 'quarantined', reason: f.quarantineReason ?? '' }, results: a.results };
  if (f.status === 'duplicate') return { outcome: { ...base, status: 'duplicate' }, results: [] };
  return { outcome: { ...base, status: 'stored', tasks: a.tasks }, results: a.results };
}

/** Read, gate, answer and de-identify one film that is not yet in the registry. */
async function analyse(o: Pick<IngestOptions, 'models' | 'key'>, film: IngestFilm, sha256: string, storedUid: Set<string>): Promise<Analysed> {
  const { bytes, sourcePath: file } = film;
  const columns = film.columns ?? {};
  const quarantine = (reason: string): Analysed => ({ record: { sourcePath: file, sha256, status: 'quarantined', reason }, predictions: [], tasks: [], results: [] });
  const { gate, tasks } = o.models;
  let radiograph: Radiograph;
  let instance: InstanceMetadata;
  try {
    if (bytes.length === 0) return quarantine('empty file');
    const raster = isPng(bytes) || isJpeg(bytes);
    // read exactly as the pipeline reads the path (a PNG/JPEG's `<file>.json` sidecar included), so both see one film
    radiograph = await readRadiographBytes(bytes, file, { sidecar: raster && film.sidecar !== false ? readSidecarFor(file) : null, ...(film.maxPixels === undefined ? {} : { maxPixels: film.maxPixels }) });
    instance = deidentifiedInstance(radiograph, bytes, columns, o.key);
    film.onRead?.(radiograph);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return quarantine(`${err.name}: ${oneLine(err.message, file)}`);
  }
  const stored: FileRecord = { sourcePath: file, sha256, status: 'stored', instance };
  // PS3.3 C.12.1.1.1: one SOPInstanceUID, one instance; the registry quarantines other bytes under a stored UID
  if (instance.sopInstanceUid != null && storedUid.has(instance.sopInstanceUid)) return { record: stored, predictions: [], tasks: [], results: [] };

  let verdict;
  const judged: { t: IngestTask; refused: string | null; report: Parameters<typeof gateRecord>[2]; outcome: GateOutcome }[] = [];
  try {
    verdict = await gateVerdict(gate, radiograph);
    for (const t of tasks) {
      const g = await gateFilm(gate, radiograph, t.task.accepts, verdict);
      judged.push({ t, refused: g.refused, report: g.report, outcome: g });
    }
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return quarantine(`suitability gate failed: ${err.name}: ${oneLine(err.message, file)}`);
  }
  // a refusal by the gate as the pipeline words it (model, gate report, warnings), without running the task's model:
  // a caller that reports every task's outcome (a PACS result object) needs the model that would have answered
  const given = { manifest: columns, ...(film.given === undefined ? {} : { cli: film.given }) };
  const refusedResult = (j: (typeof judged)[number]): Promise<FilmResult> => analyseFilm(j.t.models, file, { given, source: file, film: { radiograph, gate: j.outcome } });
  if (judged.length > 0 && judged.every((j) => j.refused !== null)) {
    const reasons = [...new Set(judged.map((j) => j.refused))];
    const why = reasons.length === 1 ? reasons[0] : judged.map((j) => `${j.t.task.name}: ${j.refused ?? ''}`).join('; ');
    const refusals: FilmResult[] = [];
    for (const j of judged) refusals.push(await refusedResult(j));
    return { ...quarantine(`refused by the suitability gate: ${oneLine(why ?? '', file)}`), results: refusals };
  }

  const predictions: Omit<PredictionRecord, 'instanceId'>[] = [];
  const outcomes: IngestTaskOutcome[] = [];
  const results: FilmResult[] = [];
  for (const j of judged) {
    const id = { task: j.t.task.name, modelId: j.t.modelId, weightsSha256: j.t.weightsSha256 };
    if (j.refused !== null) {
      predictions.push({ ...id, outputs: { rejected: j.refused }, label: null, confidence: null, gate: gateRecord(gate, false, j.report, j.refused) });
      outcomes.push({ task: id.task, outcome: 'refused', reason: j.refused, byGate: true });
      results.push(await refusedResult(j));
      continue;
    }
    // the film as read and judged above: the pipeline neither decodes nor gates it again
    const onSaliency = film.onSaliency;
    const r: FilmResult = await analyseFilm(j.t.models, file, {
      given,
      source: file,
      film: { radiograph, gate: j.outcome },
      ...(onSaliency === undefined ? {} : { onSaliency: (s) => onSaliency(id.task, s) }),
    });
    results.push(r);
    const gateRec = gateRecord(gate, true, r.gate ?? j.report);
    if (r.answer !== undefined) {
      const fields = predictionFields(r.answer);
      predictions.push({ ...id, outputs: toJson({ answer: r.answer, ...(r.inputs ? { inputs: r.inputs } : {}), ...(r.warnings ? { warnings: r.warnings } : {}) }), ...fields, gate: gateRec });
      outcomes.push({ task: id.task, outcome: 'answered', label: fields.label });
    } else if (r.rejected !== undefined) {
      predictions.push({ ...id, outputs: toJson({ rejected: r.rejected.reason, ...(r.inputs ? { inputs: r.inputs } : {}) }), label: null, confidence: null, gate: gateRec });
      outcomes.push({ task: id.task, outcome: 'refused', reason: r.rejected.reason, byGate: false });
    } else {
      const reason = `${r.error?.name ?? 'Error'}: ${oneLine(r.error?.message ?? '', file)}`;
      predictions.push({ ...id, outputs: { error: reason }, label: null, confidence: null, gate: gateRec });
      outcomes.push({ task: id.task, outcome: 'error', reason });
    }
  }
  return { record: stored, predictions, tasks: outcomes, results };
}
