/**
 * The safetensors file format at the byte level, independent of the tensor engine.
 *
 * Why: PyTorch, Hugging Face and timm publish weights as safetensors; a weights file that cannot execute code
 * on load (unlike pickle) is what a hospital can accept. The layout is fixed by the reference implementation
 * (https://github.com/huggingface/safetensors, "Format"): an 8-byte little-endian u64 N, an N-byte UTF-8 JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the raw
 * little-endian tensor bytes, with offsets relative to the start of that byte buffer. This module parses and
 * writes that layout with strict validation; `safetensors.ts` turns the result into engine tensors.
 */

/** Element types this module reads and writes (the safetensors spelling). */
export type SafetensorsDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element of each safetensors dtype. */
export const SAFETENSORS_ITEM_SIZE: Readonly<Record<SafetensorsDType, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
});

/** Largest header accepted, as in the reference implementation (100 MB): bounds memory on a hostile file. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** One tensor as stored: its dtype, shape and raw little-endian bytes (a view into the file buffer when parsed). */
export interface RawTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** A parsed safetensors file: tensors by name, in header order, and the free-form string metadata. */
export interface SafetensorsContents {
  readonly tensors: Map<string, RawTensor>;
  readonly metadata: Record<string, string>;
}

/** A safetensors file or tensor set that breaks the format; the message names the file/tensor and the rule. */
export class SafetensorsFormatError extends Error {
  override name = 'SafetensorsFormatError';
}

/** Whether a string is one of the supported safetensors dtypes. @param s - the header's dtype field */
export function isSafetensorsDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_ITEM_SIZE, s);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Parse a safetensors buffer into raw tensors with strict checks: bounded header length, valid JSON object,
 * known dtypes, non-negative integer shapes, `end - begin = prod(shape) * itemsize`, offsets inside the data,
 * no two tensors overlapping and no bytes left unaccounted for (as the reference implementation requires).
 * @param buf - the whole file
 * @param source - file name for error messages
 */
export function parseSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const fail = (why: string): never => {
    throw new SafetensorsFormatError(`${source}: ${why}`);
  };
  if (buf.byteLength < 8) fail(`file is ${buf.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    fail(`header length ${headerLen64} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
  }
  const headerLen = Number(headerLen64);
  if (8 + headerLen > buf.byteLength) {
    fail(`header length ${headerLen} runs past the end of the ${buf.byteLength}-byte file`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isRecord(header)) return fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = buf.byteLength - dataStart;

  const metadata: Record<string, string> = {};
  const rawMeta = header['__metadata__'];
  if (rawMeta !== undefined) {
    if (!isRecord(rawMeta)) fail('__metadata__ is not an object of strings');
    for (const [k, v] of Object.entries(rawMeta as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
      metadata[k] = v as string;
    }
  }

  const tensors = new Map<string, RawTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isRecord(entry)) return fail(`tensor '${name}': entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isSafetensorsDType(dtype))
      return fail(`tensor '${name}': unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      return fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
    ) {
      return fail(`tensor '${name}': data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    const expected = numel(dims) * SAFETENSORS_ITEM_SIZE[dtype];
    if (end < begin) fail(`tensor '${name}': data_offsets [${begin}, ${end}] end before begin`);
    if (end - begin !== expected) {
      fail(
        `tensor '${name}': ${end - begin} bytes in data_offsets but shape [${dims.join(',')}] of ${dtype} needs ${expected}`,
      );
    }
    if (end > dataLen)
      fail(`tensor '${name}': data_offsets end ${end} is past the ${dataLen}-byte data section`);
    spans.push({ name, begin, end });
    tensors.set(name, { dtype, shape: dims, bytes: buf.subarray(dataStart + begin, dataStart + end) });
  }
  // Sorted spans must tile the data section exactly: an overlap means two tensors alias bytes, a gap means
  // the header does not describe the file (the reference implementation rejects both).
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin < cursor)
      fail(`tensor '${s.name}': bytes [${s.begin}, ${s.end}) overlap the previous tensor`);
    if (s.begin > cursor)
      fail(`tensor '${s.name}': gap of ${s.begin - cursor} bytes before it in the data section`);
    cursor = s.end;
  }
  if (cursor !== dataLen) fail(`data section has ${dataLen - cursor} trailing bytes no tensor describes`);
  return { tensors, metadata };
}

/**
 * Serialise raw tensors to the safetensors layout. Tensors are laid out largest item size first, then by
 * name, and the header is padded with spaces to a multiple of 8 bytes, so every tensor starts aligned to its
 * item size (the reference writer does the same, which lets readers view the bytes without copying).
 * @param tensors - tensors by name; byte lengths are checked against dtype and shape
 * @param metadata - optional string-to-string metadata stored under `__metadata__`
 */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, RawTensor>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const names = [...tensors.keys()];
  for (const name of names) {
    if (name === '__metadata__') throw new SafetensorsFormatError(`tensor name '__metadata__' is reserved`);
    const t = tensors.get(name) as RawTensor;
    if (!isSafetensorsDType(t.dtype))
      throw new SafetensorsFormatError(`tensor '${name}': unsupported dtype ${t.dtype}`);
    const expected = numel(t.shape) * SAFETENSORS_ITEM_SIZE[t.dtype];
    if (t.bytes.byteLength !== expected) {
      throw new SafetensorsFormatError(
        `tensor '${name}': ${t.bytes.byteLength} bytes but shape [${t.shape.join(',')}] of ${t.dtype} needs ${expected}`,
      );
    }
  }
  names.sort((a, b) => {
    const ta = tensors.get(a) as RawTensor;
    const tb = tensors.get(b) as RawTensor;
    const d = SAFETENSORS_ITEM_SIZE[tb.dtype] - SAFETENSORS_ITEM_SIZE[ta.dtype];
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsFormatError(`metadata '${k}' is not a string`);
    }
    header['__metadata__'] = metadata;
  }
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as RawTensor;
    header[name] = {
      dtype: t.dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + t.bytes.byteLength],
    };
    offset += t.bytes.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const name of names) {
    const t = tensors.get(name) as RawTensor;
    out.set(t.bytes, pos);
    pos += t.bytes.byteLength;
  }
  return out;
}

const F32_SCRATCH = new Float32Array(1);
const U32_SCRATCH = new Uint32Array(F32_SCRATCH.buffer);

/** IEEE 754 binary16 bits of a number, round-to-nearest-even, with overflow to infinity and subnormals. */
export function float32ToFloat16Bits(value: number): number {
  F32_SCRATCH[0] = value;
  const x = U32_SCRATCH[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // underflow to signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m += 1;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m += 1;
    if (m === 0x400) {
      m = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** The number a binary16 bit pattern encodes. @param bits - the 16 bits as an unsigned integer */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * A float tensor's values widened to float32 (F32 copied, F16 and BF16 converted).
 * Why: bundles may ship fp16 weights to halve their size, while the engine and ONNX graph compute in fp32.
 * @param t - an F32, F16 or BF16 tensor
 */
export function rawToFloat32(t: RawTensor): Float32Array {
  const n = t.bytes.byteLength / SAFETENSORS_ITEM_SIZE[t.dtype];
  const view = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  if (t.dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (t.dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32(view.getUint16(i * 2, true));
  } else if (t.dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16;
  } else {
    throw new SafetensorsFormatError(`rawToFloat32: dtype ${t.dtype} is not a float type`);
  }
  return out;
}

/** An F32 tensor narrowed to F16 (round to nearest even); other dtypes are returned unchanged. @param t - tensor */
export function rawToFloat16(t: RawTensor): RawTensor {
  if (t.dtype !== 'F32') return t;
  const src = rawToFloat32(t);
  const bits = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = float32ToFloat16Bits(src[i] as number);
  return { dtype: 'F16', shape: t.shape, bytes: new Uint8Array(bits.buffer) };
}
