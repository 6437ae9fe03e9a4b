/**
 * The PACS round trip's two halves for {@link pollOnce}: the analysis of one film retrieved from the PACS (the same
 * ingestion as `physis ingest`: gate first, every task that accepts the film, one de-identified registry record) that
 * returns the result objects to store into the film's study — per task a Structured Report (answered or refused,
 * with the reason) and, for an answered task, a Secondary Capture with the heat map and the answer burned in — and a
 * registry-backed record of which films are handled.
 *
 * Why the registry is the record: it already holds each film once, keyed by source; a film counts as handled only
 * when the STOW-RS of its results succeeded (an audit entry `pacs:results-stored` on its file row, with the counts and
 * the new objects' SOP Instance UIDs), so a poll killed or refused by the PACS is retried by the next one, which
 * analyses the recorded film again without recording it twice (`reanalyseRecorded`). The registry never sees the
 * film's real UIDs: its source is `pacs:` and the SOPInstanceUID remapped under the de-identification key (PS3.15
 * Annex E, the basic profile's U action), as the instance's own UIDs are.
 *
 * @example
 * const trip = pacsRoundTrip({ store, models, key, onAnalysed: (ref, film) => log(film.tasks) });
 * const summary = await pollOnce({ client, filter: { modality: 'DX' }, ...trip });
 * summary; // -> { found: 2, skipped: 0, analysed: 2, stored: 2, failed: 0, storedObjects: 3, failures: [] }
 */
import { displayOnGrid, pictureGrid, saliencyOnFilm } from '../explain/index.js';
import { remapUid } from '../radiograph/index.js';
import type { JsonValue, RegistryStore } from '../registry/index.js';
import { ingestBytes, type FilmResult, type IngestFilmOutcome, type IngestModels, type Task } from '../tasks/index.js';
import type { InstanceRecord, InstanceRef, StowResult } from './dicomweb/index.js';
import { newUid } from './dicom-values.js';
import { reportContentOf, resultCaption } from './result-report.js';
import { renderResultImage, writeSecondaryCapture } from './secondary-capture.js';
import { sourceStudyOf } from './source-study.js';
import { writeStructuredReport } from './structured-report.js';
import type { HandledInstances, PollOptions } from './watch.js';

/** The audit action that marks a film's results as stored into its PACS study. */
export const PACS_RESULTS_STORED = 'pacs:results-stored';

/**
 * The SOP classes a watch analyses by default: Computed Radiography Image Storage and Digital X-Ray Image Storage – For
 * Presentation (PS3.4 B.5). For Processing images are left out: they are raw detector data, not meant to be viewed
 * (PS3.3 C.8.11.1.1.1), and a poll must not analyse its own SR and SC when a PACS gives them the film's modality.
 */
export const RADIOGRAPH_SOP_CLASS_UIDS: readonly string[] = Object.freeze(['1.2.840.10008.5.1.4.1.1.1', '1.2.840.10008.5.1.4.1.1.1.1']);

/** Largest side of the result picture, pixels: a 3000-pixel film as RGB would be a 27 MB object for one picture. */
const DEFAULT_MAX_PICTURE_SIDE_PX = 1024;

/** SR series number, SC series number (PACS users spot 99xx as Physis'; the writers' defaults). */
const SR_SERIES_NUMBER = 9901;
const SC_SERIES_NUMBER = 9902;

/** One result object written for a film. */
export interface WrittenObject {
  readonly kind: 'structured-report' | 'secondary-capture';
  readonly task: string;
  readonly sopInstanceUid: string;
}

/** What one task said of a film, in words fit for a log line (no patient attribute, no file name). */
export interface TaskLine {
  readonly task: string;
  readonly outcome: 'answered' | 'refused' | 'error';
  /** The answer's line, the refusal's reason, or the error. */
  readonly text: string;
}

/** What the analysis of one film did. */
export interface FilmAnalysis {
  /** What ingestion made of it (`skipped` when it was recorded by an earlier poll and analysed again now). */
  readonly status: IngestFilmOutcome['status'];
  /** The quarantine reason, when quarantined. */
  readonly reason?: string;
  readonly tasks: readonly TaskLine[];
  readonly objects: readonly WrittenObject[];
}

/** What the round trip needs. */
export interface RoundTripOptions {
  readonly store: RegistryStore;
  /** The gate and the tasks' models ({@link openIngestModels} of src/tasks). */
  readonly models: IngestModels;
  /** The de-identification key (the same for every run into the registry). */
  readonly key: string;
  /** Largest side of the result picture in pixels (default 1024); the film is sampled down to it, never up. */
  readonly maxPictureSidePx?: number;
  /** Most pixels of a film; a larger one is quarantined before its pixels are allocated. */
  readonly maxPixels?: number;
  /** Called once per analysed film, before its results are stored. */
  readonly onAnalysed?: (ref: InstanceRef, film: FilmAnalysis) => void;
}

/** The round trip: pass `analyse` and `handled` to {@link pollOnce}. */
export interface RoundTrip {
  readonly analyse: PollOptions['analyse'];
  readonly handled: HandledInstances;
}

/**
 * The registry source of a PACS instance: `pacs:` and its SOPInstanceUID remapped under the key (PS3.15 Annex E U
 * action), so the registry can find the film again without holding its real UID.
 * @param sopInstanceUid - the instance's UID in the PACS
 * @param key - the de-identification key
 */
export function pacsSourcePath(sopInstanceUid: string, key: string): string {
  return `pacs:${remapUid(sopInstanceUid, key)}`;
}

/**
 * Whether the registry records this PACS instance's results as stored (an audit entry {@link PACS_RESULTS_STORED} on
 * a file recorded at its source).
 * @param store - the registry
 * @param sopInstanceUid - the instance's UID in the PACS
 * @param key - the de-identification key
 */
export async function resultsStored(store: RegistryStore, sopInstanceUid: string, key: string): Promise<boolean> {
  for (const f of await store.filesAtPath(pacsSourcePath(sopInstanceUid, key))) {
    if ((await store.auditLog({ tableName: 'files', rowId: f.id })).some((e) => e.action === PACS_RESULTS_STORED)) return true;
  }
  return false;
}

/** The task line of a result: the caption's answer line, the refusal, or the error. */
function taskLine(task: Task, r: FilmResult): TaskLine {
  if (r.error !== undefined) return { task: task.name, outcome: 'error', text: `${r.error.name}: ${r.error.message}` };
  if (r.rejected !== undefined) return { task: task.name, outcome: 'refused', text: r.rejected.reason };
  const [answer = ''] = resultCaption(task, r);
  return { task: task.name, outcome: 'answered', text: answer };
}

/**
 * The analysis and the handled record of a PACS round trip, over one registry (see the module comment).
 *
 * Why SR and SC per task: the SR carries the coded, machine-readable answer or the reason there is none (PS3.16 TID
 * 1500; IHE AI Results); the SC is what every viewer shows (PS3.3 A.8.1), so a refused film gets no picture — there
 * is no heat map of an answer that was not given. A task whose analysis failed gets neither, and the film is still
 * handled: the error is the model's and a retry would repeat it; it is reported in the film's lines.
 * @param o - the registry, the opened models, the key, the picture size and a callback per analysed film
 */
export function pacsRoundTrip(o: RoundTripOptions): RoundTrip {
  // the objects written for each film analysed and not yet marked handled (a failed store leaves its entry until the retry)
  const films = new Map<string, FilmAnalysis>();
  const tasksByName = new Map(o.models.tasks.map((t) => [t.task.name, t.task as Task]));
  const maxSidePx = o.maxPictureSidePx ?? DEFAULT_MAX_PICTURE_SIDE_PX;

  const analyse = async (bytes: Uint8Array, ref: InstanceRecord): Promise<Uint8Array[]> => {
    const source = sourceStudyOf(bytes, 'the retrieved film');
    const pictures = new Map<string, { display: Uint8Array; saliency: Float32Array; grid: { width: number; height: number }; method: string }>();
    const { outcome, results } = await ingestBytes(
      { store: o.store, models: o.models, key: o.key },
      {
        bytes,
        sourcePath: pacsSourcePath(ref.sopInstanceUid, o.key),
        sidecar: false,
        reanalyseRecorded: true,
        ...(o.maxPixels === undefined ? {} : { maxPixels: o.maxPixels }),
        onSaliency: (task, s) => {
          // the film as analysed (after the gate's corrections) is the grid the map explains
          const film = { width: s.radiograph.columns, height: s.radiograph.rows };
          const grid = pictureGrid(film, maxSidePx);
          pictures.set(task, { display: displayOnGrid(s.radiograph, grid), saliency: saliencyOnFilm(s.map, s.prepared, film, grid), grid, method: s.method });
        },
      },
    );
    const objects: Uint8Array[] = [];
    const written: WrittenObject[] = [];
    const lines: TaskLine[] = [];
    for (const r of results) {
      const task = tasksByName.get(r.task);
      if (task === undefined) continue;
      lines.push(taskLine(task, r));
      if (r.error !== undefined) continue;
      const srUid = newUid();
      objects.push(await writeStructuredReport({ source, ...reportContentOf(task, r), sopInstanceUid: srUid, seriesNumber: SR_SERIES_NUMBER }));
      written.push({ kind: 'structured-report', task: task.name, sopInstanceUid: srUid });
      const picture = pictures.get(task.name);
      if (r.answer === undefined || picture === undefined) continue;
      const image = await renderResultImage({
        display: { width: picture.grid.width, height: picture.grid.height, data: picture.display },
        saliency: { width: picture.grid.width, height: picture.grid.height, data: picture.saliency },
        lines: resultCaption(task, r),
      });
      const modelId = r.model?.id ?? r.composite?.id ?? task.name;
      const scUid = newUid();
      const corrections = r.gate?.corrections ?? [];
      const sc = await writeSecondaryCapture({
        source,
        sopInstanceUid: scUid,
        image,
        corrected: corrections.length > 0,
        derivationDescription: `${picture.method} of ${modelId} over the film as analysed${corrections.length > 0 ? ` (${corrections.join('; ')})` : ''}; answer burned in`,
        seriesDescription: `Physis ${task.name} result image`,
        seriesNumber: SC_SERIES_NUMBER,
      });
      objects.push(sc);
      written.push({ kind: 'secondary-capture', task: task.name, sopInstanceUid: scUid });
    }
    const film: FilmAnalysis = { status: outcome.status, ...(outcome.reason === undefined ? {} : { reason: outcome.reason }), tasks: lines, objects: written };
    films.set(ref.sopInstanceUid, film);
    o.onAnalysed?.(ref, film);
    return objects;
  };

  const handled: HandledInstances = {
    seen: (sopInstanceUid) => resultsStored(o.store, sopInstanceUid, o.key),
    async markHandled(ref: InstanceRef, stow: StowResult | undefined) {
      const rows = await o.store.filesAtPath(pacsSourcePath(ref.sopInstanceUid, o.key));
      const row = rows[rows.length - 1];
      if (row === undefined) throw new Error('the film is not recorded in the registry: its results cannot be marked stored');
      const film = films.get(ref.sopInstanceUid);
      const detail: JsonValue = {
        storedCount: stow?.storedCount ?? 0,
        failedCount: stow?.failedCount ?? 0,
        objects: (film?.objects ?? []).map((w) => ({ kind: w.kind, task: w.task, sopInstanceUid: w.sopInstanceUid })),
      };
      await o.store.appendAudit({ action: PACS_RESULTS_STORED, tableName: 'files', rowId: row.id, detail });
      films.delete(ref.sopInstanceUid);
    },
  };
  return { analyse, handled };
}
