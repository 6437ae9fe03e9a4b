/**
 * Bearer-token authorisation: a route names the least role it needs; the request's token is checked against the
 * hashed tokens file and the holder is kept on the request (the reviewer's name in the audit log).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from './errors.js';
import { roleAllows, type Role, type TokenEntry, type TokenStore } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's holder, once authorised. */
    holder: TokenEntry | null;
  }
}

/** The bearer token of a request, or null. */
export function bearerOf(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  const m = h === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? null;
}

/**
 * A pre-handler that lets a request through only with a known token whose role allows `needed`.
 * @param tokens - the server's tokens
 * @param needed - the least role
 */
export function requireRole(tokens: TokenStore, needed: Role): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request) => {
    const token = bearerOf(request);
    if (token === null) throw new UnauthorizedError('this endpoint needs a bearer token (Authorization: Bearer <token>)');
    const holder = tokens.verify(token);
    if (holder === null) throw new UnauthorizedError('the token is not known to this server (revoked, or from another server)');
    if (!roleAllows(holder.role, needed)) throw new ForbiddenError(`the token's role ${holder.role} may not do this; it needs ${needed}`);
    request.holder = holder;
  };
}
