/**
 * Fuzz worker (test helper): decodes each mutated file it is sent and reports the outcome, so the test can
 * kill it on a hang and watch its memory. Runs in a worker thread, inheriting tsx from the test process.
 */
import { parentPort } from 'node:worker_threads';
import { RadiographError, readRadiographBytes } from '../../src/radiograph/index.js';

/** One case sent by the test. */
export interface FuzzCase {
  readonly id: number;
  readonly label: string;
  readonly bytes: Uint8Array;
}

/** What the worker answers. */
export interface FuzzOutcome {
  readonly id: number;
  readonly kind: 'decoded' | 'typed-error' | 'other-error';
  readonly detail: string;
  readonly arrayBuffersBytes: number;
}

parentPort?.on('message', (c: FuzzCase) => {
  const reply = (kind: FuzzOutcome['kind'], detail: string): void => {
    const outcome: FuzzOutcome = {
      id: c.id,
      kind,
      detail,
      arrayBuffersBytes: process.memoryUsage().arrayBuffers,
    };
    parentPort?.postMessage(outcome);
  };
  readRadiographBytes(c.bytes, c.label).then(
    (r) => {
      const consistent = r.pixels.length === r.rows * r.columns && r.rows > 0 && r.columns > 0;
      reply(
        consistent ? 'decoded' : 'other-error',
        consistent ? `${r.columns}x${r.rows}` : 'pixels disagree with rows x columns',
      );
    },
    (e: unknown) => {
      if (e instanceof RadiographError) reply('typed-error', e.name);
      else reply('other-error', e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e));
    },
  );
});
