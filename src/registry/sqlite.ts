/**
 * The one file that touches better-sqlite3; it is loaded lazily so a PostgreSQL deployment never needs the native
 * SQLite binary (STYLE.md: heavy or optional dependencies live behind one adapter file each and load lazily).
 *
 * SQLite is the default because a registry on one workstation needs no server: one file, backed up by copying.
 * Settings, each for a reason (https://www.sqlite.org/wal.html, https://www.sqlite.org/pragma.html):
 * - WAL journal: readers never block the writer, and two processes can share the file;
 * - busy timeout: a writer waits for another's lock instead of failing at once;
 * - `synchronous = NORMAL`: in WAL mode a transaction survives a killed process (only a power cut may lose the
 *   last commits, never corrupt the file);
 * - foreign keys on (SQLite leaves them off by default);
 * - write transactions `BEGIN IMMEDIATE`: the write lock is taken at the start, so a waiting writer is served by
 *   the busy timeout instead of failing on a read-to-write upgrade (SQLITE_BUSY without waiting).
 * better-sqlite3 is synchronous, so one connection runs one transaction at a time: calls on one store queue.
 * Share one store per file within a process: a second store's busy wait is synchronous and would stall the event
 * loop the first store's open transaction needs to finish (separate processes are fine: that is what WAL is for).
 */
import type BetterSqlite3 from 'better-sqlite3';
import { RegistryError, RegistryUnreachableError } from './errors.js';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './sql-driver.js';

type DatabaseConstructor = typeof BetterSqlite3;
let sqliteModule: Promise<DatabaseConstructor> | null = null;

function loadSqlite(): Promise<DatabaseConstructor> {
  sqliteModule ??= import('better-sqlite3').then(
    (m) => m.default,
    (e: unknown) => {
      sqliteModule = null;
      throw new RegistryUnreachableError(`better-sqlite3 could not be loaded (${(e as Error).message})`);
    },
  );
  return sqliteModule;
}

/** Options of {@link openSqliteDriver}. */
export interface SqliteDriverOptions {
  /** How long a writer waits for another connection's lock, in milliseconds. */
  readonly busyTimeoutMs: number;
}

/** Run async jobs one at a time, in call order. */
function createQueue(): <T>(job: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>): Promise<T> => {
    const result = tail.then(job, job);
    tail = result.catch(() => undefined);
    return result;
  };
}

/** Map SQLite's lock timeout to one clear line; other errors pass unchanged. */
function translate(e: unknown, busyTimeoutMs: number): unknown {
  const code = (e as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new RegistryError(`SQLite registry is locked by another writer beyond the busy timeout of ${busyTimeoutMs} ms`, { cause: e });
  }
  return e;
}

/**
 * Open (creating if absent) a SQLite registry file, or an in-memory one for `:memory:`.
 * @param path - file path, or `:memory:`
 * @param options - busy timeout
 * @throws RegistryUnreachableError when the file cannot be opened (missing folder, no permission, not a database)
 */
export async function openSqliteDriver(path: string, options: SqliteDriverOptions): Promise<SqlDriver> {
  const Database = await loadSqlite();
  let db: BetterSqlite3.Database;
  try {
    db = new Database(path, { timeout: options.busyTimeoutMs });
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (e) {
    throw new RegistryUnreachableError(`cannot open SQLite registry ${path} (${(e as Error).message})`, { cause: e });
  }
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string): BetterSqlite3.Statement => {
    let s = statements.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const guard = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(translate(e, options.busyTimeoutMs));
    }
  };
  const executor: SqlExecutor = {
    all: (sql: string, params: readonly SqlValue[] = []) => guard(() => prepare(sql).all(...params) as SqlRow[]),
    run: (sql: string, params: readonly SqlValue[] = []) => guard(() => prepare(sql).run(...params).changes),
    exec: (sql: string) => guard(() => void db.exec(sql)),
  };
  const enqueue = createQueue();
  let closed = false;
  return {
    engine: 'sqlite',
    transaction<T>(mode: 'read' | 'write' | 'migrate', fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
      return enqueue(async () => {
        if (closed) throw new RegistryError('SQLite registry is closed');
        await guard(() => db.exec(mode === 'read' ? 'BEGIN' : 'BEGIN IMMEDIATE'));
        try {
          const result = await fn(executor);
          await guard(() => db.exec('COMMIT'));
          return result;
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw e;
        }
      });
    },
    close(): Promise<void> {
      return enqueue(() => {
        if (!closed) {
          closed = true;
          statements.clear();
          db.close();
        }
        return Promise.resolve();
      });
    },
  };
}
