/**
 * The Tensor class, tensor creation, memory scopes (`tidy`/`keep`), the no-grad scope and the op dispatch point
 * that tracing hooks into. A Tensor is a light JS object over one native at::Tensor handle; its shape, dtype and
 * device are copied out once at creation so reading them costs nothing.
 */
import { N, META, type Handle } from './native.js';
import { DeviceError, DTypeError, ShapeError, TensorDisposedError } from './errors.js';

/** Element types the engine exposes (PyTorch's float32, float16, int64, bool). */
export type DType = 'float32' | 'float16' | 'int64' | 'bool';
/** Where a tensor lives; `cuda` needs a CUDA-enabled libtorch (build with LIBTORCH=…). */
export type Device = 'cpu' | 'cuda';
/** A tensor shape, outermost dimension first. */
export type Shape = readonly number[];
/** Raw element storage per dtype: float32, float16 bits, int64, bool as bytes. */
export type TypedData = Float32Array | Uint16Array | BigInt64Array | Uint8Array;
/** Options for tensor creation. */
export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

const DTYPES: readonly DType[] = ['float32', 'float16', 'int64', 'bool'];
const DTYPE_CODE: Record<DType, number> = { float32: 0, float16: 1, int64: 2, bool: 3 };
const NATIVE_DTYPE_NAMES = ['float32', 'float16', 'int64', 'bool', 'float64', 'int32'];

/** Numeric code of a dtype for the addon. */
export function dtypeCode(d: DType): number {
  const c = DTYPE_CODE[d];
  if (c === undefined)
    throw new DTypeError(`unknown dtype '${String(d)}'; expected one of ${DTYPES.join(', ')}`);
  return c;
}

let cudaAvailable: boolean | null = null;
let defaultDevice: Device = 'cpu';

/**
 * The device that creation functions use when their options name none (torch.set_default_device): a trainer sets it
 * once so that models, batches and optimiser state are made on the GPU without threading a device through every
 * call. Throws DeviceError for a device this build cannot use. Process-wide; set it around a job, then restore it.
 * @param device - cpu or cuda
 */
export function setDefaultDevice(device: Device): void {
  deviceCode(device);
  defaultDevice = device;
}

/** The device creation functions use when none is named (default cpu). */
export function getDefaultDevice(): Device {
  return defaultDevice;
}
/** Numeric code of a device for the addon; `cuda` without CUDA support throws DeviceError. */
export function deviceCode(d: Device): number {
  if (d === 'cpu') return 0;
  if (d === 'cuda') {
    cudaAvailable ??= N.cudaIsAvailable();
    if (!cudaAvailable) {
      throw new DeviceError(
        "device 'cuda' requested, but the linked libtorch has no CUDA (or no GPU is visible); rebuild the addon with LIBTORCH=<CUDA-enabled torch>",
      );
    }
    return 1;
  }
  throw new DeviceError(`unknown device '${String(d)}'; expected 'cpu' or 'cuda'`);
}

/** One recorded op of a trace. Tensors are identified by object identity. */
export interface TracedNode {
  op: string;
  inputs: TraceValue[];
  attrs: Record<string, unknown>;
  outputs: Tensor[];
}
/** A recorded op sequence (ONNX export builds on it). */
export interface TracedGraph {
  nodes: TracedNode[];
}
/** What an op input can be in a trace: a tensor, or a non-tensor argument as it was called. */
export type TraceValue = Tensor | number | number[] | boolean | string | null;

// ---- scopes -------------------------------------------------------------------------------------------------
let scope: Tensor[] | null = null;
const scopeStack: (Tensor[] | null)[] = [];
let tracer: TracedNode[] | null = null;
const NO_ATTRS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * The single op dispatch point: wraps a native result into a Tensor (registering it with the active tidy scope)
 * and, only while a trace is active, records the call.
 */
export function emit(
  op: string,
  h: Handle,
  inputs: TraceValue[],
  attrs: Record<string, unknown> = NO_ATTRS,
): Tensor {
  const t = new Tensor(h);
  if (tracer !== null) tracer.push({ op, inputs, attrs, outputs: [t] });
  return t;
}

/** Like `emit` for ops with several outputs (the addon returns a list of handles). */
export function emitMany(
  op: string,
  hs: Handle[],
  inputs: TraceValue[],
  attrs: Record<string, unknown> = NO_ATTRS,
): Tensor[] {
  const outs = hs.map((h) => {
    N.meta(h);
    return new Tensor(h);
  });
  if (tracer !== null) tracer.push({ op, inputs, attrs, outputs: outs });
  return outs;
}

/** Records an in-place op (its output is the mutated tensor itself) while tracing. */
function recordInPlace(
  op: string,
  self: Tensor,
  inputs: TraceValue[],
  attrs: Record<string, unknown> = NO_ATTRS,
): void {
  if (tracer !== null) tracer.push({ op, inputs, attrs, outputs: [self] });
}

/**
 * Runs `fn` while recording every op it dispatches.
 * @returns the function's result and the recorded graph (nodes in call order).
 */
export function trace<T>(fn: () => T): { result: T; graph: TracedGraph } {
  const prev = tracer;
  const nodes: TracedNode[] = [];
  tracer = nodes;
  try {
    const result = fn();
    return { result, graph: { nodes } };
  } finally {
    tracer = prev;
  }
}

const keptSet = new WeakSet<Tensor>();

/** Marks a tensor so that no enclosing `tidy` scope disposes it. */
export function keep<T extends Tensor>(t: T): T {
  keptSet.add(t);
  return t;
}

function collectTensors(v: unknown, out: Set<Tensor>, depth: number): void {
  if (v instanceof Tensor) {
    out.add(v);
  } else if (depth > 4 || v === null || typeof v !== 'object') {
    return;
  } else if (Array.isArray(v)) {
    for (const x of v) collectTensors(x, out, depth + 1);
  } else if (v instanceof Map) {
    for (const x of v.values()) collectTensors(x, out, depth + 1);
  } else if (Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, out, depth + 1);
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it except those returned (found in the result, arrays,
 * plain objects and Maps) or passed to `keep()`; returned tensors move to the enclosing scope. Modelled on
 * tfjs' `tf.tidy` — deterministic release of native memory without waiting for the garbage collector.
 */
export function tidy<T>(fn: () => T): T {
  const mine: Tensor[] = [];
  scopeStack.push(scope);
  scope = mine;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scope = scopeStack.pop() ?? null;
    for (const t of mine) if (!keptSet.has(t)) t.dispose();
    throw e;
  }
  scope = scopeStack.pop() ?? null;
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, 0);
  for (const t of mine) {
    if (survivors.has(t)) {
      if (scope !== null) scope.push(t);
    } else if (!keptSet.has(t)) {
      t.dispose();
    }
  }
  return result;
}

/** Runs `fn` with gradient recording off (PyTorch's `torch.no_grad()`); restores the previous mode after. */
export function noGrad<T>(fn: () => T): T {
  const prev = N.isGradEnabled();
  N.setGradEnabled(false);
  try {
    return fn();
  } finally {
    N.setGradEnabled(prev);
  }
}

/** Whether autograd currently records operations. */
export function isGradEnabled(): boolean {
  return N.isGradEnabled();
}

/** Counts of live native tensors and the bytes reported to V8 for them. */
export function memoryStats(): { liveTensors: number; nativeBytes: number } {
  return N.memoryStats();
}

function fmt(s: Shape): string {
  return `[${s.join(',')}]`;
}

// The safety net behind dispose(): a Tensor garbage-collected without dispose() has its native handle freed then.
const finalizer = new FinalizationRegistry<Handle>((h) => N.free(h));

// ---- Tensor ------------------------------------------------------------------------------------------------

/** A libtorch tensor. Ops return new tensors; dispose them (or use `tidy`) to release native memory promptly. */
export class Tensor {
  /** The native handle (freed by dispose(); read it through `handle`, which checks). */
  private readonly h: Handle;
  readonly shape: Shape;
  readonly dtype: DType;
  private dev: Device;
  readonly rank: number;
  readonly size: number;
  private disposed = false;

  /** Wraps a handle just returned by the addon (its shape is in META); use the creation functions instead. */
  constructor(h: Handle) {
    this.h = h;
    const n = META[0] ?? 0;
    const shape = new Array<number>(n);
    let size = 1;
    for (let i = 0; i < n; i++) {
      const d = META[4 + i] ?? 0;
      shape[i] = d;
      size *= d;
    }
    this.shape = shape;
    this.rank = n;
    this.size = size;
    this.dtype = (NATIVE_DTYPE_NAMES[META[1] ?? 0] ?? 'float32') as DType;
    this.dev = META[2] === 1 ? 'cuda' : 'cpu';
    finalizer.register(this, h, this);
    if (scope !== null) scope.push(this);
  }

  /** The handle, or TensorDisposedError if disposed. */
  get handle(): Handle {
    if (this.disposed)
      throw new TensorDisposedError(`tensor ${fmt(this.shape)} ${this.dtype} used after dispose()`);
    return this.h;
  }

  /** Where the data lives; changes only through {@link Tensor.moveTo_}. */
  get device(): Device {
    return this.dev;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the native tensor now; idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Free the native handle now and drop its GC safety-net entry: FinalizationRegistry callbacks only run when the
    // event loop turns, so a synchronous training loop would otherwise pile up entries (and handles) until it yields.
    finalizer.unregister(this);
    N.free(this.h);
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}, ${this.device}${this.disposed ? ', disposed' : ''})`;
  }

  // ---- autograd
  get requiresGrad(): boolean {
    return N.requiresGrad(this.handle);
  }
  /** Sets requires_grad in place, like PyTorch's `requires_grad_`. */
  requiresGrad_(flag = true): this {
    N.setRequiresGrad(this.handle, flag);
    return this;
  }
  /** The accumulated gradient as a new handle (caller disposes), or null. */
  get grad(): Tensor | null {
    const g = N.grad(this.handle);
    return g === null ? null : new Tensor(g);
  }
  /** Replaces (or with null clears) the accumulated gradient, like `p.grad = None`. */
  setGrad(g: Tensor | null): void {
    N.setGrad(this.handle, g === null ? null : g.handle);
  }
  /** Keeps `.grad` on a non-leaf tensor after backward (Grad-CAM reads activation gradients this way). */
  retainGrad(): this {
    N.retainGrad(this.handle);
    return this;
  }
  get isLeaf(): boolean {
    return N.isLeaf(this.handle);
  }
  /** Back-propagates from this tensor (a scalar unless `gradient` is given). */
  backward(gradient?: Tensor, o?: { retainGraph?: boolean }): void {
    N.backward(this.handle, gradient === undefined ? null : gradient.handle, o?.retainGraph ?? null);
  }

  // ---- read-back
  /** Copies the elements out as float32 (any dtype converts). */
  toFloat32Array(): Float32Array {
    return new Float32Array(N.toFloat32Bytes(this.handle));
  }
  /** Copies the elements out in the tensor's own dtype. */
  data(): TypedData {
    const buf = N.toBytes(this.handle);
    switch (this.dtype) {
      case 'float32':
        return new Float32Array(buf);
      case 'float16':
        return new Uint16Array(buf);
      case 'int64':
        return new BigInt64Array(buf);
      case 'bool':
        return new Uint8Array(buf);
    }
  }
  /** The single element as a number. */
  item(): number {
    return N.item(this.handle);
  }

  // ---- element-wise
  add(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('add', N.addScalar(this.handle, o), [this, o])
      : emit('add', N.add(this.handle, o.handle), [this, o]);
  }
  sub(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('sub', N.subScalar(this.handle, o), [this, o])
      : emit('sub', N.sub(this.handle, o.handle), [this, o]);
  }
  mul(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('mul', N.mulScalar(this.handle, o), [this, o])
      : emit('mul', N.mul(this.handle, o.handle), [this, o]);
  }
  div(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('div', N.divScalar(this.handle, o), [this, o])
      : emit('div', N.div(this.handle, o.handle), [this, o]);
  }
  /** `s - this` for a number s. */
  rsub(s: number): Tensor {
    return emit('rsub', N.rsubScalar(this.handle, s), [this, s]);
  }
  maximum(o: Tensor): Tensor {
    return emit('maximum', N.maximum(this.handle, o.handle), [this, o]);
  }
  minimum(o: Tensor): Tensor {
    return emit('minimum', N.minimum(this.handle, o.handle), [this, o]);
  }
  neg(): Tensor {
    return emit('neg', N.neg(this.handle), [this]);
  }
  abs(): Tensor {
    return emit('abs', N.abs(this.handle), [this]);
  }
  sqrt(): Tensor {
    return emit('sqrt', N.sqrt(this.handle), [this]);
  }
  rsqrt(): Tensor {
    return emit('rsqrt', N.rsqrt(this.handle), [this]);
  }
  exp(): Tensor {
    return emit('exp', N.exp(this.handle), [this]);
  }
  log(): Tensor {
    return emit('log', N.log(this.handle), [this]);
  }
  pow(e: number): Tensor {
    return emit('pow', N.powScalar(this.handle, e), [this, e]);
  }
  clamp(min: number | null, max: number | null): Tensor {
    return emit('clamp', N.clamp(this.handle, min, max), [this, min, max], { min, max });
  }
  relu(): Tensor {
    return emit('relu', N.relu(this.handle), [this]);
  }
  sigmoid(): Tensor {
    return emit('sigmoid', N.sigmoid(this.handle), [this]);
  }
  tanh(): Tensor {
    return emit('tanh', N.tanh(this.handle), [this]);
  }
  logicalNot(): Tensor {
    return emit('logicalNot', N.logicalNot(this.handle), [this]);
  }

  // ---- in place
  /**
   * Moves this tensor's data to a device in place (PyTorch's `t.data = t.to(device)`), keeping the object: how a
   * module's parameters and buffers change device while layers and optimisers hold references to them. Any gradient
   * is dropped. Not recorded by trace().
   */
  moveTo_(device: Device): this {
    const code = deviceCode(device);
    if (device === this.dev) return this;
    this.setGrad(null);
    const moved = new Tensor(N.toDevice(this.handle, code));
    try {
      N.setData_(this.handle, moved.handle);
    } finally {
      moved.dispose();
    }
    this.dev = device;
    return this;
  }
  copy_(src: Tensor): this {
    N.copy_(this.handle, src.handle);
    recordInPlace('copy_', this, [this, src]);
    return this;
  }
  fill_(v: number): this {
    N.fill_(this.handle, v);
    recordInPlace('fill_', this, [this, v]);
    return this;
  }
  zero_(): this {
    N.zero_(this.handle);
    recordInPlace('zero_', this, [this]);
    return this;
  }
  mul_(v: number | Tensor): this {
    if (typeof v === 'number') N.mulScalar_(this.handle, v);
    else N.mul_(this.handle, v.handle);
    recordInPlace('mul_', this, [this, v]);
    return this;
  }
  /** `this += alpha * o` (a number `o` adds a scalar). */
  add_(o: Tensor | number, alpha = 1): this {
    if (typeof o === 'number') N.addScalar_(this.handle, o * alpha);
    else N.add_(this.handle, o.handle, alpha);
    recordInPlace('add_', this, [this, o, alpha]);
    return this;
  }
  /** In-place ReLU (torchvision's `ReLU(inplace=True)`); autograd-safe where PyTorch's is (e.g. after BatchNorm). */
  relu_(): this {
    N.relu_(this.handle);
    recordInPlace('relu_', this, [this]);
    return this;
  }
  clamp_(min: number | null, max: number | null): this {
    N.clamp_(this.handle, min, max);
    recordInPlace('clamp_', this, [this, min, max]);
    return this;
  }

  // ---- comparison
  eq(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('eq', N.eqScalar(this.handle, o), [this, o])
      : emit('eq', N.eq(this.handle, o.handle), [this, o]);
  }
  gt(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('gt', N.gtScalar(this.handle, o), [this, o])
      : emit('gt', N.gt(this.handle, o.handle), [this, o]);
  }
  lt(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('lt', N.ltScalar(this.handle, o), [this, o])
      : emit('lt', N.lt(this.handle, o.handle), [this, o]);
  }
  ge(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('ge', N.geScalar(this.handle, o), [this, o])
      : emit('ge', N.ge(this.handle, o.handle), [this, o]);
  }
  le(o: Tensor | number): Tensor {
    return typeof o === 'number'
      ? emit('le', N.leScalar(this.handle, o), [this, o])
      : emit('le', N.le(this.handle, o.handle), [this, o]);
  }

  // ---- reductions
  private dimList(dims: number | number[] | undefined): number[] | null {
    if (dims === undefined) return null;
    return typeof dims === 'number' ? [dims] : dims;
  }
  /** Sum over `dims` (all when omitted). */
  sum(dims?: number | number[], keepDim = false): Tensor {
    let d = this.dimList(dims);
    if (d === null && keepDim) d = this.shape.map((_, i) => i);
    return emit('sum', N.sum(this.handle, d, keepDim), [this], { dims: d, keepDim });
  }
  /** Mean over `dims` (all when omitted). */
  mean(dims?: number | number[], keepDim = false): Tensor {
    let d = this.dimList(dims);
    if (d === null && keepDim) d = this.shape.map((_, i) => i);
    return emit('mean', N.mean(this.handle, d, keepDim), [this], { dims: d, keepDim });
  }
  /** Maximum over all elements (a 0-d tensor). */
  max(): Tensor {
    return emit('max', N.maxAll(this.handle), [this]);
  }
  maxDim(dim: number, keepDim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = emitMany('maxDim', N.maxDim(this.handle, dim, keepDim), [this], {
      dim,
      keepDim,
    });
    return { values: values as Tensor, indices: indices as Tensor };
  }
  argmax(dim: number, keepDim = false): Tensor {
    return emit('argmax', N.argmax(this.handle, dim, keepDim), [this], { dim, keepDim });
  }

  // ---- shape
  reshape(shape: Shape): Tensor {
    return emit('reshape', N.reshape(this.handle, shape), [this], { shape: [...shape] });
  }
  view(shape: Shape): Tensor {
    return emit('view', N.view(this.handle, shape), [this], { shape: [...shape] });
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return emit('flatten', N.flatten(this.handle, startDim, endDim), [this], { startDim, endDim });
  }
  permute(dims: number[]): Tensor {
    return emit('permute', N.permute(this.handle, dims), [this], { dims });
  }
  transpose(a: number, b: number): Tensor {
    return emit('transpose', N.transpose(this.handle, a, b), [this], { dim0: a, dim1: b });
  }
  contiguous(): Tensor {
    return emit('contiguous', N.contiguous(this.handle), [this]);
  }
  get isContiguous(): boolean {
    return N.isContiguous(this.handle);
  }
  squeeze(dim?: number): Tensor {
    return emit('squeeze', N.squeeze(this.handle, dim ?? null), [this], { dim: dim ?? null });
  }
  unsqueeze(dim: number): Tensor {
    return emit('unsqueeze', N.unsqueeze(this.handle, dim), [this], { dim });
  }
  expand(shape: Shape): Tensor {
    return emit('expand', N.expand(this.handle, shape), [this], { shape: [...shape] });
  }
  /** A view of `length` entries along `dim` starting at `start`. */
  narrow(dim: number, start: number, length: number): Tensor {
    return emit('narrow', N.narrow(this.handle, dim, start, length), [this], { dim, start, length });
  }
  /** Selects entry `i` along dim 0 (a view with one dimension fewer). */
  index(i: number): Tensor {
    return emit('select', N.select(this.handle, 0, i), [this], { dim: 0, index: i });
  }
  /** Selects entry `i` along `dim`. */
  select(dim: number, i: number): Tensor {
    return emit('select', N.select(this.handle, dim, i), [this], { dim, index: i });
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return emit('indexSelect', N.indexSelect(this.handle, dim, index.handle), [this, index], { dim });
  }
  matmul(o: Tensor): Tensor {
    if (this.rank >= 1 && o.rank >= 2) {
      const k = this.shape[this.rank - 1];
      const k2 = o.shape[o.rank - 2];
      if (k !== k2)
        throw new ShapeError(
          `matmul: ${fmt(this.shape)} @ ${fmt(o.shape)}: inner dimensions ${k} and ${k2} differ`,
        );
    }
    return emit('matmul', N.matmul(this.handle, o.handle), [this, o]);
  }
  /** Converts to a dtype or moves to a device (a new tensor; autograd flows through). */
  to(target: DType | Device): Tensor {
    if (target === 'cpu' || target === 'cuda') {
      return emit('toDevice', N.toDevice(this.handle, deviceCode(target)), [this], { device: target });
    }
    return emit('cast', N.toDType(this.handle, dtypeCode(target)), [this], { dtype: target });
  }
  clone(): Tensor {
    return emit('clone', N.clone(this.handle), [this]);
  }
  /** Same data, cut from the autograd graph. */
  detach(): Tensor {
    return emit('detach', N.detach(this.handle), [this]);
  }
  /** Whether this tensor shares its first element's memory with `o` (views). */
  sharesDataWith(o: Tensor): boolean {
    return N.dataPtrEq(this.handle, o.handle);
  }
}

// ---- creation ------------------------------------------------------------------------------------------------

function checkShape(fn: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${fn}: invalid shape ${fmt(shape)}`);
  }
}

function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * A tensor from data (copied). `number[]` is converted to the requested dtype (default float32); a typed array
 * must match the dtype (Float32Array float32, Uint16Array float16 bits, BigInt64Array int64, Uint8Array bool).
 */
export function tensor(data: TypedData | number[], shape: Shape, opts: TensorOptions = {}): Tensor {
  checkShape('tensor', shape);
  if (data.length !== numel(shape)) {
    throw new ShapeError(
      `tensor: ${data.length} values do not fill shape ${fmt(shape)} (${numel(shape)} elements)`,
    );
  }
  let dtype: DType;
  let buf: TypedData;
  if (Array.isArray(data)) {
    dtype = opts.dtype ?? 'float32';
    if (dtype === 'float32') buf = Float32Array.from(data);
    else if (dtype === 'int64') buf = BigInt64Array.from(data, (v) => BigInt(Math.trunc(v)));
    else if (dtype === 'bool') buf = Uint8Array.from(data, (v) => (v ? 1 : 0));
    else {
      // float16 from numbers goes through float32 (a direct double-to-half rounding can differ in rare ties).
      const f32 = tensor(data, shape, { device: opts.device ?? defaultDevice });
      const out = emit('tensor', N.toDType(f32.handle, DTYPE_CODE.float16), []);
      f32.dispose();
      return opts.requiresGrad === true ? out.requiresGrad_(true) : out;
    }
  } else {
    const inferred: DType =
      data instanceof Float32Array
        ? 'float32'
        : data instanceof Uint16Array
          ? 'float16'
          : data instanceof BigInt64Array
            ? 'int64'
            : 'bool';
    dtype = opts.dtype ?? inferred;
    if (dtype !== inferred) {
      throw new DTypeError(
        `tensor: ${data.constructor.name} holds ${inferred} data, but dtype '${dtype}' was requested`,
      );
    }
    buf = data;
  }
  return emit(
    'tensor',
    N.fromData(buf, shape, dtypeCode(dtype), deviceCode(opts.device ?? defaultDevice), opts.requiresGrad ?? false),
    [],
  );
}

/** A 0-d float32 (or given dtype) tensor holding `v`. */
export function scalar(v: number, opts: TensorOptions = {}): Tensor {
  return full([], v, opts);
}

type Creator = (shape: readonly number[], dtype: number, device: number, requiresGrad: boolean) => Handle;
function create(name: string, fn: Creator, shape: Shape, opts: TensorOptions): Tensor {
  checkShape(name, shape);
  const dtype = opts.dtype ?? 'float32';
  return emit(
    name,
    fn(shape, dtypeCode(dtype), deviceCode(opts.device ?? defaultDevice), opts.requiresGrad ?? false),
    [],
    { shape: [...shape], dtype },
  );
}

/** A tensor of zeros. */
export function zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
  return create('zeros', N.zeros, shape, opts);
}
/** A tensor of ones. */
export function ones(shape: Shape, opts: TensorOptions = {}): Tensor {
  return create('ones', N.ones, shape, opts);
}
/** An uninitialised tensor (contents arbitrary). */
export function empty(shape: Shape, opts: TensorOptions = {}): Tensor {
  return create('empty', N.empty, shape, opts);
}
/** Standard-normal samples (seeded by `manualSeed`). */
export function randn(shape: Shape, opts: TensorOptions = {}): Tensor {
  return create('randn', N.randn, shape, opts);
}
/** Uniform [0, 1) samples (seeded by `manualSeed`). */
export function rand(shape: Shape, opts: TensorOptions = {}): Tensor {
  return create('rand', N.rand, shape, opts);
}
/** A tensor filled with `value`. */
export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = opts.dtype ?? 'float32';
  return emit(
    'full',
    N.full(shape, value, dtypeCode(dtype), deviceCode(opts.device ?? defaultDevice), opts.requiresGrad ?? false),
    [],
    { shape: [...shape], value, dtype },
  );
}
/** 0, 1, …, n-1 (int64 unless a dtype is given); `arange(start, end, step)` via the `range` option. */
export function arange(n: number, opts: TensorOptions & { start?: number; step?: number } = {}): Tensor {
  const dtype = opts.dtype ?? 'int64';
  const start = opts.start ?? 0;
  const step = opts.step ?? 1;
  return emit('arange', N.arange(start, n, step, dtypeCode(dtype), deviceCode(opts.device ?? defaultDevice)), [], {
    start,
    end: n,
    step,
    dtype,
  });
}
/** Bernoulli(p) samples of the given shape (float32 0/1 unless a dtype is given). */
export function bernoulli(shape: Shape, p: number, opts: { dtype?: DType; device?: Device } = {}): Tensor {
  checkShape('bernoulli', shape);
  const dtype = opts.dtype ?? 'float32';
  return emit('bernoulli', N.bernoulli(shape, p, dtypeCode(dtype), deviceCode(opts.device ?? defaultDevice)), [], {
    shape: [...shape],
    p,
    dtype,
  });
}
