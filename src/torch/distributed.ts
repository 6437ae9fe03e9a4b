/**
 * Data-parallel training over libtorch's own distributed layer (c10d): a process group met through a TCPStore, with
 * all-reduce, broadcast and barrier, and {@link GradientAllReducer}, DistributedDataParallel's gradient averaging.
 *
 * Why c10d and not a transport of our own: it is the layer `torch.distributed` runs on, so Gloo's ring all-reduce on
 * CPU (and NCCL on GPUs, where libtorch has it) come tested, with PyTorch's rendezvous and timeouts. Collectives are
 * enqueued on the calling thread, in call order (every rank must issue the same collectives in the same order, as
 * c10d requires), and waited for off it: each returns a Promise and the event loop keeps turning. Every wait is
 * bounded by the group's timeout, so a rank that dies or stalls makes the others fail with a {@link DistributedError}
 * instead of hanging. Reference: PyTorch docs, "Distributed communication package - torch.distributed" and
 * "DistributedDataParallel" (torch.nn.parallel), 1.13.
 *
 * @example
 * const group = await initProcessGroup({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 29500 });
 * const t = tensor([1, 2], [2]);
 * await group.allReduce(t);   // t is now the sum of both ranks' t
 * group.destroy();
 */
import { DistributedError } from './errors.js';
import { N, type NativeGroup } from './native.js';
import { noGrad, tensor, zeros, type Tensor } from './tensor.js';

/** A c10d backend: Gloo (CPU tensors) or NCCL (CUDA tensors, where the addon was built with it). */
export type DistributedBackend = 'gloo' | 'nccl';

/** Options of {@link initProcessGroup}; the names of torch.distributed's env:// variables in camelCase. */
export interface InitProcessGroupOptions {
  /** This process's rank, 0 ≤ rank < worldSize; rank 0 hosts the TCPStore. */
  readonly rank: number;
  readonly worldSize: number;
  /** Host of rank 0's TCPStore (MASTER_ADDR); a loopback address keeps Gloo on loopback too. */
  readonly masterAddr: string;
  /** Port of rank 0's TCPStore (MASTER_PORT). */
  readonly masterPort: number;
  /** Default 'gloo'. */
  readonly backend?: DistributedBackend;
  /**
   * How long the rendezvous and every collective may wait, in milliseconds (default 1,800,000: torch.distributed's
   * 30 minutes). A peer that dies fails the others at once; one that stalls fails them after this long.
   */
  readonly timeoutMs?: number;
  /**
   * How long the ranks may take to reach rank 0's TCPStore, in milliseconds (default: timeoutMs). Why apart: worker
   * processes start unevenly, while a collective's timeout is best short enough to notice a stalled peer soon.
   */
  readonly rendezvousTimeoutMs?: number;
}

/** The default group {@link initProcessGroup} sets (torch.distributed's default group); per JavaScript environment. */
let defaultGroup: ProcessGroup | null = null;

function native(): Required<Pick<typeof N, 'distInit' | 'distAllReduce' | 'distBroadcast' | 'distBarrier' | 'distInfo' | 'distDestroy'>> {
  const { distInit, distAllReduce, distBroadcast, distBarrier, distInfo, distDestroy } = N;
  if (!distInit || !distAllReduce || !distBroadcast || !distBarrier || !distInfo || !distDestroy) {
    throw new DistributedError(
      "this addon was built without c10d (neither Gloo's nor NCCL's headers at build time): apt-get install libgloo-dev, then node scripts/build-native.mjs --rebuild",
    );
  }
  return { distInit, distAllReduce, distBroadcast, distBarrier, distInfo, distDestroy };
}

function asList(tensors: Tensor | readonly Tensor[]): readonly Tensor[] {
  return Array.isArray(tensors) ? (tensors as readonly Tensor[]) : [tensors as Tensor];
}

async function settle(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    throw new DistributedError(e instanceof Error ? e.message : String(e));
  }
}

/**
 * The c10d backends this addon was built with (`['gloo']` on Debian's libtorch; `'nccl'` too on a CUDA libtorch
 * with NCCL). Why: callers pick a backend or skip multi-process tests without trying a rendezvous.
 */
export function distributedBackends(): DistributedBackend[] {
  return N.distBackends().filter((b): b is DistributedBackend => b === 'gloo' || b === 'nccl');
}

/**
 * A group of processes that run collectives together (c10d's ProcessGroup). Create it with
 * {@link initProcessGroup}. Why a class: several groups may coexist (tests run two ranks in one process).
 */
export class ProcessGroup {
  private g: NativeGroup | null;

  /**
   * @param g - the native group
   * @param rank - this process's rank
   * @param worldSize - number of ranks
   * @param backend - the backend
   * @param timeoutMs - the bound on every wait
   */
  constructor(
    g: NativeGroup,
    readonly rank: number,
    readonly worldSize: number,
    readonly backend: DistributedBackend,
    readonly timeoutMs: number,
  ) {
    this.g = g;
  }

  private handle(): NativeGroup {
    if (this.g === null) throw new DistributedError(`process group of rank ${this.rank} used after destroy()`);
    return this.g;
  }

  /**
   * Sums the tensors over all ranks, in place (dist.all_reduce with ReduceOp.SUM). Several tensors (one dtype and
   * device) are packed into one buffer for a single collective and copied back, as DDP's buckets are. Why: the
   * gradient average and cross-rank totals (loss, counts) of data-parallel training.
   * @param tensors - one tensor or a list; do not read or write them until the promise settles
   */
  allReduce(tensors: Tensor | readonly Tensor[]): Promise<void> {
    const list = asList(tensors);
    if (list.length === 0) return Promise.resolve();
    return settle(native().distAllReduce(this.handle(), list.map((t) => t.handle)));
  }

  /**
   * Gives every rank `root`'s values of the tensors, in place (dist.broadcast). Why: all ranks start from rank 0's
   * weights, and take rank 0's decisions (early stopping) and batch-norm statistics.
   * @param tensors - one tensor or a list, the same shapes on every rank
   * @param root - the rank whose values everyone takes (default 0)
   */
  broadcast(tensors: Tensor | readonly Tensor[], root = 0): Promise<void> {
    const list = asList(tensors);
    if (list.length === 0) return Promise.resolve();
    return settle(native().distBroadcast(this.handle(), list.map((t) => t.handle), root));
  }

  /** Waits until every rank has reached this point (dist.barrier). Why: order file writes between ranks. */
  barrier(): Promise<void> {
    return settle(native().distBarrier(this.handle()));
  }

  /**
   * Releases the group and its store (dist.destroy_process_group); idempotent. Why: the sockets and Gloo's threads
   * belong to the group, and a process should leave them closed before it exits.
   */
  destroy(): void {
    if (this.g === null) return;
    native().distDestroy(this.g);
    this.g = null;
    if (defaultGroup === this) defaultGroup = null;
  }

  get isDestroyed(): boolean {
    return this.g === null;
  }
}

/**
 * Joins a process group: every rank calls this with the same world size, master address and port; it resolves once
 * all have arrived (dist.init_process_group with a TCPStore; rank 0 hosts the store). The group also becomes the
 * default one of {@link allReduce}, {@link broadcast} and {@link barrier}. Why: the rendezvous of data-parallel
 * training, torchrun-style (see `physis train --nproc-per-node`).
 * @param o - rank, world size, master address and port, backend, timeout
 */
export async function initProcessGroup(o: InitProcessGroupOptions): Promise<ProcessGroup> {
  const backend = o.backend ?? 'gloo';
  const timeoutMs = o.timeoutMs ?? 1_800_000;
  if (!Number.isInteger(o.worldSize) || o.worldSize < 1) throw new RangeError(`worldSize ${o.worldSize} must be a positive integer`);
  if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.worldSize) throw new RangeError(`rank ${o.rank} must be an integer in [0, ${o.worldSize})`);
  if (!Number.isInteger(o.masterPort) || o.masterPort < 1 || o.masterPort > 65535) throw new RangeError(`masterPort ${o.masterPort} must be in 1..65535`);
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs ${timeoutMs} must be positive`);
  const rendezvousTimeoutMs = o.rendezvousTimeoutMs ?? timeoutMs;
  if (!(rendezvousTimeoutMs > 0)) throw new RangeError(`rendezvousTimeoutMs ${rendezvousTimeoutMs} must be positive`);
  if (!distributedBackends().includes(backend)) {
    throw new DistributedError(`backend '${backend}' is not in this addon (it has: ${distributedBackends().join(', ') || 'none'})`);
  }
  let g: NativeGroup;
  try {
    g = await native().distInit(o.rank, o.worldSize, o.masterAddr, o.masterPort, Math.round(timeoutMs), backend, Math.round(rendezvousTimeoutMs));
  } catch (e) {
    throw new DistributedError(e instanceof Error ? e.message : String(e));
  }
  const group = new ProcessGroup(g, o.rank, o.worldSize, backend, timeoutMs);
  defaultGroup = group;
  return group;
}

function groupOr(group: ProcessGroup | undefined): ProcessGroup {
  const g = group ?? defaultGroup;
  if (g === undefined || g === null) throw new DistributedError('no process group: call initProcessGroup first');
  return g;
}

/**
 * Sums tensors over the ranks of a group, in place (dist.all_reduce). Why: the functional form of
 * {@link ProcessGroup.allReduce} on the default group.
 * @param tensors - one tensor or a list of one dtype and device
 * @param group - default: the group of the last {@link initProcessGroup}
 */
export function allReduce(tensors: Tensor | readonly Tensor[], group?: ProcessGroup): Promise<void> {
  return groupOr(group).allReduce(tensors);
}

/**
 * Gives every rank `root`'s values, in place (dist.broadcast). Why: the functional form of
 * {@link ProcessGroup.broadcast} on the default group.
 * @param tensors - one tensor or a list
 * @param root - the source rank (default 0)
 * @param group - default: the group of the last {@link initProcessGroup}
 */
export function broadcast(tensors: Tensor | readonly Tensor[], root = 0, group?: ProcessGroup): Promise<void> {
  return groupOr(group).broadcast(tensors, root);
}

/**
 * Waits for every rank (dist.barrier). Why: the functional form of {@link ProcessGroup.barrier}.
 * @param group - default: the group of the last {@link initProcessGroup}
 */
export function barrier(group?: ProcessGroup): Promise<void> {
  return groupOr(group).barrier();
}

/**
 * Releases a group, by default the default one (dist.destroy_process_group). Why: close sockets and Gloo's threads
 * before exit.
 * @param group - default: the group of the last {@link initProcessGroup}
 */
export function destroyProcessGroup(group?: ProcessGroup): void {
  const g = group ?? defaultGroup;
  g?.destroy();
}

/** Options of {@link GradientAllReducer}. */
export interface GradientAllReducerOptions {
  /** Default: the group of the last {@link initProcessGroup}. */
  readonly group?: ProcessGroup;
  /** Bucket size in MiB (default 25, DDP's bucket_cap_mb). */
  readonly bucketCapMb?: number;
}

/**
 * Averages gradients over the ranks after each backward pass: DistributedDataParallel's reducer without the
 * overlap with backward. Gradients are grouped, in reverse parameter order (roughly the order backward produces
 * them), into buckets of about 25 MiB; each bucket is packed into one buffer, all-reduced (sum) and copied back, then
 * divided by the world size. With every rank starting from the same weights ({@link broadcastParameters}) and
 * stepping the same optimiser on the same averaged gradients, the ranks stay identical, and W ranks at batch B/W
 * compute the gradient of one process at batch B (up to float summation order).
 *
 * Parameters with no gradient: a small mask is all-reduced first; a parameter with a gradient on some rank gets zeros
 * where it has none (DDP's find_unused_parameters), and one with no gradient anywhere keeps none (the optimiser then
 * skips it on every rank, as a single process would). Batch-norm statistics are not touched here: each rank
 * normalises with its own batch (DDP without SyncBatchNorm). Reference: PyTorch 1.13 torch.nn.parallel.
 * DistributedDataParallel and Li et al. 2020, "PyTorch Distributed: Experiences on Accelerating Data Parallel
 * Training" (gradient bucketing).
 *
 * @example
 * const reducer = new GradientAllReducer(model.parameters(), { group });
 * await reducer.broadcastParameters(model.namedBuffers().map(([, b]) => b));
 * loss.backward(); await reducer.allReduceGradients(); opt.step();
 */
export class GradientAllReducer {
  private readonly group: ProcessGroup;
  private readonly capBytes: number;

  /**
   * @param params - the parameters, in the same order on every rank (module.parameters())
   * @param o - group and bucket size
   */
  constructor(
    private readonly params: readonly Tensor[],
    o: GradientAllReducerOptions = {},
  ) {
    this.group = groupOr(o.group);
    const mb = o.bucketCapMb ?? 25;
    if (!(mb > 0)) throw new RangeError(`bucketCapMb ${mb} must be positive`);
    this.capBytes = mb * 1024 * 1024;
  }

  /**
   * Copies rank 0's parameters (and the extra tensors, e.g. batch-norm buffers) to every rank (DDP's broadcast at
   * construction). Why: ranks seeded alike start alike, but a rank that loaded other weights must not drift.
   * @param extra - more tensors to take from rank 0 (buffers)
   */
  async broadcastParameters(extra: readonly Tensor[] = []): Promise<void> {
    await this.broadcast([...this.params, ...extra]);
  }

  /**
   * Copies rank 0's values of any tensors (of mixed dtypes) to every rank, in buckets. Why: batch-norm running
   * statistics are rank 0's after each epoch, as DDP's broadcast_buffers makes them.
   * @param tensors - the same list, in the same order, on every rank
   */
  async broadcast(tensors: readonly Tensor[]): Promise<void> {
    for (const bucket of this.buckets(tensors)) await this.group.broadcast(bucket, 0);
  }

  /** Tensors grouped by dtype and device, each group cut into buckets of at most the cap (one tensor may exceed it). */
  private buckets(ts: readonly Tensor[]): Tensor[][] {
    const byKind = new Map<string, Tensor[][]>();
    const sizes = new Map<Tensor[], number>();
    const out: Tensor[][] = [];
    for (const t of ts) {
      const kind = `${t.dtype}/${t.device}`;
      let list = byKind.get(kind);
      if (list === undefined) {
        list = [];
        byKind.set(kind, list);
      }
      const bytes = t.size * (t.dtype === 'float16' ? 2 : t.dtype === 'bool' ? 1 : t.dtype === 'int64' ? 8 : 4);
      let current = list[list.length - 1];
      if (current === undefined || (sizes.get(current) ?? 0) + bytes > this.capBytes) {
        current = [];
        list.push(current);
        out.push(current);
        sizes.set(current, 0);
      }
      current.push(t);
      sizes.set(current, (sizes.get(current) ?? 0) + bytes);
    }
    return out.filter((b) => b.length > 0);
  }

  /**
   * Replaces every trainable parameter's gradient with its mean over the ranks. Call after backward, before the
   * optimiser step, on every rank, every step.
   */
  async allReduceGradients(): Promise<void> {
    const trainable = this.params.filter((p) => p.requiresGrad);
    if (trainable.length === 0) return;
    const grads = trainable.map((p) => p.grad);
    const owned: Tensor[] = [];
    try {
      for (const g of grads) if (g !== null) owned.push(g);
      // which parameters have a gradient on any rank: the bucket layout must be the same everywhere
      const mask = tensor(Float32Array.from(grads, (g) => (g === null ? 0 : 1)), [grads.length]);
      owned.push(mask);
      await this.group.allReduce(mask);
      const anywhere = mask.toFloat32Array();
      const reduce: Tensor[] = [];
      noGrad(() => {
        trainable.forEach((p, i) => {
          if ((anywhere[i] ?? 0) === 0) return;
          let g = grads[i] ?? null;
          if (g === null) {
            g = zeros(p.shape, { dtype: p.dtype, device: p.device });
            p.setGrad(g);
            owned.push(g);
          }
          reduce.push(g);
        });
      });
      // reverse parameter order, as DDP fills its buckets; all buckets are enqueued before any is awaited
      const pending = this.buckets([...reduce].reverse()).map((b) => this.group.allReduce(b));
      const results = await Promise.allSettled(pending);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const inv = 1 / this.group.worldSize;
      noGrad(() => {
        for (const g of reduce) g.mul_(inv);
      });
    } finally {
      for (const t of owned) t.dispose();
    }
  }
}
