/**
 * The data-parallel launcher: starts one worker process per rank on this node, torchrun-style, gives each its
 * rank through the environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and when
 * one worker fails stops the others and reports which rank failed first.
 *
 * Why processes and not threads: libtorch's intra-op thread pool and its autograd engine are process-wide, and
 * c10d's Gloo group is one per process in PyTorch's design; separate processes are what torchrun launches.
 * Reference: PyTorch docs, "torchrun (Elastic Launch)" and the env:// initialisation of torch.distributed.
 *
 * @example
 * const code = await launchWorkers({ nprocPerNode: 2, entry: { moduleUrl: mainUrl, argv: ['train', task, …] } });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { TrainConfigError } from './errors.js';

/** The rank and rendezvous of this process, as torchrun's environment variables give them. */
export interface DistributedEnv {
  readonly rank: number;
  readonly worldSize: number;
  readonly localRank: number;
  readonly localWorldSize: number;
  readonly masterAddr: string;
  readonly masterPort: number;
}

/** A worker of a data-parallel run exited with an error; the message names the rank that failed first. */
export class WorkerFailedError extends Error {
  override name = 'WorkerFailedError';
  /**
   * @param message - the one-line report
   * @param rank - the rank that failed first
   */
  constructor(
    message: string,
    readonly rank: number,
  ) {
    super(message);
  }
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new TrainConfigError(`${name}=${v}: expected a non-negative integer`);
  return n;
}

/**
 * This process's place in a data-parallel run from RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (LOCAL_RANK and
 * LOCAL_WORLD_SIZE optional), or null when RANK is unset. Why: workers started by {@link launchWorkers}, by torchrun or
 * manually on other nodes read the same variables (torch.distributed's env:// method).
 * @param env - default process.env
 */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | null {
  const rank = envInt(env, 'RANK');
  if (rank === undefined) return null;
  const worldSize = envInt(env, 'WORLD_SIZE');
  const masterPort = envInt(env, 'MASTER_PORT');
  const masterAddr = env['MASTER_ADDR'];
  if (worldSize === undefined || masterPort === undefined || masterAddr === undefined || masterAddr === '') {
    throw new TrainConfigError('RANK is set, so WORLD_SIZE, MASTER_ADDR and MASTER_PORT must be too');
  }
  if (rank >= worldSize) throw new TrainConfigError(`RANK ${rank} must be below WORLD_SIZE ${worldSize}`);
  const localWorldSize = envInt(env, 'LOCAL_WORLD_SIZE') ?? 1;
  const localRank = envInt(env, 'LOCAL_RANK') ?? 0;
  return { rank, worldSize, localRank, localWorldSize, masterAddr, masterPort };
}

/**
 * Engine threads per worker when none is asked for: the node's cores shared by its workers, less the data-loader
 * threads. Why: N processes each taking every core would oversubscribe the CPU N times.
 * @param localWorldSize - workers on this node
 * @param loaderWorkers - data-loader threads of each worker
 */
export function threadsPerWorker(localWorldSize: number, loaderWorkers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, localWorldSize)) - loaderWorkers);
}

/** A free TCP port on this host (the master port of a single-node run, torchrun's standalone mode). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Options of {@link launchWorkers}. */
export interface LaunchOptions {
  /** Worker processes on this node. */
  readonly nprocPerNode: number;
  /** Nodes in the run (default 1); each node runs the launcher with its own nodeRank. */
  readonly nnodes?: number;
  /** This node's index, 0 ≤ nodeRank < nnodes (default 0); node 0's first worker is rank 0 and hosts the store. */
  readonly nodeRank?: number;
  /** Rank 0's host (default 127.0.0.1; required with several nodes). */
  readonly masterAddr?: string;
  /** Rank 0's store port (default: a free port, single node only). */
  readonly masterPort?: number;
  /** What each worker runs: `(await import(moduleUrl))[exportName](argv)` resolving to an exit code. */
  readonly entry: { readonly moduleUrl: string; readonly exportName?: string; readonly argv: readonly string[] };
  /** A line for a person (which rank failed, which were stopped). */
  readonly onNote?: (line: string) => void;
  /**
   * GPU training: the GPUs of this node to give out, one per local rank, in order (the ids CUDA_VISIBLE_DEVICES
   * takes). Each worker then sees only its own GPU as `cuda`. Why: NCCL refuses two ranks on one device, and a rank
   * that names `cuda` must mean its own GPU (torchrun leaves this to the script's `torch.cuda.set_device(LOCAL_RANK)`).
   */
  readonly gpuPerRank?: readonly string[];
}

/**
 * The GPUs a node can give its ranks: CUDA_VISIBLE_DEVICES's entries where it is set, else 0 … count − 1.
 * @param env - the environment (CUDA_VISIBLE_DEVICES)
 * @param count - the GPUs the engine sees
 */
export function visibleGpus(env: NodeJS.ProcessEnv, count: number): string[] {
  const listed = env['CUDA_VISIBLE_DEVICES'];
  if (listed !== undefined) return listed.split(',').map((s) => s.trim()).filter((s) => s !== '').slice(0, count);
  return Array.from({ length: count }, (_, i) => String(i));
}

/**
 * Starts `nprocPerNode` workers with their ranks in the environment and waits for them. Resolves when all exit 0;
 * rejects with {@link WorkerFailedError} naming the first rank to fail, after stopping the others (SIGTERM). Worker
 * stdout of local rank 0 and its stderr pass through; other ranks' stderr lines are prefixed `[rank r]`. Why: one
 * command for a multi-process run, and a failed rank that cannot leave the others waiting.
 * @param o - process count, nodes, master address and port, what each worker runs
 */
export async function launchWorkers(o: LaunchOptions): Promise<void> {
  const nnodes = o.nnodes ?? 1;
  const nodeRank = o.nodeRank ?? 0;
  if (!Number.isInteger(o.nprocPerNode) || o.nprocPerNode < 1) throw new TrainConfigError(`nproc-per-node ${o.nprocPerNode} must be >= 1`);
  if (!Number.isInteger(nnodes) || nnodes < 1) throw new TrainConfigError(`nnodes ${nnodes} must be >= 1`);
  if (!Number.isInteger(nodeRank) || nodeRank < 0 || nodeRank >= nnodes) throw new TrainConfigError(`node-rank ${nodeRank} must be in [0, ${nnodes})`);
  if (nnodes > 1 && (o.masterAddr === undefined || o.masterPort === undefined)) {
    throw new TrainConfigError('several nodes meet at one address: give --master-addr host:port (rank 0\'s node)');
  }
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  const masterPort = o.masterPort ?? (await freePort());
  const worldSize = nnodes * o.nprocPerNode;
  const gpus = o.gpuPerRank;
  if (gpus !== undefined && gpus.length < o.nprocPerNode) {
    throw new TrainConfigError(
      `--nproc-per-node ${o.nprocPerNode} on GPUs needs one GPU per rank; this node has ${gpus.length}${gpus.length > 0 ? ` (${gpus.join(', ')})` : ''}`,
    );
  }
  // the rank runs rank-entry (.ts beside this file under tsx, .js in dist), never `node -e`: see rank-entry.ts
  const ownSource = import.meta.url.endsWith('.ts');
  const rankEntry = fileURLToPath(new URL(ownSource ? './rank-entry.ts' : './rank-entry.js', import.meta.url));
  const fromSource = ownSource || o.entry.moduleUrl.endsWith('.ts');
  const children: { rank: number; child: ChildProcess }[] = [];
  let firstFailure: WorkerFailedError | null = null;
  const exits: Promise<void>[] = [];
  for (let local = 0; local < o.nprocPerNode; local++) {
    const rank = nodeRank * o.nprocPerNode + local;
    const child = spawn(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), rankEntry], {
      env: {
        ...process.env,
        RANK: String(rank),
        WORLD_SIZE: String(worldSize),
        LOCAL_RANK: String(local),
        LOCAL_WORLD_SIZE: String(o.nprocPerNode),
        GROUP_RANK: String(nodeRank),
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(masterPort),
        ...(gpus === undefined ? {} : { CUDA_VISIBLE_DEVICES: gpus[local] }),
        PHYSIS_WORKER_MODULE: o.entry.moduleUrl,
        PHYSIS_WORKER_EXPORT: o.entry.exportName ?? 'main',
        PHYSIS_WORKER_ARGV: JSON.stringify(o.entry.argv),
      },
      stdio: local === 0 ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'ignore', 'pipe'],
    });
    if (local !== 0 && child.stderr !== null) {
      let pending = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) process.stderr.write(`[rank ${rank}] ${line}\n`);
      });
      child.stderr.on('end', () => {
        if (pending !== '') process.stderr.write(`[rank ${rank}] ${pending}\n`);
      });
    }
    children.push({ rank, child });
    exits.push(
      new Promise<void>((done) => {
        child.on('error', (e) => {
          firstFailure ??= new WorkerFailedError(`rank ${rank} could not start: ${e.message}`, rank);
          stopOthers(rank);
          done();
        });
        child.on('exit', (exitCode, signal) => {
          if (exitCode !== 0 && firstFailure === null) {
            const how = signal === null ? `exit code ${exitCode}` : `signal ${signal}`;
            firstFailure = new WorkerFailedError(`rank ${rank} of ${worldSize} failed (${how}); the other ranks were stopped`, rank);
            stopOthers(rank);
          }
          done();
        });
      }),
    );
  }
  function stopOthers(failed: number): void {
    const stopped = children.filter((c) => c.rank !== failed && c.child.exitCode === null && c.child.signalCode === null);
    if (stopped.length > 0) o.onNote?.(`rank ${failed} failed: stopping rank ${stopped.map((c) => c.rank).join(', ')}`);
    for (const c of stopped) c.child.kill('SIGTERM');
  }
  await Promise.all(exits);
  if (firstFailure !== null) throw firstFailure;
}
