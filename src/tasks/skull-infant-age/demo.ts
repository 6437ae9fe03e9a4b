/**
 * `physis demo skull-infant-age`: the whole path on a small phantom cohort in a few minutes — phantoms written as
 * DICOM, a small model trained and early-stopped on them, its dev report with Grad-CAM against the suture masks, the
 * held-out infants scored per view, and one AP and one lateral film answered with heat maps.
 *
 * Why: no public infant skull radiographs exist, so the demo cannot use real films; it shows a hospital what its own
 * archive would go through. Everything it makes is labelled as simulated, and the films skip the suitability gate,
 * which has never been trained on infant skulls (real or simulated): each answer says so.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { evaluateModels } from '../evaluate.js';
import { analyseFilm, closeTaskModels, openTaskModels } from '../pipeline.js';
import type { Gate } from '../suitability/index.js';
import type { FilmResult } from '../task.js';
import { labelsPath, trainTask } from '../training.js';
import type { ProgressEvent } from '../../train/index.js';
import { SKULL_INFANT_AGE_RECIPE, type SkullRecipe } from './config.js';
import { writeSkullPhantomCohort } from './phantom/index.js';
import { SKULL_INFANT_AGE_TASK } from './task.js';

/** The demo's cohort and model: small enough for a laptop in a few minutes. */
export const SKULL_DEMO = Object.freeze({ infants: 80, seed: 1, filmSizePx: 128, inputSize: 96, epochs: 10, batchSize: 16 });

/** What the demo made. */
export interface SkullDemoResult {
  readonly cohort: string;
  readonly bundle: string;
  readonly trainReport: string;
  readonly evaluationReport: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly films: readonly FilmResult[];
}

/**
 * Run the demo into a folder that must be new or empty.
 * @param outDir - where the cohort, model, reports and heat maps go
 * @param o - progress and note listeners
 * @throws InputError naming the folder when it already holds files
 */
export async function runSkullDemo(
  outDir: string,
  o: {
    /**
     * Opens the suitability gate the held-out films pass first (called once the model is trained; the gate is closed
     * with the models), or gives null and the reason it is skipped. Default: no gate.
     */
    openGate?: () => Promise<{ gate: Gate | null; gateSkipped?: string }>;
    onNote?: (line: string) => void;
    onProgress?: (e: ProgressEvent | { done: number; total: number }) => void;
  } = {},
): Promise<SkullDemoResult> {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new InputError(`${outDir} already holds files; give another --out-dir (the demo never overwrites)`);
  const cohort = join(outDir, 'phantoms');
  await writeSkullPhantomCohort(
    { outDir: cohort, infants: SKULL_DEMO.infants, seed: SKULL_DEMO.seed, size: SKULL_DEMO.filmSizePx, format: 'dicom' },
    (done, total) => o.onProgress?.({ done, total }),
  );
  const bundle = join(outDir, 'model');
  const recipe: SkullRecipe = { ...SKULL_INFANT_AGE_RECIPE, inputSize: SKULL_DEMO.inputSize, epochs: SKULL_DEMO.epochs, batchSize: SKULL_DEMO.batchSize };
  await trainTask(SKULL_INFANT_AGE_TASK, {
    data: cohort,
    outDir: bundle,
    recipe,
    command: 'physis demo skull-infant-age',
    ...(o.onNote ? { onNote: o.onNote } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const { gate, gateSkipped } = o.openGate === undefined ? { gate: null, gateSkipped: 'no suitability gate was given' } : await o.openGate();
  const models = openTaskModels(SKULL_INFANT_AGE_TASK, bundle, { gate, gateSkipped: gateSkipped ?? 'no suitability gate was given' });
  try {
    const rows = SKULL_INFANT_AGE_TASK.readLabels(labelsPath(cohort)).filter((r) => r.split === 'test');
    const evaluation = await evaluateModels(models, rows, { outDir: join(outDir, 'evaluation'), dataSummary: `${cohort} (split test): ${rows.length} phantom films` });
    const films: FilmResult[] = [];
    for (const view of ['AP', 'LATERAL'] as const) {
      const film = rows.find((r) => r.view === view);
      if (film === undefined) continue;
      films.push(await analyseFilm(models, film.path, { given: {}, heatmapPath: join(outDir, `${view.toLowerCase()}.heat.png`) }));
    }
    return { cohort, bundle, trainReport: join(bundle, 'report', 'report.html'), evaluationReport: evaluation.reportHtml, metrics: evaluation.metrics, films };
  } finally {
    await closeTaskModels(models);
  }
}
