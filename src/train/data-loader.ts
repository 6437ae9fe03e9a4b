/**
 * A batch data loader that runs a sample module (decode + preprocess + augment) in worker threads and
 * keeps N batches in flight ahead of the consumer.
 *
 * Why: the trainer should never wait on image decoding; with `prefetch` batches requested ahead, the
 * workers prepare batch k+1… while the engine trains on batch k (decoding off the main thread, as PyTorch's
 * worker processes do). Batches always arrive in order, and samples are deterministic per (seed, epoch, index), so
 * the worker count does not change results. Modelled on PyTorch's DataLoader (num_workers,
 * prefetch_factor, drop_last), with the item→sample function given as a module path because functions
 * cannot cross thread boundaries.
 *
 * @example
 * const loader = new DataLoader({ module: new URL('./my-sample.js', import.meta.url), items, batchSize: 16,
 *   workers: 2, prefetch: 4, seed: 1, shuffle: true });
 * for await (const batch of loader.epoch(0)) train(batch.fields['image'], batch.fields['target']);
 * await loader.close();
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DataLoaderError, TrainConfigError } from './errors.js';
import { asSampleModule, loadBatch, type Batch, type SampleModule } from './load-batch.js';
import { mixSeed, Rng } from './rng.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions<T> {
  /** Path or file URL of the sample module (exports `loadSample`, optionally `setup`). */
  readonly module: string | URL;
  /** The items (file names, labels); structured-cloneable, copied once to each worker. */
  readonly items: readonly T[];
  readonly batchSize: number;
  /** Worker threads; 0 loads on the calling thread. Default 2. */
  readonly workers?: number;
  /** Batches requested ahead of the consumer. Default 2 × workers (at least 1). */
  readonly prefetch?: number;
  readonly seed: number;
  /** Shuffle the order each epoch (seeded by seed and epoch). Default false. */
  readonly shuffle?: boolean;
  /** Drop a last, smaller batch. Default false. */
  readonly dropLast?: boolean;
  /** Passed to the sample function as `context.train`. Default true. */
  readonly train?: boolean;
  /**
   * On training passes, leave the augmentation to the consumer, who applies it to the whole batch (augmentBatch):
   * samples draw their parameters as before and pass them on as the batch field `augmentation`. Why: one batched
   * warp in the engine costs a fraction of a warp per film in a worker, and on a GPU it runs there. Default false.
   */
  readonly augmentInBatch?: boolean;
  /** Passed to `setup` and to every `loadSample` call as `context.options`. */
  readonly moduleOptions?: unknown;
  /**
   * This rank's share of the items in data-parallel training (PyTorch's DistributedSampler): each epoch's order
   * (shuffled alike on every rank) is padded by repeating its start to a multiple of the world size, and rank r takes
   * positions r, r + W, r + 2W, … So every rank has the same number of batches (a rank with fewer would wait in a
   * collective the others never start), and the ranks' batches k together are the single-process order's items.
   */
  readonly shard?: { readonly rank: number; readonly worldSize: number };
}

interface Pending {
  resolve(b: Batch): void;
  reject(e: Error): void;
  worker: number;
}

function moduleUrl(m: string | URL): string {
  if (m instanceof URL) return m.href;
  if (m.startsWith('file:')) return m;
  return pathToFileURL(isAbsolute(m) ? m : resolve(m)).href;
}

/** Loads batches of samples through a sample module, in worker threads, in order. */
export class DataLoader<T> {
  private readonly workerCount: number;
  private readonly prefetch: number;
  private workers: Worker[] = [];
  private load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private inline: Promise<SampleModule> | null = null;
  private closed = false;

  /** @param options - module, items, batch size, workers, prefetch, seed */
  constructor(private readonly options: DataLoaderOptions<T>) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new TrainConfigError(`batchSize ${options.batchSize} must be a positive integer`);
    }
    this.workerCount = options.workers ?? 2;
    if (!Number.isInteger(this.workerCount) || this.workerCount < 0) {
      throw new TrainConfigError(`workers ${this.workerCount} must be an integer >= 0`);
    }
    const shard = options.shard;
    if (shard !== undefined && !(Number.isInteger(shard.worldSize) && shard.worldSize >= 1 && Number.isInteger(shard.rank) && shard.rank >= 0 && shard.rank < shard.worldSize)) {
      throw new TrainConfigError(`shard rank ${shard.rank} of ${shard.worldSize}: need 0 <= rank < worldSize`);
    }
    this.prefetch = options.prefetch ?? Math.max(1, 2 * this.workerCount);
    if (!Number.isInteger(this.prefetch) || this.prefetch < 1) throw new TrainConfigError(`prefetch ${this.prefetch} must be >= 1`);
  }

  /** Items this loader serves per epoch (this rank's share when sharded). */
  private get itemsPerEpoch(): number {
    const n = this.options.items.length;
    const shard = this.options.shard;
    return shard === undefined ? n : Math.ceil(n / shard.worldSize);
  }

  /** Batches per epoch. */
  get stepsPerEpoch(): number {
    const n = this.itemsPerEpoch;
    return this.options.dropLast === true ? Math.floor(n / this.options.batchSize) : Math.ceil(n / this.options.batchSize);
  }

  /** Item indices of each batch of an epoch, in order. @param epoch - epoch index */
  batchIndices(epoch: number): number[][] {
    const order = this.options.items.map((_, i) => i);
    if (this.options.shuffle === true) new Rng(mixSeed(this.options.seed, 0x5eed, epoch)).shuffle(order);
    const shard = this.options.shard;
    if (shard !== undefined) {
      const padded = this.itemsPerEpoch * shard.worldSize;
      for (let i = 0; order.length < padded; i++) order.push(order[i % this.options.items.length] as number);
      const mine = order.filter((_, i) => i % shard.worldSize === shard.rank);
      order.length = 0;
      order.push(...mine);
    }
    const out: number[][] = [];
    for (let i = 0; i < this.stepsPerEpoch; i++) out.push(order.slice(i * this.options.batchSize, (i + 1) * this.options.batchSize));
    return out;
  }

  private startWorkers(): void {
    if (this.workers.length > 0 || this.workerCount === 0) return;
    const here = import.meta.url;
    const fromSource = here.endsWith('.ts');
    const entry = new URL(fromSource ? './loader-worker.ts' : './loader-worker.js', here);
    for (let w = 0; w < this.workerCount; w++) {
      const data = {
        moduleUrl: moduleUrl(this.options.module),
        items: this.options.items,
        seed: this.options.seed,
        moduleOptions: this.options.moduleOptions,
        augmentInBatch: this.options.augmentInBatch === true,
      };
      // From TypeScript sources (tests, tsx) the worker must register tsx before importing .ts files;
      // the compiled package starts the .js entry directly.
      const worker = fromSource
        ? new Worker(
            `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`,
            { eval: true, workerData: data },
          )
        : new Worker(entry, { workerData: data });
      worker.on('message', (msg: { id: number; batch?: Batch; error?: { name: string; message: string } }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.load[w] = (this.load[w] ?? 1) - 1;
        if (msg.batch) p.resolve(msg.batch);
        else p.reject(new DataLoaderError(`worker ${w}: ${msg.error?.message ?? 'unknown error'}`));
      });
      const fail = (error: Error): void => {
        for (const [id, p] of this.pending) {
          if (p.worker !== w) continue;
          this.pending.delete(id);
          p.reject(new DataLoaderError(`worker ${w} failed: ${error.name}: ${error.message}`));
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closed) fail(new DataLoaderError(`exited with code ${code}`));
      });
      this.workers.push(worker);
      this.load.push(0);
    }
  }

  private request(epoch: number, indices: number[]): Promise<Batch> {
    const train = this.options.train ?? true;
    if (this.workerCount === 0) {
      this.inline ??= (async () => {
        const mod = asSampleModule(await import(moduleUrl(this.options.module)), String(this.options.module));
        if (mod.setup) await mod.setup(this.options.moduleOptions);
        return mod;
      })();
      return this.inline.then((mod) =>
        loadBatch(mod, this.options.items, indices, {
          seed: this.options.seed,
          epoch,
          train,
          options: this.options.moduleOptions,
          augmentInBatch: this.options.augmentInBatch === true,
        }),
      );
    }
    this.startWorkers();
    let w = 0;
    for (let i = 1; i < this.workers.length; i++) if ((this.load[i] as number) < (this.load[w] as number)) w = i;
    const id = this.nextId++;
    this.load[w] = (this.load[w] as number) + 1;
    return new Promise<Batch>((resolveBatch, rejectBatch) => {
      this.pending.set(id, { resolve: resolveBatch, reject: rejectBatch, worker: w });
      (this.workers[w] as Worker).postMessage({ id, epoch, indices, train });
    });
  }

  /**
   * The batches of one epoch, in order, with `prefetch` batches requested ahead.
   * @param epoch - epoch index (seeds the shuffle and every sample's random stream)
   */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    if (this.closed) throw new DataLoaderError('the loader was closed');
    const plan = this.batchIndices(epoch);
    const inFlight: Promise<Batch>[] = [];
    let next = 0;
    const fill = (): void => {
      while (inFlight.length < this.prefetch && next < plan.length) {
        const p = this.request(epoch, plan[next++] as number[]);
        p.catch(() => undefined); // rejections are re-thrown when this batch is awaited below
        inFlight.push(p);
      }
    };
    fill();
    while (inFlight.length > 0) {
      const batch = await (inFlight.shift() as Promise<Batch>);
      fill();
      yield batch;
    }
  }

  /** Stop the worker threads; the loader cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
