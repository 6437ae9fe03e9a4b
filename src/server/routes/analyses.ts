/**
 * `POST /api/analyses`: a film's bytes in, its analysis out — the gate first, then every served task that accepts it
 * (or the ones named), stored in the registry, de-identified, with heat maps kept for the viewer.
 *
 * @example
 * $ curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: image/png' --data-binary @samples/hand-0.png \
 *     'http://127.0.0.1:8080/api/analyses?sex=F'
 * {"instanceId":1,"status":"stored","results":[{"task":"hand-bone-age","outcome":"answered","summary":"bone age 15.3 months …", …}]}
 */
import type { FastifyInstance } from 'fastify';
import { isJpeg, isPng, looksLikeDicom } from '../../radiograph/index.js';
import { requireRole } from '../auth.js';
import { analysisView } from '../analysis-view.js';
import type { ServerContext } from '../context.js';
import { BadRequestError, ServiceUnavailableError, UnanalysableFilmError, UnsupportedFilmError } from '../errors.js';
import { ANALYSIS_SCHEMA, AUTH_ERRORS, ERROR_SCHEMA } from '../schemas.js';

/** The media types a film may be sent as. */
export const FILM_MEDIA_TYPES = ['application/dicom', 'image/png', 'image/jpeg', 'application/octet-stream'] as const;

/** The tasks a request names (comma-separated), checked against the served ones; null for all. */
function tasksOf(ctx: ServerContext, raw: string | undefined): string[] | null {
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'auto') return null;
  const names = [...new Set(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  for (const n of names) {
    if (!ctx.tasks.some((t) => t.task.name === n)) throw new BadRequestError(`task ${n} is not served here (served: ${ctx.tasks.map((t) => t.task.name).join(', ')})`);
  }
  return names;
}

/** The task inputs given as query parameters, each parsed by its own parser; an unknown parameter is an error. */
function givenOf(ctx: ServerContext, query: Readonly<Record<string, string>>, tasks: readonly string[] | null): Record<string, string | null> {
  const specs = new Map(ctx.tasks.filter((t) => tasks === null || tasks.includes(t.task.name)).flatMap((t) => t.task.inputs.map((s) => [s.name, s] as const)));
  const given: Record<string, string | null> = {};
  for (const [key, raw] of Object.entries(query)) {
    if (key === 'task') continue;
    const spec = specs.get(key);
    if (spec === undefined) throw new BadRequestError(`query parameter ${key} is not an input of the requested tasks (inputs: ${[...specs.keys()].join(', ') || 'none'})`);
    try {
      given[key] = spec.parse(raw, `query parameter ${key}`);
    } catch (e) {
      throw new BadRequestError(e instanceof Error ? e.message : String(e));
    }
  }
  return given;
}

/** Register the upload route. */
export function registerAnalysisRoutes(app: FastifyInstance, ctx: ServerContext, o: { readonly maxUploadBytes: number }): void {
  // a film is taken as the raw body: no multipart framing for a client to get wrong (curl --data-binary, fetch(file))
  app.addContentTypeParser([...FILM_MEDIA_TYPES], { parseAs: 'buffer', bodyLimit: o.maxUploadBytes }, (_request, body, done) => done(null, body));
  app.post(
    '/api/analyses',
    {
      preHandler: requireRole(ctx.tokens, 'review'),
      bodyLimit: o.maxUploadBytes,
      schema: {
        summary: 'analyse a film (DICOM, PNG or JPEG as the raw body)',
        tags: ['analyses'],
        security: [{ bearer: [] }],
        consumes: [...FILM_MEDIA_TYPES],
        querystring: {
          type: 'object',
          properties: { task: { type: 'string', description: 'a served task, several separated by commas, or auto (every task the gate passes the film for)' } },
          additionalProperties: { type: 'string', description: "a task input by name, e.g. sex=F or age-months=130" },
        },
        response: { 200: ANALYSIS_SCHEMA, 400: ERROR_SCHEMA, 413: ERROR_SCHEMA, 415: ERROR_SCHEMA, 422: ERROR_SCHEMA, 503: ERROR_SCHEMA, ...AUTH_ERRORS },
      },
    },
    async (request) => {
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw new UnsupportedFilmError('send the film as the request body (Content-Type application/dicom, image/png, image/jpeg or application/octet-stream)');
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      if (!looksLikeDicom(bytes) && !isPng(bytes) && !isJpeg(bytes)) {
        throw new UnsupportedFilmError(`the body is not a DICOM, PNG or JPEG file (${bytes.length} bytes)`);
      }
      const query = request.query as Readonly<Record<string, string>>;
      const tasks = tasksOf(ctx, query['task']);
      const given = givenOf(ctx, query, tasks);
      // the worker gets its own copy (the transfer detaches it), so the request's buffer stays valid
      const reply = await ctx.pool.analyse({ bytes: new Uint8Array(bytes), tasks, given });
      if (!reply.ok) throw new ServiceUnavailableError(`the analysis failed: ${reply.error.name}: ${reply.error.message}`);
      const out = reply.outcome;
      if (out.status === 'quarantined') throw new UnanalysableFilmError(out.reason ?? 'the film could not be analysed');
      if (out.status === 'failed' || out.instanceId == null) throw new UnanalysableFilmError(out.reason ?? 'the film could not be read');
      return analysisView(ctx, out.instanceId, { status: out.status, fileId: out.fileId });
    },
  );
}
