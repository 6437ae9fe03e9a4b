/**
 * The thread pools that size themselves from the environment when their library loads — OpenMP's
 * (`OMP_NUM_THREADS`, which libtorch's intra-op parallelism runs on) and OpenBLAS's (`OPENBLAS_NUM_THREADS`) — set
 * from a command's `--threads N` before the engine is loaded: setting libtorch's thread count afterwards bounds only
 * the calling thread, and several single-threaded worker processes on one machine otherwise each spread over every
 * core (measured on 2 cores: two `physis worker --threads 1` gave 1.42× one worker's throughput; with both variables
 * set to 1 in the environment, 1.68× and 1.53× in two runs of the same benchmark).
 * Imported first by the CLI's entry, for its side effect only; a value already in the environment wins.
 */
const argv = process.argv;
const at = argv.findIndex((a) => a === '--threads' || a.startsWith('--threads='));
const raw = at < 0 ? undefined : argv[at]?.startsWith('--threads=') ? argv[at]?.slice('--threads='.length) : argv[at + 1];
if (raw !== undefined && /^[1-9]\d{0,3}$/.test(raw)) {
  for (const name of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS']) process.env[name] ??= raw;
}
export {};
