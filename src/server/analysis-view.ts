/**
 * An analysis as the API returns it: the stored film's de-identified metadata, where its preview is, and each task's
 * latest result from the registry with its line for people, its model, the gate's verdict, its heat map and review.
 */
import { getTask, type FilmResult, type Task } from '../tasks/index.js';
import type { JsonValue, LatestResult, RegistryRow } from '../registry/index.js';
import type { ServerContext } from './context.js';
import { NotFoundError } from './errors.js';

type Json = Readonly<Record<string, JsonValue>>;

function isObject(v: JsonValue | undefined): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function taskOrNull(name: string): Task | null {
  try {
    return getTask(name);
  } catch {
    return null;
  }
}

/** One task's result as the API shows it. */
export function resultView(ctx: ServerContext, instanceId: number, sha256: string, r: LatestResult): Record<string, unknown> {
  const p = r.prediction;
  const outputs: Json = isObject(p.outputs) ? p.outputs : {};
  const answer = isObject(outputs['answer']) ? outputs['answer'] : undefined;
  const rejected = typeof outputs['rejected'] === 'string' ? outputs['rejected'] : undefined;
  const error = typeof outputs['error'] === 'string' ? outputs['error'] : undefined;
  const inputs = isObject(outputs['inputs']) ? outputs['inputs'] : undefined;
  const warnings = Array.isArray(outputs['warnings']) ? outputs['warnings'] : [];
  const model = { id: p.modelId, weightsSha256: p.weightsSha256 };
  let summary: string;
  const task = taskOrNull(p.task);
  if (answer !== undefined && task !== null) {
    const film: FilmResult = { file: `instance #${instanceId}`, task: p.task, answer, ...(inputs === undefined ? {} : { inputs: inputs as unknown as FilmResult['inputs'] }), model: { ...model, version: '', dir: '' } };
    try {
      summary = task.format(film).replace(/^instance #\d+: /, '');
    } catch {
      summary = JSON.stringify(answer);
    }
  } else {
    summary = rejected !== undefined ? `refused: ${rejected}` : error !== undefined ? `error: ${error}` : '';
  }
  const film = ctx.films.filmInfo(sha256, p.task);
  const base = `/api/instances/${instanceId}`;
  return {
    task: p.task,
    outcome: answer !== undefined ? 'answered' : rejected !== undefined ? 'refused' : 'error',
    summary,
    ...(answer === undefined ? {} : { answer }),
    ...(rejected !== undefined ? { reason: rejected, byGate: p.gate?.passed === false } : error !== undefined ? { reason: error } : {}),
    label: r.label,
    confidence: p.confidence,
    model,
    gate: p.gate,
    warnings,
    ...(inputs === undefined ? {} : { inputs }),
    ...(film === null
      ? {}
      : {
          imageUrl: `${base}/image?task=${p.task}`,
          imageRows: film.rows,
          imageColumns: film.columns,
          imageWindowCenter: film.windowCenter,
          imageWindowWidth: film.windowWidth,
          heatmapUrl: `${base}/heatmap/${p.task}`,
          overlayUrl: `${base}/overlay/${p.task}`,
          ...(film.heatmapMethod === undefined ? {} : { heatmapMethod: film.heatmapMethod }),
        }),
    reviewState: r.reviewState,
    review: r.review,
    createdAt: p.createdAt,
  };
}

/** The stored row of an instance (the stored file, not a duplicate of it). @throws NotFoundError */
export async function instanceRow(ctx: ServerContext, instanceId: number): Promise<RegistryRow & { instance: NonNullable<RegistryRow['instance']> }> {
  const rows = await ctx.store.listInstances({ instanceId, status: 'stored' });
  const row = rows[0];
  if (row === undefined || row.instance === null) throw new NotFoundError(`no instance #${instanceId}`);
  return row as RegistryRow & { instance: NonNullable<RegistryRow['instance']> };
}

/**
 * The Analysis of an instance (see docs/server-api.md).
 * @param ctx - the server
 * @param instanceId - the registry's instance id
 * @param extra - fields of the upload's answer (status, file id)
 */
export async function analysisView(ctx: ServerContext, instanceId: number, extra: Readonly<Record<string, unknown>> = {}): Promise<Record<string, unknown>> {
  const row = await instanceRow(ctx, instanceId);
  const i = row.instance;
  const results = row.results.map((r) => resultView(ctx, instanceId, i.sha256, r));
  // the film as the first answering task analysed it (after the gate's corrections), else as read
  const firstTask = results.find((r) => r['outcome'] === 'answered' && typeof r['imageUrl'] === 'string')?.['task'];
  const shown = typeof firstTask === 'string' ? firstTask : null;
  const info = ctx.films.filmInfo(i.sha256, shown) ?? ctx.films.filmInfo(i.sha256, null);
  return {
    instanceId,
    fileId: row.file.id,
    status: 'stored',
    ...extra,
    recordedAt: i.recordedAt,
    instance: {
      modality: i.modality,
      bodyPart: i.bodyPart,
      view: i.view,
      laterality: i.laterality,
      sex: i.sex,
      ageMonths: i.ageMonths,
      acquisitionDateShifted: i.acquisitionDateShifted,
    },
    ...(info === null
      ? {}
      : { image: { url: `/api/instances/${instanceId}/image${shown === null ? '' : `?task=${shown}`}`, rows: info.rows, columns: info.columns, windowCenter: info.windowCenter, windowWidth: info.windowWidth } }),
    results,
  };
}
