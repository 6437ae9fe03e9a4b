/**
 * `GET /api/tasks`: what this server answers, with each model's identity and the inputs a film may be given.
 *
 * @example
 * $ curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/tasks
 * {"tasks":[{"name":"hand-bone-age","model":{"id":"…","weightsSha256":"…"},"inputs":[{"name":"sex","values":["M","F"], …}]}]}
 */
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../auth.js';
import type { ServerContext } from '../context.js';
import { AUTH_ERRORS } from '../schemas.js';

/** Register the tasks route. */
export function registerTaskRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/tasks', { preHandler: requireRole(ctx.tokens, 'read'), schema: { summary: 'the served tasks', tags: ['tasks'], security: [{ bearer: [] }], response: { ...AUTH_ERRORS } } }, () => ({
    tasks: ctx.tasks.map((t) => ({
      name: t.task.name,
      description: t.task.description,
      model: t.model,
      inputs: t.task.inputs.map((i) => ({ name: i.name, description: i.description, ...(i.values === undefined ? {} : { values: i.values }) })),
    })),
    gate: ctx.gate,
  }));
}
