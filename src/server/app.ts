/**
 * The Fastify application: plugins (OpenAPI, rate limit, the viewer's static files), the error shape every answer
 * shares, a log line per request that names the route pattern and never a patient, and the routes.
 */
import { existsSync } from 'node:fs';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import fastifyStatic from '@fastify/static';
import { bearerOf } from './auth.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';
import { registerAnalysisRoutes } from './routes/analyses.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerInstanceRoutes } from './routes/instances.js';
import { registerReviewRoutes } from './routes/reviews.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerQueueRoutes } from './routes/queue.js';
import type { QueueLocation } from '../jobs/index.js';
import { createHash } from 'node:crypto';

/** Limits and switches of the HTTP layer. */
export interface AppOptions {
  readonly maxUploadBytes: number;
  /** A request (upload and analysis included) taking longer is cut off. */
  readonly requestTimeoutMs: number;
  /** Requests per minute per token (per address without one). */
  readonly rateLimitPerMinute: number;
  /** The viewer's folder, served at `/`; null: no viewer. */
  readonly webDir: string | null;
  readonly version: string;
  /** The ingestion work queue whose counts `GET /api/queue` serves; null: no such route. */
  readonly queue: { readonly at: QueueLocation; readonly name: string } | null;
}

/** An error's answer: its own status and one line for a known error; 500 without internals otherwise. */
function errorReply(e: FastifyError | Error): { status: number; body: { error: string; message: string } } {
  if (e instanceof HttpError) return { status: e.statusCode, body: { error: e.name, message: e.message } };
  const fe = e as FastifyError;
  if (fe.validation !== undefined) return { status: 400, body: { error: 'BadRequestError', message: e.message } };
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const message =
      fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'the upload is larger than this server accepts'
        : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'send a film as application/dicom, image/png, image/jpeg or application/octet-stream'
          : e.message;
    return { status, body: { error: fe.code ?? e.name, message } };
  }
  return { status: 500, body: { error: 'InternalServerError', message: 'the server failed; the request was not completed (see the server log)' } };
}

/**
 * Build the application over a running context.
 * @param ctx - the registry, pool, data folder, tokens and tasks
 * @param o - limits and the viewer's folder
 */
export async function buildApp(ctx: ServerContext, o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    requestTimeout: o.requestTimeoutMs,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  });
  app.decorateRequest('holder', null);

  app.setErrorHandler((e: FastifyError, request, reply) => {
    const { status, body } = errorReply(e);
    if (status >= 500) ctx.log(`${request.method} ${request.routeOptions.url ?? '(no route)'} failed: ${e.name}: ${e.message.replace(/\s*\n\s*/g, ' ')}`);
    void reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'NotFoundError', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` });
  });
  // one line per request: the route's pattern (never its ids or query, which may carry inputs), status and time
  app.addHook('onResponse', async (request, reply) => {
    ctx.log(`${request.method} ${request.routeOptions.url ?? '(no route)'} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Physis', version: o.version, description: 'Pediatric radiograph AI: every film passes the suitability gate first; every answer names its model and weights.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(rateLimit, {
    max: o.rateLimitPerMinute,
    timeWindow: 60_000,
    // per token (hashed, so the limiter's memory holds no secret), else per address
    keyGenerator: (request) => {
      const t = bearerOf(request);
      return t === null ? `ip:${request.ip}` : `token:${createHash('sha256').update(t).digest('hex').slice(0, 16)}`;
    },
    errorResponseBuilder: (_request, context) => {
      const e = new HttpError(429, `more than ${context.max} requests a minute; try again in ${Math.ceil(context.ttl / 1000)} s`);
      e.name = 'RateLimitError';
      return e;
    },
  });

  registerHealthRoutes(app, ctx);
  registerTaskRoutes(app, ctx);
  registerAnalysisRoutes(app, ctx, { maxUploadBytes: o.maxUploadBytes });
  registerInstanceRoutes(app, ctx);
  registerReviewRoutes(app, ctx);
  registerTokenRoutes(app, ctx);
  if (o.queue !== null) registerQueueRoutes(app, ctx, o.queue);
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  if (o.webDir !== null && existsSync(o.webDir)) await app.register(fastifyStatic, { root: o.webDir, prefix: '/', index: ['index.html'] });
  return app;
}
