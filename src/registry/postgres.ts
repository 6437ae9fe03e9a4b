/**
 * The one file that touches `pg`; it is loaded lazily so a SQLite user never loads it (STYLE.md: heavy or optional
 * dependencies live behind one adapter file each and load lazily).
 *
 * PostgreSQL is for a registry several people or machines share: concurrent writers, roles, backups and
 * point-in-time recovery are the server's. The URL may name a schema (`?schema=name`) so several registries (or
 * test runs) share one database; it is created if absent and set as the connection's search_path at startup, so
 * no statement can land in another schema.
 * Transactions are READ COMMITTED (the default); the store's writes stay exactly-once under it because each one
 * is an `INSERT … ON CONFLICT DO NOTHING` followed by a read, which waits for a concurrent insert of the same key
 * to commit and then sees it. Migrations take a transaction-scoped advisory lock so two processes opening an empty
 * database apply them once.
 */
import type * as PgTypes from 'pg';
import { RegistryError, RegistryUnreachableError } from './errors.js';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql-driver.js';

type PgModule = typeof PgTypes;
let pgModule: Promise<PgModule> | null = null;

function loadPg(): Promise<PgModule> {
  pgModule ??= import('pg').then(
    (m) => m,
    (e: unknown) => {
      pgModule = null;
      throw new RegistryUnreachableError(`pg could not be loaded (${(e as Error).message})`);
    },
  );
  return pgModule;
}

/** The advisory lock key that serialises migrations (ASCII `phys`). */
const MIGRATION_LOCK_KEY = 0x70687973;
/** PostgreSQL's type OID of int8 (bigint): ids and counts. */
const INT8_OID = 20;

/** Options of {@link openPostgresDriver}. */
export interface PostgresDriverOptions {
  /** The schema to use (created if absent); null for the server's default search_path. */
  readonly schema: string | null;
  /** How long to wait for a connection, in milliseconds. */
  readonly connectTimeoutMs: number;
  /** Where the server is, for messages (`host:port/database`, never the password). */
  readonly where: string;
}

/** The cause of a connection failure in a few words (Node reports a refused dual-stack connect as AggregateError). */
function describe(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown; errors?: readonly { code?: unknown }[] };
  const code = err.code ?? err.errors?.[0]?.code;
  if (typeof code === 'string' && !/^[0-9A-Z]{5}$/.test(code)) return code;
  return typeof err.message === 'string' && err.message !== '' ? err.message : String(e);
}

/** `?` placeholders to PostgreSQL's `$1, $2, …` (the store's SQL has no literal `?`). */
function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * Connect to a PostgreSQL registry and check the server answers.
 * @param connectionString - a `postgres://` URL without Physis' own parameters
 * @param options - schema, connect timeout, and the server's name for messages
 * @throws RegistryUnreachableError when the server cannot be reached or refuses the login
 */
export async function openPostgresDriver(connectionString: string, options: PostgresDriverOptions): Promise<SqlDriver> {
  const pg = await loadPg();
  const quotedSchema = options.schema === null ? null : `"${options.schema}"`;
  const pool = new pg.Pool({
    connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    max: 4,
    ...(quotedSchema === null ? {} : { options: `-c search_path=${quotedSchema}` }),
    types: {
      // int8 as a number: ids and counts stay far below 2^53
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as PgTypes.CustomTypesConfig['getTypeParser'],
    },
  });
  // an idle client's error (the server restarted) must not crash the process; the next query reports it
  pool.on('error', () => undefined);
  const connect = async (): Promise<PgTypes.PoolClient> => {
    try {
      return await pool.connect();
    } catch (e) {
      throw new RegistryUnreachableError(`cannot reach PostgreSQL registry at ${options.where} (${describe(e)})`, { cause: e });
    }
  };
  try {
    (await connect()).release();
  } catch (e) {
    await pool.end();
    throw e;
  }
  const placeholders = new Map<string, string>();
  const numbered = (sql: string): string => {
    let s = placeholders.get(sql);
    if (s === undefined) {
      s = numberPlaceholders(sql);
      placeholders.set(sql, s);
    }
    return s;
  };
  const executorOf = (client: PgTypes.PoolClient): SqlExecutor => ({
    all: async (sql: string, params: readonly SqlValue[] = []) => (await client.query(numbered(sql), [...params])).rows as SqlRow[],
    run: async (sql: string, params: readonly SqlValue[] = []) => (await client.query(numbered(sql), [...params])).rowCount ?? 0,
    exec: async (sql: string) => {
      await client.query(sql);
    },
  });
  let closed = false;
  return {
    engine: 'postgres',
    async transaction<T>(mode: 'read' | 'write' | 'migrate', fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
      if (closed) throw new RegistryError('PostgreSQL registry is closed');
      const client = await connect();
      let broken: Error | undefined;
      try {
        await client.query(mode === 'read' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
        if (mode === 'migrate') {
          await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
          if (quotedSchema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quotedSchema}`);
        }
        const result = await fn(executorOf(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error; // the connection is gone: do not return it to the pool
        }
        throw e;
      } finally {
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
