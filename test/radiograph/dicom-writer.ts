/**
 * Test helper: writes DICOM Part 10 files in code (no fixtures on disk), with a chosen transfer syntax,
 * VRs, sequences, native or encapsulated pixel data. Names of the tests using it carry the parameters.
 */
import { deflateRawSync } from 'node:zlib';

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflate: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  rle: '1.2.840.10008.1.2.5',
} as const;

/** One element: tag as 0xGGGGEEEE, VR, and a value (strings, numbers, bytes, sequence items or fragments). */
export interface El {
  tag: number;
  vr: string;
  value?: string | number[] | Uint8Array | El[][];
  /** Encapsulated pixel data fragments (value ignored). */
  fragments?: Uint8Array[];
  /** Write sequences with undefined length and delimiters. */
  undefinedLength?: boolean;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'SQ', 'UC', 'UN', 'UR', 'UT', 'OV']);

class Out {
  private chunks: Uint8Array[] = [];
  length = 0;
  constructor(readonly littleEndian: boolean) {}
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u16(v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, this.littleEndian);
    this.bytes(b);
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, this.littleEndian);
    this.bytes(b);
  }
  ascii(s: string): void {
    this.bytes(new Uint8Array(Buffer.from(s, 'latin1')));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function valueBytes(el: El, littleEndian: boolean, explicit: boolean): Uint8Array {
  const v = el.value;
  if (v === undefined) return new Uint8Array(0);
  if (v instanceof Uint8Array) {
    const out = v.length % 2 === 0 ? v.slice() : Uint8Array.from([...v, 0]);
    if (!littleEndian && el.vr === 'OW')
      for (let i = 0; i + 1 < out.length; i += 2) out.subarray(i, i + 2).reverse();
    return out;
  }
  if (typeof v === 'string') {
    let s = v;
    if (s.length % 2 === 1) s += el.vr === 'UI' || el.vr === 'OB' ? '\0' : ' ';
    return new Uint8Array(Buffer.from(s, 'latin1'));
  }
  if (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'number')) {
    const nums = v as number[];
    const size = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, OW: 2, AT: 4 }[el.vr] ?? 2;
    const b = new Uint8Array(nums.length * size);
    const dv = new DataView(b.buffer);
    nums.forEach((n, i) => {
      const o = i * size;
      if (el.vr === 'SS') dv.setInt16(o, n, littleEndian);
      else if (el.vr === 'SL') dv.setInt32(o, n, littleEndian);
      else if (el.vr === 'UL') dv.setUint32(o, n, littleEndian);
      else if (el.vr === 'FL') dv.setFloat32(o, n, littleEndian);
      else if (el.vr === 'FD') dv.setFloat64(o, n, littleEndian);
      else dv.setUint16(o, n, littleEndian);
    });
    return b;
  }
  // Sequence: items of elements.
  const items = v as El[][];
  const out = new Out(littleEndian);
  for (const item of items) {
    const body = encodeElements(item, littleEndian, explicit);
    out.u16(0xfffe);
    out.u16(0xe000);
    if (el.undefinedLength) {
      out.u32(0xffffffff);
      out.bytes(body);
      out.u16(0xfffe);
      out.u16(0xe00d);
      out.u32(0);
    } else {
      out.u32(body.length);
      out.bytes(body);
    }
  }
  return out.concat();
}

/** Encode elements (sorted by tag) in one transfer syntax's VR/endian rules. */
export function encodeElements(elements: El[], littleEndian: boolean, explicit: boolean): Uint8Array {
  const out = new Out(littleEndian);
  for (const el of [...elements].sort((a, b) => a.tag - b.tag)) {
    const group = el.tag >>> 16;
    const element = el.tag & 0xffff;
    out.u16(group);
    out.u16(element);
    if (el.fragments) {
      if (explicit) {
        out.ascii('OB');
        out.u16(0);
      }
      out.u32(0xffffffff);
      out.u16(0xfffe);
      out.u16(0xe000);
      out.u32(0); // empty basic offset table
      for (const f of el.fragments) {
        const padded = f.length % 2 === 0 ? f : Uint8Array.from([...f, 0]);
        out.u16(0xfffe);
        out.u16(0xe000);
        out.u32(padded.length);
        out.bytes(padded);
      }
      out.u16(0xfffe);
      out.u16(0xe0dd);
      out.u32(0);
      continue;
    }
    const body = valueBytes(el, littleEndian, explicit);
    const undefinedSq = el.vr === 'SQ' && el.undefinedLength === true;
    if (explicit) {
      out.ascii(el.vr);
      if (LONG_VRS.has(el.vr)) {
        out.u16(0);
        out.u32(undefinedSq ? 0xffffffff : body.length);
      } else {
        out.u16(body.length);
      }
    } else {
      out.u32(undefinedSq ? 0xffffffff : body.length);
    }
    out.bytes(body);
    if (undefinedSq) {
      out.u16(0xfffe);
      out.u16(0xe0dd);
      out.u32(0);
    }
  }
  return out.concat();
}

/** Options for a whole file. */
export interface FileOptions {
  transferSyntax?: string;
  /** Write the 128-byte preamble + DICM (default true). */
  preamble?: boolean;
  /** Write the file meta group (default true). */
  meta?: boolean;
}

/**
 * A Part 10 file: preamble, DICM, meta group (explicit LE), then the data set in the chosen transfer syntax.
 * @param elements - the data set
 * @param options - transfer syntax, preamble, meta
 */
export function writeDicom(elements: El[], options: FileOptions = {}): Uint8Array {
  const ts = options.transferSyntax ?? TS.explicitLE;
  const littleEndian = ts !== TS.explicitBE;
  const explicit = ts !== TS.implicitLE;
  let body = encodeElements(elements, littleEndian, explicit);
  if (ts === TS.deflate) body = new Uint8Array(deflateRawSync(body));
  const parts: Uint8Array[] = [];
  if (options.preamble !== false) {
    const pre = new Uint8Array(132);
    pre.set(Buffer.from('DICM', 'latin1'), 128);
    parts.push(pre);
  }
  if (options.meta !== false) {
    const metaBody = encodeElements(
      [
        { tag: 0x00020001, vr: 'OB', value: Uint8Array.from([0, 1]) },
        { tag: 0x00020002, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.1.1' },
        { tag: 0x00020003, vr: 'UI', value: '1.2.826.0.1.3680043.8.498.1' },
        { tag: 0x00020010, vr: 'UI', value: ts },
      ],
      true,
      true,
    );
    const groupLength = encodeElements([{ tag: 0x00020000, vr: 'UL', value: [metaBody.length] }], true, true);
    parts.push(groupLength, metaBody);
  }
  parts.push(body);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** PackBits-encode one byte plane with literal runs only (valid RLE per PS3.5 G.3.1, not the smallest). */
function packBitsLiteral(plane: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < plane.length; i += 128) {
    const run = plane.subarray(i, Math.min(plane.length, i + 128));
    out.push(run.length - 1, ...run);
  }
  if (out.length % 2 === 1) out.push(0x80); // pad with a no-op
  return Uint8Array.from(out);
}

/**
 * Encode a frame as DICOM RLE (PS3.5 Annex G): LE interleaved samples -> header + MSB-first byte segments.
 * @param bytes - little-endian interleaved sample bytes
 * @param samplesPerPixel - 1 or 3
 * @param bytesPerSample - 1 or 2
 */
export function encodeRle(bytes: Uint8Array, samplesPerPixel: number, bytesPerSample: number): Uint8Array {
  const stride = samplesPerPixel * bytesPerSample;
  const pixels = bytes.length / stride;
  const segments: Uint8Array[] = [];
  for (let s = 0; s < samplesPerPixel; s++) {
    for (let b = bytesPerSample - 1; b >= 0; b--) {
      const plane = new Uint8Array(pixels);
      for (let p = 0; p < pixels; p++) plane[p] = bytes[p * stride + s * bytesPerSample + b] ?? 0;
      segments.push(packBitsLiteral(plane));
    }
  }
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((seg, i) => {
    dv.setUint32(4 + 4 * i, offset, true);
    offset += seg.length;
  });
  const out = new Uint8Array(offset);
  out.set(header, 0);
  let o = 64;
  for (const seg of segments) {
    out.set(seg, o);
    o += seg.length;
  }
  return out;
}

/** Parameters of a synthetic monochrome image. */
export interface ImageSpec {
  rows: number;
  columns: number;
  /** Stored values, row-major (signed where pixelRepresentation is 1). */
  values: number[];
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: 0 | 1;
  photometric?: string;
  samplesPerPixel?: number;
  transferSyntax?: string;
  rescale?: { slope: number; intercept: number };
  windows?: { center: number; width: number }[];
  voiLutFunction?: string;
  /** Bits above bitsStored filled with 1s, to check masking. */
  garbageHighBits?: boolean;
  extra?: El[];
  preamble?: boolean;
  meta?: boolean;
}

/** Little-endian bytes of stored values (two's complement for negatives), with optional garbage high bits. */
export function storedBytes(spec: ImageSpec): Uint8Array {
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const bytesPer = bitsAllocated / 8;
  const out = new Uint8Array(spec.values.length * bytesPer);
  const dv = new DataView(out.buffer);
  const mask = 2 ** bitsStored - 1;
  const garbage = spec.garbageHighBits ? (2 ** bitsAllocated - 1) ^ mask : 0;
  spec.values.forEach((v, i) => {
    const raw = ((v < 0 ? v + 2 ** bitsStored : v) & mask) | garbage;
    if (bytesPer === 1) out[i] = raw;
    else dv.setUint16(2 * i, raw, true);
  });
  return out;
}

/**
 * A whole synthetic image file.
 * @param spec - image parameters
 */
export function writeImage(spec: ImageSpec): Uint8Array {
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const bitsStored = spec.bitsStored ?? bitsAllocated;
  const ts = spec.transferSyntax ?? TS.explicitLE;
  const pixels = storedBytes(spec);
  const elements: El[] = [
    { tag: 0x00080016, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.1.1' },
    { tag: 0x00080018, vr: 'UI', value: '1.2.826.0.1.3680043.8.498.1' },
    { tag: 0x00080060, vr: 'CS', value: 'DX' },
    { tag: 0x00280002, vr: 'US', value: [spec.samplesPerPixel ?? 1] },
    { tag: 0x00280004, vr: 'CS', value: spec.photometric ?? 'MONOCHROME2' },
    { tag: 0x00280010, vr: 'US', value: [spec.rows] },
    { tag: 0x00280011, vr: 'US', value: [spec.columns] },
    { tag: 0x00280100, vr: 'US', value: [bitsAllocated] },
    { tag: 0x00280101, vr: 'US', value: [bitsStored] },
    { tag: 0x00280102, vr: 'US', value: [spec.highBit ?? bitsStored - 1] },
    { tag: 0x00280103, vr: 'US', value: [spec.pixelRepresentation ?? 0] },
  ];
  if (spec.rescale) {
    elements.push({ tag: 0x00281052, vr: 'DS', value: String(spec.rescale.intercept) });
    elements.push({ tag: 0x00281053, vr: 'DS', value: String(spec.rescale.slope) });
  }
  if (spec.windows) {
    elements.push({ tag: 0x00281050, vr: 'DS', value: spec.windows.map((w) => String(w.center)).join('\\') });
    elements.push({ tag: 0x00281051, vr: 'DS', value: spec.windows.map((w) => String(w.width)).join('\\') });
  }
  if (spec.voiLutFunction) elements.push({ tag: 0x00281056, vr: 'CS', value: spec.voiLutFunction });
  if (ts === TS.rle) {
    elements.push({
      tag: 0x7fe00010,
      vr: 'OB',
      fragments: [encodeRle(pixels, spec.samplesPerPixel ?? 1, bitsAllocated / 8)],
    });
  } else {
    elements.push({ tag: 0x7fe00010, vr: bitsAllocated === 8 ? 'OB' : 'OW', value: pixels });
  }
  elements.push(...(spec.extra ?? []));
  // Later duplicates (from `extra`) replace earlier ones.
  const byTag = new Map<number, El>();
  for (const el of elements) byTag.set(el.tag, el);
  return writeDicom([...byTag.values()], {
    transferSyntax: ts,
    ...(spec.preamble === false ? { preamble: false } : {}),
    ...(spec.meta === false ? { meta: false } : {}),
  });
}
