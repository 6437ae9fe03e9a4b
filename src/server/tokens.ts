/**
 * Bearer tokens with roles, stored hashed: the file keeps the SHA-256 of each token (32 random bytes, so a plain
 * hash cannot be reversed by guessing; a slow hash is for low-entropy passwords), its name, role and creation time.
 * A token is shown once, when it is made (as GitHub's and GitLab's personal access tokens are).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ConflictError, NotFoundError } from './errors.js';

/** What a token may do; each role includes the ones before it. */
export type Role = 'read' | 'review' | 'admin';
/** Every role, lowest first. */
export const ROLES: readonly Role[] = Object.freeze(['read', 'review', 'admin']);

/** A token as stored (never the token itself). */
export interface TokenEntry {
  readonly name: string;
  readonly role: Role;
  readonly sha256: string;
  readonly createdAt: string;
}

/** Whether `role` may do what `needed` allows. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Whether a string names a role. */
export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

const sha256Of = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** The tokens file of a server (see the module comment). */
export class TokenStore {
  private entries: TokenEntry[];

  constructor(readonly path: string) {
    this.entries = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { tokens: TokenEntry[] }).tokens : [];
  }

  private save(): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ tokens: this.entries }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  /** The stored entries (no secrets in them). */
  list(): readonly TokenEntry[] {
    return this.entries;
  }

  /**
   * Make a token; the returned string is its only copy.
   * @param name - who or what holds it (the reviewer's name in the audit log)
   * @param role - what it may do
   * @throws ConflictError when the name is taken
   */
  add(name: string, role: Role): string {
    if (this.entries.some((e) => e.name === name)) throw new ConflictError(`a token named ${name} exists; revoke it first`);
    const token = `phy_${randomBytes(32).toString('base64url')}`;
    this.entries.push({ name, role, sha256: sha256Of(token), createdAt: new Date().toISOString() });
    this.save();
    return token;
  }

  /** Revoke a token by name. @throws NotFoundError when there is none */
  revoke(name: string): void {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.name !== name);
    if (this.entries.length === before) throw new NotFoundError(`no token named ${name}`);
    this.save();
  }

  /** The entry of a presented token, or null (compared in constant time). */
  verify(token: string): TokenEntry | null {
    const h = Buffer.from(sha256Of(token), 'hex');
    let found: TokenEntry | null = null;
    for (const e of this.entries) if (timingSafeEqual(Buffer.from(e.sha256, 'hex'), h)) found = e;
    return found;
  }
}
