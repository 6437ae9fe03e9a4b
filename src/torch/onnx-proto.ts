/**
 * A minimal protobuf writer for ONNX models (ModelProto and what it contains), with no dependencies.
 *
 * Why: exporting needs only the encoding side of a dozen messages; a generated protobufjs module would add a
 * runtime dependency and ~1 MB of code for that. Field numbers and types follow onnx/onnx.proto (IR version 8,
 * https://github.com/onnx/onnx/blob/main/onnx/onnx.proto); the wire format follows the Protocol Buffers
 * encoding guide (varints, length-delimited fields, packed repeated scalars).
 */

/** ONNX TensorProto.DataType values used by Physis. */
export const ONNX_DTYPE = Object.freeze({
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
});

/** An ONNX TensorProto.DataType number. */
export type OnnxDataType = (typeof ONNX_DTYPE)[keyof typeof ONNX_DTYPE];

/** A constant tensor (initializer or attribute value) with its little-endian bytes in `rawData`. */
export interface OnnxTensor {
  readonly name: string;
  readonly dataType: OnnxDataType;
  readonly dims: readonly number[];
  readonly rawData: Uint8Array;
}

/** One attribute value; the key says the ONNX AttributeType (INT, FLOAT, STRING, INTS, FLOATS, TENSOR). */
export type OnnxAttribute =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly t: OnnxTensor };

/** A graph node: `opType` from the default domain unless `domain` is set. */
export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A graph input/output: name, element type and shape; a string dimension is symbolic (e.g. 'batch'). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dataType: OnnxDataType;
  readonly shape: readonly (number | string)[];
}

/** The parts of an ONNX GraphProto Physis writes. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** The parts of an ONNX ModelProto Physis writes. */
export interface OnnxModel {
  readonly graph: OnnxGraph;
  readonly opsetVersion: number;
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Stored as ModelProto.metadata_props (string key/value pairs), readable by ONNX Runtime. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Accumulates protobuf fields into chunks; nested messages are encoded first and embedded by length. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length > 0) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }

  private varint(v: number | bigint): void {
    // int64 fields hold negative values as 10-byte two's complement varints.
    let x = BigInt.asUintN(64, BigInt(v));
    if (x < 0x80n) {
      this.scratch.push(Number(x));
      this.length += 1;
      return;
    }
    while (x >= 0x80n) {
      this.scratch.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
      this.length += 1;
    }
    this.scratch.push(Number(x));
    this.length += 1;
  }

  private tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.scratch.push(x);
    this.length += 4;
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.byteLength);
    this.flushScratch();
    this.chunks.push(b);
    this.length += b.byteLength;
  }

  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: ProtoWriter): void {
    this.bytes(field, w.finish());
  }

  packedInts(field: number, vs: readonly number[]): void {
    const inner = new ProtoWriter();
    for (const v of vs) inner.varint(v);
    this.bytes(field, inner.finish());
  }

  packedFloats(field: number, vs: readonly number[]): void {
    this.bytes(field, new Uint8Array(Float32Array.from(vs).buffer));
  }

  finish(): Uint8Array {
    this.flushScratch();
    if (this.chunks.length === 1) return this.chunks[0] as Uint8Array;
    const out = new Uint8Array(this.length);
    let pos = 0;
    for (const c of this.chunks) {
      out.set(c, pos);
      pos += c.byteLength;
    }
    return out;
  }
}

function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length > 0) w.packedInts(1, t.dims); // dims
  w.int(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, t.rawData); // raw_data
  return w;
}

const ATTR_TYPE = { f: 1, i: 2, s: 3, t: 4, floats: 6, ints: 7 } as const;

function attributeProto(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  if ('f' in a) {
    w.float(2, a.f);
    w.int(20, ATTR_TYPE.f);
  } else if ('i' in a) {
    w.int(3, a.i);
    w.int(20, ATTR_TYPE.i);
  } else if ('s' in a) {
    w.string(4, a.s);
    w.int(20, ATTR_TYPE.s);
  } else if ('t' in a) {
    w.message(5, tensorProto(a.t));
    w.int(20, ATTR_TYPE.t);
  } else if ('floats' in a) {
    w.packedFloats(7, a.floats);
    w.int(20, ATTR_TYPE.floats);
  } else {
    w.packedInts(8, a.ints);
    w.int(20, ATTR_TYPE.ints);
  }
  return w;
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attributeProto(k, v));
  if (n.domain !== undefined) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, v.dataType);
  tensorType.message(2, shape);
  const type = new ProtoWriter();
  type.message(1, tensorType);
  const w = new ProtoWriter();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

/**
 * Encode an ONNX model to its protobuf bytes (what `onnx.save` writes and ONNX Runtime loads).
 * @param model - graph, opset and producer information
 */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const g = new ProtoWriter();
  for (const n of model.graph.nodes) g.message(1, nodeProto(n));
  g.string(2, model.graph.name);
  for (const t of model.graph.initializers) g.message(5, tensorProto(t));
  for (const v of model.graph.inputs) g.message(11, valueInfoProto(v));
  for (const v of model.graph.outputs) g.message(12, valueInfoProto(v));

  const m = new ProtoWriter();
  m.int(1, model.irVersion ?? 8); // ir_version 8 goes with opsets up to 18
  if (model.producerName !== undefined) m.string(2, model.producerName);
  if (model.producerVersion !== undefined) m.string(3, model.producerVersion);
  if (model.docString !== undefined) m.string(6, model.docString);
  m.message(7, g);
  const opset = new ProtoWriter();
  opset.string(1, '');
  opset.int(2, model.opsetVersion);
  m.message(8, opset);
  for (const [k, v] of Object.entries(model.metadata ?? {})) {
    const e = new ProtoWriter();
    e.string(1, k);
    e.string(2, v);
    m.message(14, e);
  }
  return m.finish();
}
