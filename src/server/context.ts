/**
 * What every route shares: the registry (reads and reviews; the workers write the analyses), the analysis pool, the
 * data folder, the tokens and the served tasks.
 */
import type { RegistryStore } from '../registry/index.js';
import type { Task } from '../tasks/index.js';
import type { AnalysisPool } from './analysis-pool.js';
import type { FilmStore } from './film-store.js';
import type { TokenStore } from './tokens.js';

/** A served task with its model's identity. */
export interface ServedTask {
  readonly task: Task;
  readonly dir: string;
  readonly model: { readonly id: string; readonly weightsSha256: string };
}

/** The shared state of a running server. */
export interface ServerContext {
  readonly store: RegistryStore;
  readonly pool: AnalysisPool;
  readonly films: FilmStore;
  readonly tokens: TokenStore;
  readonly tasks: readonly ServedTask[];
  readonly gate: { readonly id: string; readonly weightsSha256: string };
  readonly log: (line: string) => void;
}
