/**
 * An analysis worker thread: opens the gate, every served task's models and the registry once, then analyses one
 * film per message with the same code as `physis ingest` (gate first, every task that accepts the film, one registry
 * transaction) and keeps the film's preview, heat maps and overlays in the data folder.
 */
import { createHash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { saliencyOnFilm, encodeRgbaPng } from '../explain/index.js';
import { renderResultImage, resultCaption } from '../pacs/index.js';
import { openRegistry, type RegistryStore } from '../registry/index.js';
import { getTask, ingestBytes, openIngestModels, suitability, type IngestModels } from '../tasks/index.js';
import { setNumThreads } from '../torch/index.js';
import type { AnalysisJob, AnalysisReply, AnalysisWorkerInit, AnalysisWorkerStatus } from './analysis-protocol.js';
import { filmPreview, FilmStore, heatmapRgbaPng, type FilmPreview } from './film-store.js';

const port = parentPort;
if (port === null) throw new Error('analysis-worker runs as a worker thread');
const init = workerData as AnalysisWorkerInit;

function errorOf(e: unknown): { name: string; message: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message.replace(/\s*\n\s*/g, ' ') };
}

/** The preview as 8-bit display values under its default window, for the overlay picture. */
function windowed(p: FilmPreview): Uint8Array {
  const lo = p.windowCenter - p.windowWidth / 2;
  const data = new Uint8Array(p.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(255 * Math.min(1, Math.max(0, ((p.data[i] as number) - lo) / p.windowWidth)));
  return data;
}

function rgbToRgba(rgb: Uint8Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = rgb[i * 3] as number;
    out[i * 4 + 1] = rgb[i * 3 + 1] as number;
    out[i * 4 + 2] = rgb[i * 3 + 2] as number;
    out[i * 4 + 3] = 255;
  }
  return out;
}

async function main(): Promise<void> {
  let models: IngestModels;
  let store: RegistryStore;
  const films = new FilmStore(init.dataDir);
  try {
    setNumThreads(init.threads);
    models = await openIngestModels({ gateDir: init.gateDir, tasks: init.tasks.map((t) => ({ task: getTask(t.name), dir: t.dir })), backend: init.backend });
    store = await openRegistry(init.registryUrl, { actor: 'physis serve' });
  } catch (e) {
    port?.postMessage({ ready: false, error: errorOf(e) } satisfies AnalysisWorkerStatus);
    return;
  }
  const g = suitability.gateProvenance(models.gate);
  const served = { tasks: models.tasks.map((t) => ({ name: t.task.name, model: { id: t.modelId, weightsSha256: t.weightsSha256 } })), gate: { id: g.id, weightsSha256: g.weightsSha256 } };
  port?.postMessage({ ready: true, models: served } satisfies AnalysisWorkerStatus);
  port?.on('message', (job: AnalysisJob | 'close') => {
    if (job === 'close') {
      void store.close().then(() => port.close());
      return;
    }
    void analyse(job).then((reply) => port.postMessage(reply));
  });

  async function analyse(job: AnalysisJob): Promise<AnalysisReply> {
    try {
      const sha256 = createHash('sha256').update(job.bytes).digest('hex');
      const wanted = job.tasks === null ? models.tasks : models.tasks.filter((t) => job.tasks?.includes(t.task.name));
      const maps = new Map<string, { preview: FilmPreview; map: Float32Array }>();
      const { outcome, results } = await ingestBytes(
        { store, models: { gate: models.gate, tasks: wanted }, key: init.key },
        {
          bytes: job.bytes,
          sourcePath: `upload:${sha256}`,
          maxPixels: init.maxPixels,
          sidecar: false,
          given: job.given,
          // what the registry keeps of the patient (sex, age) reads manifest column names: `age-months` is `age_months`
          columns: Object.fromEntries(Object.entries(job.given).flatMap(([k, v]) => (v === null ? [] : [[k.replace(/-/g, '_'), v]]))),
          onRead: (radiograph) => films.putFilm(sha256, null, filmPreview(radiograph, init.previewMaxSide)),
          onSaliency: (task, s) => {
            const p = filmPreview(s.radiograph, init.previewMaxSide);
            const map = saliencyOnFilm(s.map, s.prepared, { width: s.radiograph.columns, height: s.radiograph.rows }, { width: p.columns, height: p.rows });
            films.putFilm(sha256, task, p, s.method);
            films.putHeatmap(sha256, task, heatmapRgbaPng(map, p.columns, p.rows));
            maps.set(task, { preview: p, map });
          },
        },
      );
      // the overlay picture: film, heat map and the answer burned in, as the DICOM Secondary Capture carries it
      for (const r of results) {
        const m = maps.get(r.task);
        if (m === undefined || r.answer === undefined) continue;
        const { preview: p, map } = m;
        const rgb = await renderResultImage({ display: { width: p.columns, height: p.rows, data: windowed(p) }, saliency: { width: p.columns, height: p.rows, data: map }, lines: resultCaption(getTask(r.task), r) });
        films.putOverlay(sha256, r.task, encodeRgbaPng(rgbToRgba(rgb.data), rgb.width, rgb.height));
      }
      return { id: job.id, ok: true, sha256, outcome };
    } catch (e) {
      return { id: job.id, ok: false, error: errorOf(e) };
    }
  }
}

void main();
