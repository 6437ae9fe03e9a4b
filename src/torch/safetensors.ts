/**
 * safetensors files as engine tensors: `loadSafetensors` / `saveSafetensors` over the byte layer of
 * `safetensors-format.ts` (format: https://github.com/huggingface/safetensors). Names are kept as stored, so a
 * PyTorch state dict (dotted parameter names) loads with `Module.loadStateDict` unchanged.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  parseSafetensors,
  rawToFloat32,
  serializeSafetensors,
  SafetensorsFormatError,
  type RawTensor,
  type SafetensorsDType,
} from './safetensors-format.js';
import { tensor, type DType, type Tensor, type TypedData } from './tensor.js';

const DTYPE_TO_ST: Record<DType, SafetensorsDType> = {
  float32: 'F32',
  float16: 'F16',
  int64: 'I64',
  bool: 'BOOL',
};

/**
 * The bytes as an ArrayBuffer slice starting at an offset aligned to `itemSize`: a view when the file offset
 * already is (files from `serializeSafetensors` and the reference writer align every tensor), else a copy
 * (hand-written files need not be aligned). `tensor()` copies the data anyway.
 */
function aligned(bytes: Uint8Array, itemSize = 8): { buffer: ArrayBuffer; offset: number } {
  if (bytes.byteOffset % itemSize === 0 && bytes.buffer instanceof ArrayBuffer) {
    return { buffer: bytes.buffer, offset: bytes.byteOffset };
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { buffer: copy.buffer, offset: 0 };
}

function copyOf(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/**
 * An engine tensor from a stored tensor. F32/F16/I64/BOOL keep their dtype; BF16 and F64 widen or narrow to
 * float32 and I32/I16/I8/U8 widen to int64, since the engine has no such dtypes (values are preserved exactly
 * except F64 -> float32 rounding).
 * @param raw - the stored tensor
 * @param name - its name, for error messages
 */
export function rawToTensor(raw: RawTensor, name = '<tensor>'): Tensor {
  const shape = [...raw.shape];
  switch (raw.dtype) {
    case 'F32': {
      const a = aligned(raw.bytes, 4);
      return tensor(new Float32Array(a.buffer, a.offset, raw.bytes.byteLength / 4), shape);
    }
    case 'F16': {
      const a = aligned(raw.bytes, 2);
      return tensor(new Uint16Array(a.buffer, a.offset, raw.bytes.byteLength / 2), shape, {
        dtype: 'float16',
      });
    }
    case 'BF16':
      return tensor(rawToFloat32(raw), shape);
    case 'F64':
      return tensor(Float32Array.from(new Float64Array(copyOf(raw.bytes))), shape);
    case 'I64': {
      const a = aligned(raw.bytes, 8);
      return tensor(new BigInt64Array(a.buffer, a.offset, raw.bytes.byteLength / 8), shape, {
        dtype: 'int64',
      });
    }
    case 'BOOL':
      return tensor(
        Uint8Array.from(raw.bytes, (b) => (b !== 0 ? 1 : 0)),
        shape,
        { dtype: 'bool' },
      );
    case 'I32':
    case 'I16':
    case 'I8':
    case 'U8': {
      const buf = copyOf(raw.bytes);
      const src =
        raw.dtype === 'I32'
          ? new Int32Array(buf)
          : raw.dtype === 'I16'
            ? new Int16Array(buf)
            : raw.dtype === 'I8'
              ? new Int8Array(buf)
              : new Uint8Array(buf);
      return tensor(
        BigInt64Array.from(src, (v) => BigInt(v)),
        shape,
        { dtype: 'int64' },
      );
    }
    default:
      throw new SafetensorsFormatError(`tensor '${name}': unsupported dtype ${String(raw.dtype)}`);
  }
}

/** A stored tensor from an engine tensor (its values copied out, in its own dtype). @param t - any tensor */
export function tensorToRaw(t: Tensor): RawTensor {
  const data: TypedData = t.data();
  return {
    dtype: DTYPE_TO_ST[t.dtype],
    shape: [...t.shape],
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/**
 * Read a safetensors file into tensors and its metadata; the header is validated strictly first.
 * @param path - the .safetensors file
 * @throws SafetensorsFormatError naming the file and the broken rule
 */
export function readSafetensors(path: string): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  const { tensors: raws, metadata } = parseSafetensors(readFileSync(path), path);
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, raw] of raws) tensors.set(name, rawToTensor(raw, name));
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

/**
 * Load every tensor of a safetensors file, keyed by its stored (PyTorch dotted) name.
 * @param path - the .safetensors file
 */
export function loadSafetensors(path: string): Map<string, Tensor> {
  return readSafetensors(path).tensors;
}

/**
 * Serialise tensors to safetensors bytes (what `saveSafetensors` writes).
 * @param tensors - tensors by name
 * @param metadata - optional string metadata
 */
export function safetensorsBytes(
  tensors: ReadonlyMap<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const raws = new Map<string, RawTensor>();
  for (const [name, t] of tensors) raws.set(name, tensorToRaw(t));
  return serializeSafetensors(raws, metadata);
}

/**
 * Save tensors as a safetensors file, readable by the Hugging Face `safetensors` library and PyTorch.
 * Written to a temporary file and renamed, so a crash never leaves a truncated weights file.
 * @param path - the output file
 * @param tensors - tensors by name (e.g. `module.stateDict()`)
 * @param metadata - optional string metadata (e.g. `{ format: 'pt' }`)
 */
export function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, safetensorsBytes(tensors, metadata));
  renameSync(tmp, path);
}
