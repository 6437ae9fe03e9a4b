/**
 * Open a registry by URL: the URL's scheme picks the engine, and only that engine's adapter loads its driver.
 */
import { RegistryUrlError } from './errors.js';
import { openPostgresDriver } from './postgres.js';
import { openSqlStore } from './sql-store.js';
import { openSqliteDriver } from './sqlite.js';
import type { OpenRegistryOptions, RegistryStore } from './types.js';

/** The registry a command uses when none is named: a SQLite file in the working folder. */
export const DEFAULT_REGISTRY_URL = 'sqlite:registry.db';

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** A schema name used unquoted-safe: letters, digits, underscore (PostgreSQL identifiers, at most 63 bytes). */
const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const ACCEPTED = "accepted: sqlite:<file>, sqlite::memory:, a bare file path, postgres://user@host:port/database[?schema=name]";

/** Where a registry URL points. */
export type RegistryLocation =
  | { readonly engine: 'sqlite'; readonly path: string }
  | { readonly engine: 'postgres'; readonly connectionString: string; readonly schema: string | null; readonly where: string };

/**
 * Parse a registry URL. `sqlite:<file>` (also `sqlite://<file>`, `sqlite:///abs/file`) and `sqlite::memory:`
 * name SQLite, as does a bare path without a scheme; `postgres://` or `postgresql://` name PostgreSQL, with an
 * optional `schema` parameter that Physis takes out before the URL reaches the driver.
 * Messages never repeat the URL (it may hold a password).
 * @param url - the registry URL
 * @throws RegistryUrlError for an unknown scheme, an empty path or a malformed PostgreSQL URL
 *
 * @example
 * parseRegistryUrl('sqlite::memory:'); // -> { engine: 'sqlite', path: ':memory:' }
 * parseRegistryUrl('postgres://postgres@127.0.0.1:5432/test?schema=spine');
 * // -> { engine: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:5432/test', schema: 'spine', where: '127.0.0.1:5432/test' }
 */
export function parseRegistryUrl(url: string): RegistryLocation {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (url.trim() === '') throw new RegistryUrlError(`empty registry URL; ${ACCEPTED}`);
    return { engine: 'sqlite', path: url };
  }
  if (scheme === 'sqlite') {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new RegistryUrlError(`sqlite: URL without a file; ${ACCEPTED}`);
    return { engine: 'sqlite', path };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new RegistryUrlError(`malformed ${scheme}: URL; ${ACCEPTED}`);
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new RegistryUrlError(`${scheme}: URL without a host; ${ACCEPTED}`);
    const schema = parsed.searchParams.get('schema');
    if (schema !== null && !SCHEMA_RE.test(schema)) {
      throw new RegistryUrlError('schema must be letters, digits and underscores, starting with a letter or underscore, at most 63');
    }
    parsed.searchParams.delete('schema');
    const database = parsed.pathname.replace(/^\//, '');
    return {
      engine: 'postgres',
      connectionString: parsed.toString(),
      schema,
      where: `${parsed.hostname}${parsed.port === '' ? '' : `:${parsed.port}`}/${database === '' ? '(default database)' : decodeURIComponent(database)}`,
    };
  }
  throw new RegistryUrlError(`unknown registry scheme '${scheme}:'; ${ACCEPTED}`);
}

/**
 * Open the registry at `url`, creating its schema (or migrating it to this code's version) first.
 * @param url - `sqlite:registry.db`, `sqlite::memory:`, or `postgres://user@host:5432/db[?schema=name]`
 * @param options - the audit actor, SQLite busy timeout, PostgreSQL connect timeout
 * @throws RegistryUrlError, RegistryUnreachableError, RegistrySchemaTooNewError
 *
 * @example
 * const store = await openRegistry('sqlite::memory:');
 * const { file } = await store.recordFile({ sourcePath: 'a.dcm', sha256: 'ab'.repeat(32), status: 'stored', instance: {} });
 * await store.countByStatus(); // -> { stored: 1, quarantined: 0, duplicate: 0, conflict: 0, total: 1 }
 * await store.close();
 */
export async function openRegistry(url: string, options: OpenRegistryOptions = {}): Promise<RegistryStore> {
  const location = parseRegistryUrl(url);
  const actor = options.actor ?? 'physis';
  const driver =
    location.engine === 'sqlite'
      ? await openSqliteDriver(location.path, { busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS })
      : await openPostgresDriver(location.connectionString, {
          schema: location.schema,
          connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          where: location.where,
        });
  return openSqlStore(driver, actor);
}
