/**
 * A rank program for the launcher test: starts a worker thread from a file (as the compiled data loader does) and
 * returns 0 once it answers, 1 if it fails to start. Why: a worker thread inherits its process's execArgv, so this
 * checks what the launcher put there.
 */
import { Worker } from 'node:worker_threads';

/** @param argv - [the path of a worker script that posts one message] */
export async function main(argv: readonly string[]): Promise<number> {
  const script = argv[0];
  if (script === undefined) return 2;
  return new Promise<number>((done) => {
    const w = new Worker(script);
    w.once('message', () => {
      void w.terminate();
      done(0);
    });
    w.once('error', (e) => {
      process.stderr.write(`worker failed: ${e.message}\n`);
      done(1);
    });
  });
}
