/**
 * `POST /api/instances/:id/reviews`: a person accepts, corrects or rejects a task's latest result; the registry keeps
 * it with the token holder's name in its audit log.
 *
 * @example
 * $ curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
 *     -d '{"task":"hand-bone-age","verdict":"correct","label":"18"}' http://127.0.0.1:8080/api/instances/1/reviews
 * {"id":1,"instanceId":1,"task":"hand-bone-age","verdict":"correct","label":"18","reviewer":"alice", …}
 */
import type { FastifyInstance } from 'fastify';
import { REVIEW_VERDICTS, RegistryInputError, RegistryNotFoundError, type ReviewVerdict } from '../../registry/index.js';
import { requireRole } from '../auth.js';
import { instanceRow } from '../analysis-view.js';
import type { ServerContext } from '../context.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { AUTH_ERRORS, ERROR_SCHEMA } from '../schemas.js';

/** Register the review route. */
export function registerReviewRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/api/instances/:id/reviews',
    {
      preHandler: requireRole(ctx.tokens, 'review'),
      schema: {
        summary: "accept, correct or reject a task's latest result",
        tags: ['registry'],
        security: [{ bearer: [] }],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        body: {
          type: 'object',
          required: ['task', 'verdict'],
          additionalProperties: false,
          properties: {
            task: { type: 'string' },
            verdict: { type: 'string', enum: [...REVIEW_VERDICTS] },
            label: { type: 'string', minLength: 1, maxLength: 200 },
            note: { type: 'string', maxLength: 2000 },
          },
        },
        response: { 201: { type: 'object', additionalProperties: true }, 400: ERROR_SCHEMA, 404: ERROR_SCHEMA, ...AUTH_ERRORS },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: number };
      const b = request.body as { task: string; verdict: ReviewVerdict; label?: string; note?: string };
      if (b.verdict === 'correct' && b.label === undefined) throw new BadRequestError('a correction needs its label');
      if (b.verdict !== 'correct' && b.label !== undefined) throw new BadRequestError(`a label goes with a correction, not with ${b.verdict}`);
      await instanceRow(ctx, id);
      const review = await ctx.store
        .recordReview({
          instanceId: id,
          task: b.task,
          verdict: b.verdict,
          reviewer: request.holder?.name ?? 'unknown',
          ...(b.label === undefined ? {} : { label: b.label }),
          ...(b.note === undefined ? {} : { note: b.note }),
        })
        .catch((e: unknown) => {
          // the registry refuses a task the film has no result for (RegistryNotFoundError) and a malformed value: the
          // client's to fix, so 404/400 with the registry's one line rather than a 500
          if (e instanceof RegistryNotFoundError) throw new NotFoundError(e.message);
          if (e instanceof RegistryInputError) throw new BadRequestError(e.message);
          throw e;
        });
      return reply.code(201).send(review);
    },
  );
}
