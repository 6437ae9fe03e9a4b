/**
 * Token administration (role admin): make a token (shown once), list them (no secrets), revoke one.
 *
 * @example
 * $ curl -s -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d '{"name":"alice","role":"review"}' http://127.0.0.1:8080/api/tokens
 * {"name":"alice","role":"review","token":"phy_…"}
 */
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../auth.js';
import type { ServerContext } from '../context.js';
import { AUTH_ERRORS, ERROR_SCHEMA } from '../schemas.js';
import { ROLES, type Role } from '../tokens.js';

/** Register the token routes. */
export function registerTokenRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const admin = requireRole(ctx.tokens, 'admin');
  const name = { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,64}$' } as const;
  app.post(
    '/api/tokens',
    {
      preHandler: admin,
      schema: {
        summary: 'make a token (its only copy is in the answer)',
        tags: ['tokens'],
        security: [{ bearer: [] }],
        body: { type: 'object', required: ['name', 'role'], additionalProperties: false, properties: { name, role: { type: 'string', enum: [...ROLES] } } },
        response: { 201: { type: 'object', properties: { name: { type: 'string' }, role: { type: 'string' }, token: { type: 'string' } } }, 409: ERROR_SCHEMA, ...AUTH_ERRORS },
      },
    },
    async (request, reply) => {
      const b = request.body as { name: string; role: Role };
      const token = ctx.tokens.add(b.name, b.role);
      ctx.log(`token ${b.name} (${b.role}) made by ${request.holder?.name ?? '?'}`);
      return reply.code(201).send({ name: b.name, role: b.role, token });
    },
  );
  app.get('/api/tokens', { preHandler: admin, schema: { summary: 'the tokens (no secrets)', tags: ['tokens'], security: [{ bearer: [] }], response: { ...AUTH_ERRORS } } }, () => ({
    tokens: ctx.tokens.list().map(({ sha256: _hash, ...t }) => t),
  }));
  app.delete(
    '/api/tokens/:name',
    { preHandler: admin, schema: { summary: 'revoke a token', tags: ['tokens'], security: [{ bearer: [] }], params: { type: 'object', required: ['name'], properties: { name } }, response: { 204: { type: 'null' }, 404: ERROR_SCHEMA, ...AUTH_ERRORS } } },
    async (request, reply) => {
      const n = (request.params as { name: string }).name;
      ctx.tokens.revoke(n);
      ctx.log(`token ${n} revoked by ${request.holder?.name ?? '?'}`);
      return reply.code(204).send();
    },
  );
}
