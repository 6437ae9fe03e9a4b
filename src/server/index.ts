/**
 * The Physis server: an HTTP API and the web viewer over the one analysis pipeline (gate first, every task that
 * accepts the film), writing every analysis into the registry. Models are opened once per analysis worker thread, so
 * the event loop stays free while films are analysed.
 *
 * @example
 * const server = await startServer({ ...DEFAULT_SERVE_OPTIONS, tasks: [{ task: getTask('hand-bone-age'), dir: 'models/hand-bone-age' }], gateDir: 'models/suitability', key });
 * server.url; // -> 'http://127.0.0.1:8080'
 * await server.close();
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_QUEUE_NAME, parseQueueUrl } from '../jobs/index.js';
import { openRegistry } from '../registry/index.js';
import type { Task } from '../tasks/index.js';
import { AnalysisPool } from './analysis-pool.js';
import { buildApp } from './app.js';
import type { ServerContext } from './context.js';
import { FilmStore } from './film-store.js';
import { TokenStore } from './tokens.js';

export { ROLES, isRole, TokenStore, type Role, type TokenEntry } from './tokens.js';
export { filmPreview, heatmapRgbaPng, type FilmPreview } from './film-store.js';
export { HttpError } from './errors.js';

/** Options of {@link startServer}. */
export interface ServeOptions {
  readonly host: string;
  /** 0: any free port. */
  readonly port: number;
  readonly registryUrl: string;
  /** Previews, heat maps, overlays and the tokens file. */
  readonly dataDir: string;
  readonly gateDir: string;
  readonly tasks: readonly { readonly task: Task; readonly dir: string }[];
  /** The de-identification key (pseudonyms, UIDs and date shifts in the registry). */
  readonly key: string;
  readonly workers: number;
  /** libtorch threads per worker (default: the cores shared out among the workers). */
  readonly threadsPerWorker?: number;
  readonly backend: 'auto' | 'onnx' | 'torch';
  readonly maxUploadBytes: number;
  /** Most pixels of an uploaded film. */
  readonly maxPixels: number;
  readonly analysisTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly rateLimitPerMinute: number;
  /** Films waiting for a worker beyond this are refused with 503. */
  readonly maxQueued: number;
  readonly previewMaxSide: number;
  readonly webDir: string | null;
  readonly version: string;
  /** An ingestion work queue (`redis://…`) whose counts `GET /api/queue` serves. */
  readonly queueUrl?: string;
  readonly queueName?: string;
  /** Where the server's own lines go (one per request; never a patient identifier). */
  readonly log: (line: string) => void;
}

/** The limits a server starts with unless told otherwise. */
export const DEFAULT_SERVE_LIMITS = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  workers: 1,
  backend: 'auto' as const,
  maxUploadBytes: 256 * 1024 * 1024,
  maxPixels: 2 ** 26,
  analysisTimeoutMs: 120_000,
  requestTimeoutMs: 180_000,
  rateLimitPerMinute: 600,
  maxQueued: 64,
  previewMaxSide: 1024,
});

/** A running server. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  /** An admin token made because the data folder had none (its only copy: print it once). */
  readonly firstAdminToken: string | null;
  readonly context: ServerContext;
  close(): Promise<void>;
}

/**
 * Open the registry, start the analysis workers (each opens the gate and every task's models), and listen.
 * @param o - see {@link ServeOptions}
 * @throws the registry's or a model folder's error, before anything listens
 */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const films = new FilmStore(o.dataDir);
  const tokens = new TokenStore(join(o.dataDir, 'tokens.json'));
  const firstAdminToken = tokens.list().length === 0 ? tokens.add('admin', 'admin') : null;
  const store = await openRegistry(o.registryUrl, { actor: 'physis serve' });
  let pool: AnalysisPool | null = null;
  try {
    const threads = o.threadsPerWorker ?? Math.max(1, Math.floor(availableParallelism() / o.workers));
    pool = await AnalysisPool.open({
      workers: o.workers,
      timeoutMs: o.analysisTimeoutMs,
      maxQueued: o.maxQueued,
      log: o.log,
      init: {
        registryUrl: o.registryUrl,
        dataDir: o.dataDir,
        gateDir: o.gateDir,
        tasks: o.tasks.map((t) => ({ name: t.task.name, dir: t.dir })),
        key: o.key,
        threads,
        backend: o.backend,
        maxPixels: o.maxPixels,
        previewMaxSide: o.previewMaxSide,
      },
    });
    const served = pool.models;
    const ctx: ServerContext = {
      store,
      pool,
      films,
      tokens,
      tasks: o.tasks.map((t) => ({ task: t.task, dir: t.dir, model: served.tasks.find((s) => s.name === t.task.name)?.model ?? { id: '', weightsSha256: '' } })),
      gate: served.gate,
      log: o.log,
    };
    const queue = o.queueUrl === undefined ? null : { at: parseQueueUrl(o.queueUrl), name: o.queueName ?? DEFAULT_QUEUE_NAME };
    const app = await buildApp(ctx, { maxUploadBytes: o.maxUploadBytes, requestTimeoutMs: o.requestTimeoutMs, rateLimitPerMinute: o.rateLimitPerMinute, webDir: o.webDir, version: o.version, queue });
    await app.listen({ host: o.host, port: o.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : o.port;
    const host = o.host.includes(':') ? `[${o.host}]` : o.host;
    const p = pool;
    return {
      url: `http://${host}:${port}`,
      port,
      app,
      firstAdminToken,
      context: ctx,
      async close() {
        await app.close();
        await p.close();
        await store.close();
      },
    };
  } catch (e) {
    await pool?.close();
    await store.close();
    throw e;
  }
}
