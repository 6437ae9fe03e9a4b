/**
 * The registry as the viewer reads it: the list with filters, one analysis, the film's preview, each task's heat map
 * and overlay picture, and the review queue.
 *
 * @example
 * $ curl -s -H "Authorization: Bearer $TOKEN" 'http://127.0.0.1:8080/api/instances?task=hand-bone-age&reviewState=unreviewed'
 * {"rows":[{"instanceId":1,"status":"stored","results":[{"task":"hand-bone-age","label":"15.3","reviewState":"unreviewed", …}]}]}
 */
import type { FastifyInstance } from 'fastify';
import { REVIEW_STATES, FILE_STATUSES, type InstanceFilter, type ReviewState, type FileStatus } from '../../registry/index.js';
import { requireRole } from '../auth.js';
import { analysisView, instanceRow } from '../analysis-view.js';
import type { ServerContext } from '../context.js';
import { NotFoundError } from '../errors.js';
import { ANALYSIS_SCHEMA, AUTH_ERRORS, ERROR_SCHEMA } from '../schemas.js';

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;
const TASK_PARAMS = { type: 'object', required: ['id', 'task'], properties: { id: { type: 'integer', minimum: 1 }, task: { type: 'string', pattern: '^[a-z0-9-]+$' } } } as const;

/** Register the registry routes. */
export function registerInstanceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const read = requireRole(ctx.tokens, 'read');
  app.get(
    '/api/instances',
    {
      preHandler: read,
      schema: {
        summary: 'the registry, newest first, with filters',
        tags: ['registry'],
        security: [{ bearer: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            task: { type: 'string' },
            status: { type: 'string', enum: [...FILE_STATUSES] },
            reviewState: { type: 'string', enum: [...REVIEW_STATES] },
            label: { type: 'string' },
            confidenceBelow: { type: 'number', minimum: 0, maximum: 1 },
            confidenceAbove: { type: 'number', minimum: 0, maximum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 400: ERROR_SCHEMA, ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const q = request.query as { task?: string; status?: FileStatus; reviewState?: ReviewState; label?: string; confidenceBelow?: number; confidenceAbove?: number; limit: number; offset: number };
      const filter: InstanceFilter = {
        newestFirst: true,
        limit: q.limit,
        offset: q.offset,
        ...(q.task === undefined ? {} : { task: q.task }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.reviewState === undefined ? {} : { reviewState: q.reviewState }),
        ...(q.label === undefined ? {} : { label: q.label }),
        ...(q.confidenceBelow === undefined ? {} : { confidenceBelow: q.confidenceBelow }),
        ...(q.confidenceAbove === undefined ? {} : { confidenceAbove: q.confidenceAbove }),
      };
      const rows = await ctx.store.listInstances(filter);
      return {
        rows: rows.map((r) => ({
          instanceId: r.file.instanceId,
          fileId: r.file.id,
          status: r.file.status,
          recordedAt: r.file.recordedAt,
          ...(r.file.quarantineReason === null ? {} : { reason: r.file.quarantineReason }),
          modality: r.instance?.modality ?? null,
          bodyPart: r.instance?.bodyPart ?? null,
          sex: r.instance?.sex ?? null,
          ageMonths: r.instance?.ageMonths ?? null,
          results: r.results.map((x) => ({ task: x.prediction.task, label: x.label, confidence: x.prediction.confidence, reviewState: x.reviewState, modelId: x.prediction.modelId, gatePassed: x.prediction.gate?.passed ?? null })),
        })),
      };
    },
  );

  app.get(
    '/api/instances/:id',
    { preHandler: read, schema: { summary: 'the analysis of a stored film', tags: ['registry'], security: [{ bearer: [] }], params: ID_PARAMS, response: { 200: ANALYSIS_SCHEMA, 404: ERROR_SCHEMA, ...AUTH_ERRORS } } },
    async (request) => analysisView(ctx, (request.params as { id: number }).id),
  );

  app.get(
    '/api/instances/:id/image',
    {
      preHandler: read,
      schema: {
        summary: 'the film as analysed: rows × columns little-endian uint16, bright = dense (size and window in the analysis)',
        tags: ['registry'],
        security: [{ bearer: [] }],
        params: ID_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { task: { type: 'string', pattern: '^[a-z0-9-]+$' } } },
        response: { 404: ERROR_SCHEMA, ...AUTH_ERRORS },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const task = (request.query as { task?: string }).task ?? null;
      const row = await instanceRow(ctx, id);
      const info = ctx.films.filmInfo(row.instance.sha256, task);
      const pixels = ctx.films.filmPixels(row.instance.sha256, task);
      if (info === null || pixels === null) throw new NotFoundError(`instance #${id} has no kept film${task === null ? '' : ` for ${task}`}`);
      return reply
        .type('application/octet-stream')
        .header('x-rows', String(info.rows))
        .header('x-columns', String(info.columns))
        .header('x-window-center', String(info.windowCenter))
        .header('x-window-width', String(info.windowWidth))
        .header('cache-control', 'private, max-age=3600')
        .send(pixels);
    },
  );

  for (const kind of ['heatmap', 'overlay'] as const) {
    app.get(
      `/api/instances/:id/${kind}/:task`,
      {
        preHandler: read,
        schema: {
          summary: kind === 'heatmap' ? "the task's heat map on the film's grid: RGBA PNG, alpha = saliency" : 'film, heat map and answer in one RGB PNG',
          tags: ['registry'],
          security: [{ bearer: [] }],
          params: TASK_PARAMS,
          response: { 404: ERROR_SCHEMA, ...AUTH_ERRORS },
        },
      },
      async (request, reply) => {
        const { id, task } = request.params as { id: number; task: string };
        const row = await instanceRow(ctx, id);
        const png = kind === 'heatmap' ? ctx.films.heatmap(row.instance.sha256, task) : ctx.films.overlay(row.instance.sha256, task);
        if (png === null) throw new NotFoundError(`instance #${id} has no ${task} ${kind} (the task did not answer, or the film was analysed elsewhere)`);
        return reply.type('image/png').header('cache-control', 'private, max-age=3600').send(png);
      },
    );
  }

  app.get(
    '/api/review-queue',
    {
      preHandler: read,
      schema: {
        summary: 'results awaiting review: rejected first, then gate-refused, then by confidence',
        tags: ['registry'],
        security: [{ bearer: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { task: { type: 'string' }, confidenceBelow: { type: 'number', minimum: 0, maximum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        },
        response: { ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const q = request.query as { task?: string; confidenceBelow?: number; limit: number };
      const items = await ctx.store.reviewQueue({ limit: q.limit, ...(q.task === undefined ? {} : { task: q.task }), ...(q.confidenceBelow === undefined ? {} : { confidenceBelow: q.confidenceBelow }) });
      // the queue names the source path; an upload's is only its hash, an ingested film's a path that may name a patient
      return { items: items.map(({ sourcePath: _path, ...item }) => item) };
    },
  );
}
