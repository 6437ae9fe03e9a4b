/**
 * `GET /api/health` (the process runs) and `GET /api/ready` (models loaded, registry open): unauthenticated, for a
 * load balancer or an orchestrator's probes.
 *
 * @example
 * $ curl -s http://127.0.0.1:8080/api/ready
 * {"ready":true,"tasks":[{"name":"hand-bone-age","model":{"id":"hand-bone-age-…","weightsSha256":"…"}}],"gate":{…},"workers":1}
 */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** Register the health routes. */
export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/api/health', { schema: { summary: 'the process runs', tags: ['health'] } }, () => ({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));
  app.get('/api/ready', { schema: { summary: 'models loaded and the registry open', tags: ['health'] } }, async (_request, reply) => {
    const load = ctx.pool.load;
    const ready = load.workers > 0;
    return reply.code(ready ? 200 : 503).send({
      ready,
      tasks: ctx.tasks.map((t) => ({ name: t.task.name, model: t.model })),
      gate: ctx.gate,
      workers: load.workers,
      busy: load.busy,
      queued: load.queued,
      registry: ctx.store.engine,
    });
  });
}
