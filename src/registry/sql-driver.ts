/**
 * The narrow seam between the registry's logic (sql-store.ts, written once) and an engine adapter (sqlite.ts,
 * postgres.ts): run parameterised SQL inside a transaction. Parameters are written `?` in the SQL text; the
 * PostgreSQL adapter numbers them (`$1`, `$2`), so the store's SQL never contains a literal `?`.
 */
import type { SqlEngine } from './migrations.js';

/** A SQL parameter value. */
export type SqlValue = string | number | null;

/** A result row: column name to value (integers and reals as numbers, text as strings). */
export type SqlRow = Readonly<Record<string, SqlValue>>;

/** Statements within one open transaction. */
export interface SqlExecutor {
  /** Every row of a query. */
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Run a statement for its effect; resolves to the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Run several statements without parameters (a migration). */
  exec(sql: string): Promise<void>;
}

/** An open connection (or pool) to one registry database. */
export interface SqlDriver {
  readonly engine: SqlEngine;
  /**
   * Run `fn` in a transaction, committed when it resolves and rolled back when it throws. A `write` transaction
   * takes the write lock at its start (SQLite `BEGIN IMMEDIATE`), so two writers wait on the busy timeout instead
   * of failing when one upgrades a read lock; a `read` one sees one consistent snapshot. `migrate` additionally
   * serialises schema migrations between processes.
   */
  transaction<T>(mode: 'read' | 'write' | 'migrate', fn: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The first row of a query, or null.
 * @param ex - the executor
 * @param sql - the query
 * @param params - its parameters
 */
export async function firstRow(ex: SqlExecutor, sql: string, params: readonly SqlValue[] = []): Promise<SqlRow | null> {
  const rows = await ex.all(sql, params);
  return rows[0] ?? null;
}
