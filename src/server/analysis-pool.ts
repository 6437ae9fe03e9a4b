/**
 * A pool of analysis worker threads: each holds its own copy of the models, takes one film at a time, and the pool
 * queues the rest. A worker that dies, or overruns the analysis timeout, fails its own film (the server answers 503
 * for it) and is replaced; the other films go on.
 */
import { Worker } from 'node:worker_threads';
import type { AnalysisJob, AnalysisReply, AnalysisWorkerInit, AnalysisWorkerStatus, ServedModels } from './analysis-protocol.js';
import { ServiceUnavailableError } from './errors.js';

/**
 * A new analysis worker: the compiled JavaScript beside this file, or (under tsx: tests, benchmarks) the TypeScript
 * source behind tsx's loader, which a worker thread does not inherit from the main thread and so registers itself.
 */
function newWorker(workerData: AnalysisWorkerInit): Worker {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new Worker(new URL('./analysis-worker.js', self), { workerData });
  const source = JSON.stringify(new URL('./analysis-worker.ts', self).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${source}); });`, { eval: true, workerData });
}

interface Pending {
  readonly job: Omit<AnalysisJob, 'id'>;
  readonly resolve: (r: AnalysisReply) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: { readonly id: number; readonly pending: Pending; readonly timer: NodeJS.Timeout } | null;
}

/** Options of {@link AnalysisPool.open}. */
export interface AnalysisPoolOptions {
  readonly init: AnalysisWorkerInit;
  readonly workers: number;
  /** A film taking longer fails with 503 and its worker is replaced. */
  readonly timeoutMs: number;
  /** Films waiting beyond this many are refused at once with 503 (back-pressure instead of unbounded memory). */
  readonly maxQueued: number;
  readonly log: (line: string) => void;
}

/** The analysis workers (see the module comment). */
export class AnalysisPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closing = false;
  /** The models the workers opened (the first worker's word; every worker opens the same folders). */
  models: ServedModels = { tasks: [], gate: { id: '', weightsSha256: '' } };

  private constructor(private readonly o: AnalysisPoolOptions) {}

  /**
   * Start the workers and wait until every one has opened its models.
   * @throws the first worker's error (a model folder that is not a verified bundle, a registry that cannot be opened)
   */
  static async open(o: AnalysisPoolOptions): Promise<AnalysisPool> {
    const pool = new AnalysisPool(o);
    try {
      for (let i = 0; i < o.workers; i++) pool.slots.push({ worker: await pool.spawn(), busy: null });
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Films being analysed and waiting. */
  get load(): { readonly busy: number; readonly queued: number; readonly workers: number } {
    return { busy: this.slots.filter((s) => s.busy !== null).length, queued: this.queue.length, workers: this.slots.length };
  }

  private spawn(): Promise<Worker> {
    const w = newWorker(this.o.init);
    return new Promise((resolve, reject) => {
      const onExit = (code: number): void => reject(new ServiceUnavailableError(`analysis worker exited (${code}) while opening its models`));
      w.once('error', reject);
      w.once('exit', onExit);
      w.once('message', (m: AnalysisWorkerStatus) => {
        w.off('error', reject);
        w.off('exit', onExit);
        if (!m.ready) {
          void w.terminate();
          const e = new Error(m.error.message);
          e.name = m.error.name;
          reject(e);
          return;
        }
        this.models = m.models;
        w.on('message', (r: AnalysisReply) => this.onReply(w, r));
        w.on('error', (e) => this.onDeath(w, `analysis worker failed: ${e.message}`));
        w.on('exit', (code) => this.onDeath(w, `analysis worker exited (${code})`));
        resolve(w);
      });
    });
  }

  /**
   * Analyse one film on the next free worker.
   * @param job - the bytes, the tasks and the given inputs (the bytes are transferred to the worker)
   * @throws ServiceUnavailableError when the queue is full, the pool is closing, or the film's worker died or overran
   */
  analyse(job: Omit<AnalysisJob, 'id'>): Promise<AnalysisReply> {
    if (this.closing) return Promise.reject(new ServiceUnavailableError('the server is shutting down'));
    if (this.queue.length >= this.o.maxQueued) return Promise.reject(new ServiceUnavailableError(`${this.queue.length} films are waiting already; try again shortly`));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy !== null) continue;
      const pending = this.queue.shift();
      if (pending === undefined) return;
      const id = this.nextId++;
      const timer = setTimeout(() => this.onTimeout(slot, id), this.o.timeoutMs);
      slot.busy = { id, pending, timer };
      const bytes = pending.job.bytes;
      slot.worker.postMessage({ ...pending.job, id } satisfies AnalysisJob, [bytes.buffer as ArrayBuffer]);
    }
  }

  private onReply(w: Worker, r: AnalysisReply): void {
    const slot = this.slots.find((s) => s.worker === w);
    if (slot?.busy == null || slot.busy.id !== r.id) return;
    clearTimeout(slot.busy.timer);
    const { pending } = slot.busy;
    slot.busy = null;
    pending.resolve(r);
    this.dispatch();
  }

  private onTimeout(slot: Slot, id: number): void {
    if (slot.busy?.id !== id) return;
    this.o.log(`analysis overran ${this.o.timeoutMs} ms; replacing its worker`);
    void this.replace(slot, new ServiceUnavailableError(`the analysis took longer than ${Math.round(this.o.timeoutMs / 1000)} s and was stopped`));
  }

  private onDeath(w: Worker, why: string): void {
    const slot = this.slots.find((s) => s.worker === w);
    if (slot === undefined || this.closing) return;
    this.o.log(why);
    void this.replace(slot, new ServiceUnavailableError(`the analysis failed: ${why}`));
  }

  /** Fail the slot's film, stop its worker and start a fresh one. */
  private async replace(slot: Slot, failure: Error): Promise<void> {
    const old = slot.worker;
    if (slot.busy !== null) {
      clearTimeout(slot.busy.timer);
      slot.busy.pending.reject(failure);
    }
    // the slot stays busy until its replacement has opened its models
    slot.busy = { id: -1, pending: { job: { bytes: new Uint8Array(0), tasks: null, given: {} }, resolve: () => undefined, reject: () => undefined }, timer: setTimeout(() => undefined, 0) };
    old.removeAllListeners();
    await old.terminate().catch(() => undefined);
    if (this.closing) return;
    try {
      slot.worker = await this.spawn();
      slot.busy = null;
      this.dispatch();
    } catch (e) {
      this.o.log(`could not replace an analysis worker: ${e instanceof Error ? e.message : String(e)}`);
      this.slots.splice(this.slots.indexOf(slot), 1);
      if (this.slots.length === 0) for (const p of this.queue.splice(0)) p.reject(new ServiceUnavailableError('no analysis worker is left'));
    }
  }

  /** Stop every worker; films still waiting fail with 503. */
  async close(): Promise<void> {
    this.closing = true;
    for (const p of this.queue.splice(0)) p.reject(new ServiceUnavailableError('the server is shutting down'));
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.busy !== null) {
          clearTimeout(s.busy.timer);
          s.busy.pending.reject(new ServiceUnavailableError('the server is shutting down'));
        }
        s.worker.removeAllListeners();
        await s.worker.terminate().catch(() => undefined);
      }),
    );
  }
}
