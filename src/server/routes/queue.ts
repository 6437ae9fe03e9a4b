/**
 * `GET /api/queue`: the ingestion work queue's counts (waiting, active, delayed, completed, failed) and its most
 * recent failures with their reasons, as `physis queue status` prints them; served when the server is given a queue.
 *
 * @example
 * $ curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/queue
 * {"name":"physis-ingest","where":"127.0.0.1:6379/0","counts":{"waiting":120,"active":2,"delayed":0,"completed":881,"failed":1},"failed":[…]}
 */
import type { FastifyInstance } from 'fastify';
import { queueStatus, type QueueLocation } from '../../jobs/index.js';
import { requireRole } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ServiceUnavailableError } from '../errors.js';
import { AUTH_ERRORS, ERROR_SCHEMA } from '../schemas.js';

/** Register the queue route. @param queue - where the queue is and its name */
export function registerQueueRoutes(app: FastifyInstance, ctx: ServerContext, queue: { readonly at: QueueLocation; readonly name: string }): void {
  app.get(
    '/api/queue',
    {
      preHandler: requireRole(ctx.tokens, 'read'),
      schema: {
        summary: "the ingestion queue's counts and recent failures",
        tags: ['queue'],
        security: [{ bearer: [] }],
        querystring: { type: 'object', additionalProperties: false, properties: { failedLimit: { type: 'integer', minimum: 0, maximum: 500, default: 20 } } },
        response: { 503: ERROR_SCHEMA, ...AUTH_ERRORS },
      },
    },
    async (request) => {
      try {
        return await queueStatus(queue.at, queue.name, { failedLimit: (request.query as { failedLimit: number }).failedLimit });
      } catch (e) {
        throw new ServiceUnavailableError(`the work queue does not answer: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  );
}
