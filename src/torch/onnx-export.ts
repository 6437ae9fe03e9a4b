/**
 * ONNX export: run a module once under `trace`, map every recorded engine op to ONNX nodes (opset 17) and
 * encode the result with the protobuf writer of `onnx-proto.ts`.
 *
 * Why: ONNX Runtime is the fastest CPU runtime and the one hospitals deploy; exporting from TypeScript means a
 * model trained in Physis ships without Python. The mapping follows the ONNX operator specification
 * (https://onnx.ai/onnx/operators/, opset 17) and PyTorch's own exporter for the semantics of each op
 * (torch/onnx/symbolic_opset*.py): exact-erf GELU, SiLU as x·sigmoid(x), ReLU6 as Clip(0, 6), eval-mode
 * BatchNormalization, LayerNormalization (opset 17), dropout and stochastic depth as Identity.
 * Parameters become initializers named by their dotted PyTorch names; the batch dimension stays symbolic.
 */
import {
  encodeOnnxModel,
  ONNX_DTYPE,
  type OnnxAttribute,
  type OnnxDataType,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto.js';
import { float32ToFloat16Bits } from './safetensors-format.js';
import {
  noGrad,
  randn,
  tidy,
  trace,
  Tensor,
  type DType,
  type TracedNode,
  type TraceValue,
} from './tensor.js';

/** The opset Physis exports (LayerNormalization needs 17; ReduceMean still takes axes as an attribute). */
export const ONNX_OPSET = 17;

/** A traced op ONNX export cannot express, or a model state it refuses (training mode); names the op. */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

/** The parts of a Module the exporter uses (kept structural so this file does not depend on module.ts). */
export interface ExportableModule {
  training: boolean;
  train(mode?: boolean): unknown;
  namedParameters(): [string, Tensor][];
  namedBuffers(): [string, Tensor][];
}

/** One graph input: its name and full example shape (batch first when `dynamicBatch`). */
export interface OnnxInputSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Options of `exportOnnx`. */
export interface OnnxExportOptions {
  /** Graph inputs; example tensors of these shapes (standard normal) are traced. */
  readonly inputs: readonly OnnxInputSpec[];
  /** Runs the model on the example inputs and returns the graph outputs by name; default `{ output: call(...) }`. */
  readonly forward: (...inputs: Tensor[]) => Record<string, Tensor>;
  /** Make dimension 0 of inputs and outputs symbolic ('batch'); default true. Trace with a batch of 2 or more. */
  readonly dynamicBatch?: boolean;
  readonly graphName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Stored in ModelProto.metadata_props (e.g. model id, weights sha256). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What `exportOnnx` returns: the encoded model and the names/shapes of what it traced. */
export interface OnnxExportResult {
  readonly bytes: Uint8Array;
  readonly outputNames: readonly string[];
  readonly nodeCount: number;
  /** Engine op names seen in the trace, with counts (useful to see what a model is made of). */
  readonly opCounts: Readonly<Record<string, number>>;
}

const DTYPE_TO_ONNX: Record<DType, OnnxDataType> = {
  float32: ONNX_DTYPE.FLOAT,
  float16: ONNX_DTYPE.FLOAT16,
  int64: ONNX_DTYPE.INT64,
  bool: ONNX_DTYPE.BOOL,
};

function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Builds the ONNX graph while walking the trace. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly names = new Map<Tensor, string>();
  private readonly initialized = new Set<string>();
  private counter = 0;

  constructor(
    private readonly paramNames: Map<Tensor, string>,
    readonly batch: number | null,
  ) {}

  fresh(prefix: string): string {
    this.counter += 1;
    return `/${prefix}_${this.counter}`;
  }

  bind(t: Tensor, name: string): void {
    this.names.set(t, name);
  }

  has(t: Tensor): boolean {
    return this.names.has(t);
  }

  /** The ONNX value name of a tensor: a traced value, a parameter (initializer by dotted name), or a constant. */
  nameOf(t: Tensor): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    const param = this.paramNames.get(t);
    const name = param ?? this.fresh('const');
    if (t.isDisposed) {
      throw new OnnxExportError(
        `${param ?? 'a constant'} ${t.toString()} was disposed before export could read its values (keep() it)`,
      );
    }
    if (!this.initialized.has(name)) {
      this.initializers.push({
        name,
        dataType: DTYPE_TO_ONNX[t.dtype],
        dims: [...t.shape],
        rawData: bytesOf(t.data()),
      });
      this.initialized.add(name);
    }
    this.names.set(t, name);
    return name;
  }

  constF32(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh('c');
    this.initializers.push({
      name,
      dataType: ONNX_DTYPE.FLOAT,
      dims,
      rawData: bytesOf(Float32Array.from(values)),
    });
    return name;
  }

  constI64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh('c');
    this.initializers.push({
      name,
      dataType: ONNX_DTYPE.INT64,
      dims,
      rawData: bytesOf(BigInt64Array.from(values.map((v) => BigInt(v)))),
    });
    return name;
  }

  /** A scalar constant of the given tensor's dtype (so Mul(x, 2) does not mix float and int). */
  scalarLike(v: number, like: Tensor): string {
    const name = this.fresh('c');
    const dataType = DTYPE_TO_ONNX[like.dtype];
    let raw: Uint8Array;
    if (like.dtype === 'int64') raw = bytesOf(BigInt64Array.from([BigInt(Math.trunc(v))]));
    else if (like.dtype === 'bool') raw = Uint8Array.from([v ? 1 : 0]);
    else if (like.dtype === 'float16') raw = bytesOf(Uint16Array.from([float32ToFloat16Bits(v)]));
    else raw = bytesOf(Float32Array.from([v]));
    this.initializers.push({ name, dataType, dims: [], rawData: raw });
    return name;
  }

  add(
    opType: string,
    inputs: string[],
    attributes: Record<string, OnnxAttribute> = {},
    output?: string,
  ): string {
    const out = output ?? this.fresh(opType);
    this.nodes.push({ opType, inputs, outputs: [out], name: out, attributes });
    return out;
  }

  addMany(
    opType: string,
    inputs: string[],
    outputs: string[],
    attributes: Record<string, OnnxAttribute> = {},
  ): void {
    this.nodes.push({ opType, inputs, outputs, name: outputs[0] ?? this.fresh(opType), attributes });
  }
}

function tensorArg(node: TracedNode, i: number): Tensor {
  const v = node.inputs[i];
  if (!(v instanceof Tensor)) throw new OnnxExportError(`${node.op}: input ${i} is not a tensor`);
  return v;
}
function optTensorArg(node: TracedNode, i: number): Tensor | null {
  const v = node.inputs[i];
  return v instanceof Tensor ? v : null;
}
function numArg(node: TracedNode, i: number): number {
  const v = node.inputs[i];
  if (typeof v !== 'number') throw new OnnxExportError(`${node.op}: argument ${i} is not a number`);
  return v;
}
function attr<T>(node: TracedNode, key: string): T {
  if (!(key in node.attrs)) throw new OnnxExportError(`${node.op}: traced call lacks attribute '${key}'`);
  return node.attrs[key] as T;
}
function normDim(d: number, rank: number): number {
  return d < 0 ? d + rank : d;
}

const UNARY: Readonly<Record<string, string>> = Object.freeze({
  neg: 'Neg',
  abs: 'Abs',
  sqrt: 'Sqrt',
  exp: 'Exp',
  log: 'Log',
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  hardswish: 'HardSwish',
  logicalNot: 'Not',
  contiguous: 'Identity',
  clone: 'Identity',
  detach: 'Identity',
  toDevice: 'Identity',
});

const BINARY: Readonly<Record<string, string>> = Object.freeze({
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  maximum: 'Max',
  minimum: 'Min',
  eq: 'Equal',
  gt: 'Greater',
  lt: 'Less',
  ge: 'GreaterOrEqual',
  le: 'LessOrEqual',
  matmul: 'MatMul',
});

/** Maps one traced node; returns the ONNX names of its outputs. */
function convertNode(g: GraphBuilder, node: TracedNode): string[] {
  const op = node.op;
  const x = (): Tensor => tensorArg(node, 0);
  const xName = (): string => g.nameOf(x());
  const out0 = node.outputs[0];

  const unary = UNARY[op];
  if (unary !== undefined) return [g.add(unary, [xName()])];
  const binary = BINARY[op];
  if (binary !== undefined) {
    const a = x();
    const b = node.inputs[1];
    const bName = b instanceof Tensor ? g.nameOf(b) : g.scalarLike(Number(b), a);
    return [g.add(binary, [g.nameOf(a), bName])];
  }

  switch (op) {
    case 'rsub':
      return [g.add('Sub', [g.scalarLike(numArg(node, 1), x()), xName()])];
    case 'rsqrt':
      return [g.add('Reciprocal', [g.add('Sqrt', [xName()])])];
    case 'pow':
      return [g.add('Pow', [xName(), g.scalarLike(numArg(node, 1), x())])];
    case 'clamp':
    case 'clamp_': {
      const min = node.inputs[1];
      const max = node.inputs[2];
      return [
        g.add('Clip', [
          xName(),
          typeof min === 'number' ? g.scalarLike(min, x()) : '',
          typeof max === 'number' ? g.scalarLike(max, x()) : '',
        ]),
      ];
    }
    case 'relu6':
      return [g.add('Clip', [xName(), g.scalarLike(0, x()), g.scalarLike(6, x())])];
    case 'silu': {
      const n = xName();
      return [g.add('Mul', [n, g.add('Sigmoid', [n])])];
    }
    case 'gelu': {
      // Exact GELU: 0.5·x·(1 + erf(x/√2)) (PyTorch approximate='none').
      const n = xName();
      const erf = g.add('Erf', [g.add('Div', [n, g.scalarLike(Math.SQRT2, x())])]);
      const onePlus = g.add('Add', [erf, g.scalarLike(1, x())]);
      return [g.add('Mul', [g.add('Mul', [n, onePlus]), g.scalarLike(0.5, x())])];
    }
    case 'hardsigmoid':
      return [g.add('HardSigmoid', [xName()], { alpha: { f: 1 / 6 }, beta: { f: 0.5 } })];
    case 'softmax':
      return [g.add('Softmax', [xName()], { axis: { i: attr<number>(node, 'dim') } })];
    case 'logSoftmax':
      return [g.add('LogSoftmax', [xName()], { axis: { i: attr<number>(node, 'dim') } })];
    case 'cast': {
      const to = DTYPE_TO_ONNX[attr<DType>(node, 'dtype')];
      return [g.add('Cast', [xName()], { to: { i: to } })];
    }
    case 'dropout':
      if (attr<boolean>(node, 'training'))
        throw new OnnxExportError('dropout: export needs eval mode (training=true traced)');
      return [g.add('Identity', [xName()])];
    case 'conv2d': {
      const w = tensorArg(node, 1);
      const b = optTensorArg(node, 2);
      const [ph, pw] = attr<[number, number]>(node, 'padding');
      return [
        g.add('Conv', [xName(), g.nameOf(w), ...(b ? [g.nameOf(b)] : [])], {
          kernel_shape: { ints: w.shape.slice(2) },
          strides: { ints: attr<number[]>(node, 'stride') },
          pads: { ints: [ph, pw, ph, pw] },
          dilations: { ints: attr<number[]>(node, 'dilation') },
          group: { i: attr<number>(node, 'groups') },
        }),
      ];
    }
    case 'linear': {
      const w = tensorArg(node, 1);
      const b = optTensorArg(node, 2);
      if (x().rank === 2) {
        return [g.add('Gemm', [xName(), g.nameOf(w), ...(b ? [g.nameOf(b)] : [])], { transB: { i: 1 } })];
      }
      const mm = g.add('MatMul', [xName(), g.add('Transpose', [g.nameOf(w)], { perm: { ints: [1, 0] } })]);
      return [b ? g.add('Add', [mm, g.nameOf(b)]) : mm];
    }
    case 'batchNorm': {
      if (attr<boolean>(node, 'training')) {
        throw new OnnxExportError(
          'batchNorm: export needs eval mode (running statistics), but training=true was traced',
        );
      }
      const c = x().shape[1] ?? 0;
      const [mean, variance, weight, bias] = [1, 2, 3, 4].map((i) => optTensorArg(node, i));
      if (!mean || !variance)
        throw new OnnxExportError('batchNorm: export needs running_mean and running_var');
      return [
        g.add(
          'BatchNormalization',
          [
            xName(),
            weight ? g.nameOf(weight) : g.constF32(new Array<number>(c).fill(1)),
            bias ? g.nameOf(bias) : g.constF32(new Array<number>(c).fill(0)),
            g.nameOf(mean),
            g.nameOf(variance),
          ],
          { epsilon: { f: attr<number>(node, 'eps') } },
        ),
      ];
    }
    case 'layerNorm': {
      const shape = attr<number[]>(node, 'normalizedShape');
      const weight = optTensorArg(node, 1);
      const bias = optTensorArg(node, 2);
      const n = shape.reduce((a, b) => a * b, 1);
      return [
        g.add(
          'LayerNormalization',
          [
            xName(),
            weight ? g.nameOf(weight) : g.constF32(new Array<number>(n).fill(1), shape),
            bias ? g.nameOf(bias) : g.constF32(new Array<number>(n).fill(0), shape),
          ],
          { axis: { i: -shape.length }, epsilon: { f: attr<number>(node, 'eps') } },
        ),
      ];
    }
    case 'groupNorm': {
      // GroupNorm = InstanceNormalization over [N, G, C/G·H·W], then the per-channel affine (as torch.onnx does).
      const t = x();
      const groups = attr<number>(node, 'numGroups');
      const c = t.shape[1] ?? 0;
      const grouped = g.add('Reshape', [xName(), g.constI64([0, groups, -1])]);
      const normed = g.add(
        'InstanceNormalization',
        [
          grouped,
          g.constF32(new Array<number>(groups).fill(1)),
          g.constF32(new Array<number>(groups).fill(0)),
        ],
        {
          epsilon: { f: attr<number>(node, 'eps') },
        },
      );
      let y = g.add('Reshape', [normed, g.add('Shape', [xName()])]);
      const affineShape = [c, ...t.shape.slice(2).map(() => 1)];
      const weight = optTensorArg(node, 1);
      const bias = optTensorArg(node, 2);
      if (weight) y = g.add('Mul', [y, g.add('Reshape', [g.nameOf(weight), g.constI64(affineShape)])]);
      if (bias) y = g.add('Add', [y, g.add('Reshape', [g.nameOf(bias), g.constI64(affineShape)])]);
      return [y];
    }
    case 'maxPool2d': {
      const [ph, pw] = attr<[number, number]>(node, 'padding');
      return [
        g.add('MaxPool', [xName()], {
          kernel_shape: { ints: attr<number[]>(node, 'kernelSize') },
          strides: { ints: attr<number[]>(node, 'stride') },
          pads: { ints: [ph, pw, ph, pw] },
          dilations: { ints: attr<number[]>(node, 'dilation') },
          ceil_mode: { i: attr<boolean>(node, 'ceilMode') ? 1 : 0 },
        }),
      ];
    }
    case 'avgPool2d': {
      const [ph, pw] = attr<[number, number]>(node, 'padding');
      return [
        g.add('AveragePool', [xName()], {
          kernel_shape: { ints: attr<number[]>(node, 'kernelSize') },
          strides: { ints: attr<number[]>(node, 'stride') },
          pads: { ints: [ph, pw, ph, pw] },
          ceil_mode: { i: attr<boolean>(node, 'ceilMode') ? 1 : 0 },
          count_include_pad: { i: attr<boolean>(node, 'countIncludePad') ? 1 : 0 },
        }),
      ];
    }
    case 'adaptiveAvgPool2d': {
      const [oh, ow] = attr<[number, number]>(node, 'outputSize');
      if (oh === 1 && ow === 1) return [g.add('GlobalAveragePool', [xName()])];
      const h = x().shape[2] ?? 0;
      const w = x().shape[3] ?? 0;
      if (h % oh !== 0 || w % ow !== 0) {
        throw new OnnxExportError(
          `adaptiveAvgPool2d: output ${oh}x${ow} from input ${h}x${w} has uneven windows; ONNX has no adaptive pooling`,
        );
      }
      return [
        g.add('AveragePool', [xName()], {
          kernel_shape: { ints: [h / oh, w / ow] },
          strides: { ints: [h / oh, w / ow] },
        }),
      ];
    }
    case 'interpolate': {
      const t = x();
      const [oh, ow] = attr<[number, number]>(node, 'size');
      const mode = attr<string>(node, 'mode');
      const scales = [1, 1, oh / (t.shape[2] ?? 1), ow / (t.shape[3] ?? 1)];
      const alignCorners = mode === 'bilinear' && node.attrs['alignCorners'] === true;
      return [
        g.add('Resize', [xName(), '', g.constF32(scales)], {
          mode: { s: mode === 'bilinear' ? 'linear' : 'nearest' },
          coordinate_transformation_mode: {
            s: mode === 'nearest' ? 'asymmetric' : alignCorners ? 'align_corners' : 'pytorch_half_pixel',
          },
          nearest_mode: { s: 'floor' },
        }),
      ];
    }
    case 'pad': {
      const t = x();
      const pads = attr<number[]>(node, 'pads');
      const begins = new Array<number>(t.rank).fill(0);
      const ends = new Array<number>(t.rank).fill(0);
      for (let i = 0; i < pads.length / 2; i++) {
        begins[t.rank - 1 - i] = pads[2 * i] ?? 0;
        ends[t.rank - 1 - i] = pads[2 * i + 1] ?? 0;
      }
      const mode = attr<string>(node, 'mode');
      return [
        g.add(
          'Pad',
          [xName(), g.constI64([...begins, ...ends]), g.scalarLike(Number(node.attrs['value'] ?? 0), t)],
          {
            mode: { s: mode === 'replicate' ? 'edge' : mode },
          },
        ),
      ];
    }
    case 'sum':
    case 'mean': {
      const t = x();
      const dims = (attr<number[] | null>(node, 'dims') ?? t.shape.map((_, i) => i)).map((d) =>
        normDim(d, t.rank),
      );
      const keep = attr<boolean>(node, 'keepDim') ? 1 : 0;
      if (op === 'mean')
        return [g.add('ReduceMean', [xName()], { axes: { ints: dims }, keepdims: { i: keep } })];
      return [g.add('ReduceSum', [xName(), g.constI64(dims)], { keepdims: { i: keep } })];
    }
    case 'max':
      return [g.add('ReduceMax', [xName()], { keepdims: { i: 0 } })];
    case 'maxDim': {
      const dim = attr<number>(node, 'dim');
      const keep = attr<boolean>(node, 'keepDim') ? 1 : 0;
      return [
        g.add('ReduceMax', [xName()], { axes: { ints: [dim] }, keepdims: { i: keep } }),
        g.add('ArgMax', [xName()], { axis: { i: dim }, keepdims: { i: keep } }),
      ];
    }
    case 'argmax':
      return [
        g.add('ArgMax', [xName()], {
          axis: { i: attr<number>(node, 'dim') },
          keepdims: { i: attr<boolean>(node, 'keepDim') ? 1 : 0 },
        }),
      ];
    case 'reshape':
    case 'view':
    case 'flatten':
      return [g.add('Reshape', [xName(), g.constI64(reshapeTarget(g, x(), out0, node))])];
    case 'permute':
      return [
        g.add('Transpose', [xName()], {
          perm: { ints: attr<number[]>(node, 'dims').map((d) => normDim(d, x().rank)) },
        }),
      ];
    case 'transpose': {
      const r = x().rank;
      const perm = [...Array(r).keys()];
      const a = normDim(attr<number>(node, 'dim0'), r);
      const b = normDim(attr<number>(node, 'dim1'), r);
      perm[a] = b;
      perm[b] = a;
      return [g.add('Transpose', [xName()], { perm: { ints: perm } })];
    }
    case 'squeeze': {
      const t = x();
      const dim = attr<number | null>(node, 'dim');
      // Axes from the traced shape: a bare Squeeze would also drop a batch of 1 at run time.
      const axes =
        dim === null
          ? t.shape.flatMap((d, i) => (d === 1 && !(g.batch !== null && i === 0) ? [i] : []))
          : [normDim(dim, t.rank)];
      if (axes.length === 0 || (dim !== null && t.shape[axes[0] as number] !== 1))
        return [g.add('Identity', [xName()])];
      return [g.add('Squeeze', [xName(), g.constI64(axes)])];
    }
    case 'unsqueeze':
      return [g.add('Unsqueeze', [xName(), g.constI64([normDim(attr<number>(node, 'dim'), x().rank + 1)])])];
    case 'expand': {
      const t = x();
      // Expand broadcasts: 1 (or PyTorch's -1) keeps the input's dimension, which keeps a symbolic batch.
      const shape = attr<number[]>(node, 'shape').map((d, i) =>
        d === -1 || (g.batch !== null && i === 0 && t.shape[0] === g.batch && d === g.batch) ? 1 : d,
      );
      return [g.add('Expand', [xName(), g.constI64(shape)])];
    }
    case 'narrow': {
      const dim = normDim(attr<number>(node, 'dim'), x().rank);
      const start = attr<number>(node, 'start');
      return [
        g.add('Slice', [
          xName(),
          g.constI64([start]),
          g.constI64([start + attr<number>(node, 'length')]),
          g.constI64([dim]),
        ]),
      ];
    }
    case 'select':
      return [
        g.add('Gather', [xName(), g.constI64([attr<number>(node, 'index')], [])], {
          axis: { i: normDim(attr<number>(node, 'dim'), x().rank) },
        }),
      ];
    case 'cat':
      return [
        g.add(
          'Concat',
          node.inputs.map((t, i) => g.nameOf(tensorArg(node, i))),
          { axis: { i: normDim(attr<number>(node, 'dim'), x().rank) } },
        ),
      ];
    case 'stack': {
      const dim = normDim(attr<number>(node, 'dim'), x().rank + 1);
      const parts = node.inputs.map((_, i) =>
        g.add('Unsqueeze', [g.nameOf(tensorArg(node, i)), g.constI64([dim])]),
      );
      return [g.add('Concat', parts, { axis: { i: dim } })];
    }
    case 'split': {
      const outs = node.outputs.map(() => g.fresh('Split'));
      g.addMany('Split', [xName(), g.constI64(attr<number[]>(node, 'sizes'))], outs, {
        axis: { i: attr<number>(node, 'dim') },
      });
      return outs;
    }
    case 'where':
      return [
        g.add('Where', [
          g.nameOf(tensorArg(node, 0)),
          g.nameOf(tensorArg(node, 1)),
          g.nameOf(tensorArg(node, 2)),
        ]),
      ];
    // In-place ops rebind the mutated tensor to a new value (ONNX values are immutable).
    case 'copy_':
      return [g.add('Identity', [g.nameOf(tensorArg(node, 1))])];
    case 'add_': {
      const alpha = node.inputs[2];
      let o = g.nameOf(tensorArg(node, 1));
      if (typeof alpha === 'number' && alpha !== 1) o = g.add('Mul', [o, g.scalarLike(alpha, x())]);
      return [g.add('Add', [xName(), o])];
    }
    case 'mul_': {
      const v = node.inputs[1];
      return [g.add('Mul', [xName(), v instanceof Tensor ? g.nameOf(v) : g.scalarLike(Number(v), x())])];
    }
    default:
      throw new OnnxExportError(`no ONNX mapping for traced op '${op}' (output ${out0?.toString() ?? '?'})`);
  }
}

/** The Reshape target for reshape/view/flatten, with the batch dimension kept symbolic (0 = copy input dim). */
function reshapeTarget(
  g: GraphBuilder,
  input: Tensor,
  output: Tensor | undefined,
  node: TracedNode,
): number[] {
  let target: number[];
  if (node.op === 'flatten') {
    const r = input.rank;
    const start = normDim(attr<number>(node, 'startDim') ?? 0, r);
    const end = normDim(attr<number>(node, 'endDim') ?? -1, r);
    target = [...input.shape.slice(0, start).map(() => 0), -1, ...input.shape.slice(end + 1)];
    return target;
  }
  target = output ? [...output.shape] : attr<number[]>(node, 'shape');
  // 0 copies the input's dimension, so the batch stays symbolic; the other dimensions are the traced ones.
  if (g.batch !== null && target[0] === g.batch && input.shape[0] === g.batch) target[0] = 0;
  return target;
}

/**
 * Export a module to ONNX by tracing one eval-mode forward pass on example inputs.
 * The module is put in eval mode for the trace and restored after.
 * @param module - the model (its parameters and buffers become initializers named by their dotted names)
 * @param options - graph inputs, the forward function returning named outputs, batch handling, metadata
 * @throws OnnxExportError for a traced op without an ONNX mapping (the message names it)
 */
export function exportOnnx(module: ExportableModule, options: OnnxExportOptions): OnnxExportResult {
  const dynamicBatch = options.dynamicBatch ?? true;
  const first = options.inputs[0];
  if (!first) throw new OnnxExportError('exportOnnx: needs at least one input');
  const batch = dynamicBatch ? (first.shape[0] ?? 0) : null;
  if (batch !== null && batch < 2) {
    throw new OnnxExportError(
      `exportOnnx: trace with a batch of at least 2 to keep it symbolic, got ${batch}`,
    );
  }
  const paramNames = new Map<Tensor, string>();
  for (const [name, t] of [...module.namedParameters(), ...module.namedBuffers()]) paramNames.set(t, name);

  const wasTraining = module.training;
  module.train(false);
  try {
    // tidy: the trace keeps every intermediate alive; all of them (and the examples) are freed once encoded.
    return tidy(() => {
      const examples = options.inputs.map((i) => randn(i.shape));
      const { result, graph } = noGrad(() => trace(() => options.forward(...examples)));
      const g = new GraphBuilder(paramNames, batch);
      examples.forEach((t, i) => g.bind(t, (options.inputs[i] as OnnxInputSpec).name));
      const opCounts: Record<string, number> = {};
      for (const node of graph.nodes) {
        opCounts[node.op] = (opCounts[node.op] ?? 0) + 1;
        if (!node.inputs.some((v: TraceValue) => v instanceof Tensor)) {
          // A creation op (tensor/zeros/full/...) inside forward: its values become a constant, read when used.
          continue;
        }
        const names = convertNode(g, node);
        node.outputs.forEach((t, i) => g.bind(t, names[i] ?? names[0] ?? ''));
      }
      const sym = (shape: readonly number[]): (number | string)[] =>
        shape.map((d, i) => (batch !== null && i === 0 ? 'batch' : d));
      const outputs = Object.entries(result).map(([name, t]) => {
        g.add('Identity', [g.nameOf(t)], {}, name);
        return { name, dataType: DTYPE_TO_ONNX[t.dtype], shape: sym(t.shape) };
      });
      const bytes = encodeOnnxModel({
        opsetVersion: ONNX_OPSET,
        producerName: 'physis',
        ...(options.producerVersion !== undefined ? { producerVersion: options.producerVersion } : {}),
        ...(options.docString !== undefined ? { docString: options.docString } : {}),
        ...(options.metadata ? { metadata: options.metadata } : {}),
        graph: {
          name: options.graphName ?? 'physis',
          nodes: g.nodes,
          initializers: g.initializers,
          inputs: options.inputs.map((inp, i) => ({
            name: inp.name,
            dataType: DTYPE_TO_ONNX[(examples[i] as Tensor).dtype],
            shape: sym(inp.shape),
          })),
          outputs,
        },
      });
      return { bytes, outputNames: outputs.map((o) => o.name), nodeCount: g.nodes.length, opCounts };
    });
  } finally {
    module.train(wasTraining);
  }
}
