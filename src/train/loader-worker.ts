/**
 * Worker-thread entry of the data loader: imports the sample module once, then answers batch requests.
 *
 * Why: decoding, preprocessing and augmenting radiographs is CPU work; doing it in worker threads keeps
 * the main thread (and the engine) busy with training while the next batches are prepared.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { asSampleModule, loadBatch, type SampleModule } from './load-batch.js';

interface WorkerInit {
  readonly moduleUrl: string;
  readonly items: readonly unknown[];
  readonly seed: number;
  readonly moduleOptions: unknown;
  readonly augmentInBatch: boolean;
}

interface BatchRequest {
  readonly id: number;
  readonly epoch: number;
  readonly indices: readonly number[];
  readonly train: boolean;
}

const init = workerData as WorkerInit;
const port = parentPort;
let ready: Promise<SampleModule> | null = null;
let chain: Promise<void> = Promise.resolve();

async function prepare(): Promise<SampleModule> {
  const mod = asSampleModule(await import(init.moduleUrl), init.moduleUrl);
  if (mod.setup) await mod.setup(init.moduleOptions);
  return mod;
}

port?.on('message', (req: BatchRequest) => {
  chain = chain.then(async () => {
    try {
      ready ??= prepare();
      const mod = await ready;
      const batch = await loadBatch(mod, init.items, req.indices, {
        seed: init.seed,
        epoch: req.epoch,
        train: req.train,
        options: init.moduleOptions,
        augmentInBatch: init.augmentInBatch,
      });
      const buffers = Object.values(batch.fields).map((f) => f.buffer as ArrayBuffer);
      port.postMessage({ id: req.id, batch }, buffers);
    } catch (error) {
      const e = error as Error;
      port.postMessage({ id: req.id, error: { name: e.name, message: e.message } });
    }
  });
});
