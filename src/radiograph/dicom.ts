/**
 * DICOM Part 10 (and bare data sets without the preamble) -> Radiograph.
 *
 * Parsing is dicom-parser's; this file adds what a clinical reader needs on top: bounded work on hostile input
 * (lengths checked against the file before any allocation, a cap on pixels, bounded inflate, nesting errors
 * turned into typed errors), frame extraction for every common transfer syntax, bits-stored masking and sign,
 * the Modality LUT and the VOI description (PS3.3 C.11). Colour and multi-frame inputs decode with a warning.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { inflateRawSync } from 'node:zlib';
import { CODECS, CodecFailure, readCodestreamHeader, type DecodedFrame } from './codecs/index.js';
import {
  CodecError,
  ImageTooLargeError,
  InvalidImageError,
  MalformedDicomError,
  NoPixelDataError,
  NotDicomError,
  RadiographError,
  UnsupportedPhotometricError,
  UnsupportedTransferSyntaxError,
} from './errors.js';
import { DicomStrings, readDicomMetadata } from './metadata.js';
import { decodeRle } from './rle.js';
import type { LookupTable, Radiograph, RadiographMetadata, Voi, VoiLutFunction, VoiWindow } from './types.js';
import { minMax } from './voi.js';

/** Transfer syntaxes whose pixel data are native (uncompressed) after parsing (PS3.5 A.1, A.2, A.5). */
const NATIVE = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
]);
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const RLE = '1.2.840.10008.1.2.5';

/** Names of transfer syntaxes Physis knows but cannot decode, for the error message. */
const KNOWN_UNSUPPORTED: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.4.52': 'JPEG Extended (Process 3 & 5, retired)',
  '1.2.840.10008.1.2.4.53': 'JPEG Spectral Selection (retired)',
  '1.2.840.10008.1.2.4.55': 'JPEG Full Progression (retired)',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile',
  '1.2.840.10008.1.2.4.101': 'MPEG2 High Profile',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 RPCL Lossless',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
};

/** Limits that keep work on one file bounded. */
export interface DicomLimits {
  /** Most pixels (rows × columns) in one frame; larger images are refused before allocation. Default 2^26 (8192 x 8192; large CR/DR detectors are ~4300 x 4300). */
  readonly maxPixels?: number;
  /** Most bytes a deflated data set may inflate to. Default 1 GiB. */
  readonly maxInflatedBytes?: number;
}

const DEFAULT_MAX_PIXELS = 2 ** 26;
const DEFAULT_MAX_INFLATED = 2 ** 30;

function ascii(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i] ?? 0);
  return s;
}

function isVrLetters(bytes: Uint8Array, at: number): boolean {
  const a = bytes[at] ?? 0;
  const b = bytes[at + 1] ?? 0;
  return a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a;
}

/**
 * Whether bytes look like DICOM: Part 10 (`DICM` at 128), a meta group without preamble, or a bare
 * little-endian data set starting with a plausible group. Used to tell DICOM from other files in a folder.
 * @param bytes - the file's first bytes (at least 132 when available)
 */
export function looksLikeDicom(bytes: Uint8Array): boolean {
  return sniffDicom(bytes) !== null;
}

type Sniff =
  { kind: 'part10' } | { kind: 'no-preamble'; prefix: Uint8Array } | { kind: 'bare'; transferSyntax: string };

function sniffDicom(bytes: Uint8Array): Sniff | null {
  if (bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM') return { kind: 'part10' };
  if (bytes.length >= 4 && ascii(bytes, 0, 4) === 'DICM')
    return { kind: 'no-preamble', prefix: new Uint8Array(128) };
  if (bytes.length < 8) return null;
  const group = (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8);
  const element = (bytes[2] ?? 0) | ((bytes[3] ?? 0) << 8);
  if (group === 0x0002 && element <= 0x0102 && isVrLetters(bytes, 4)) {
    const prefix = new Uint8Array(132);
    prefix.set([0x44, 0x49, 0x43, 0x4d], 128);
    return { kind: 'no-preamble', prefix };
  }
  // A bare data set (ACR-NEMA style or a stripped Part 10 body) starts with the command group 0000 or the
  // identifying group 0008; anything else at byte 0 is far more likely another kind of file.
  if (group !== 0x0000 && group !== 0x0008) return null;
  if (isVrLetters(bytes, 4)) return { kind: 'bare', transferSyntax: '1.2.840.10008.1.2.1' };
  const length =
    ((bytes[4] ?? 0) | ((bytes[5] ?? 0) << 8) | ((bytes[6] ?? 0) << 16)) + (bytes[7] ?? 0) * 2 ** 24;
  if (length > bytes.length && length !== 0xffffffff) return null;
  return { kind: 'bare', transferSyntax: '1.2.840.10008.1.2' };
}

function describe(thrown: unknown): string {
  if (thrown instanceof RangeError && /call stack/i.test(thrown.message)) {
    return 'sequences nested too deeply to parse (call stack exhausted)';
  }
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'object' && thrown !== null && 'exception' in thrown) {
    return describe((thrown as { exception: unknown }).exception);
  }
  return String(thrown).replace(/^dicomParser\.\w+: /, '');
}

/**
 * Parse the data set with dicom-parser, turning whatever it throws (strings, objects, stack overflow) into a
 * typed error naming the file.
 * @param bytes - the whole file
 * @param file - its name, for messages
 * @param limits - inflate bound
 */
export function parseDicomDataSet(bytes: Uint8Array, file: string, limits: DicomLimits = {}): DataSet {
  const sniff = sniffDicom(bytes);
  if (!sniff)
    throw new NotDicomError(
      file,
      'not DICOM: no DICM marker at byte 128 and no plausible data set at byte 0',
    );
  let input = bytes;
  if (sniff.kind === 'no-preamble') {
    input = new Uint8Array(sniff.prefix.length + bytes.length);
    input.set(sniff.prefix, 0);
    input.set(bytes, sniff.prefix.length);
  }
  const maxInflated = limits.maxInflatedBytes ?? DEFAULT_MAX_INFLATED;
  const inflater = (arr: Uint8Array, position: number): Uint8Array => {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: maxInflated });
    } catch (e) {
      throw new MalformedDicomError(file, `deflated data set does not inflate: ${describe(e)}`);
    }
    const full = new Uint8Array(position + inflated.length);
    full.set(arr.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };
  try {
    const options = {
      inflater: inflater as unknown as (arr: Uint8Array, position: number) => void,
      ...(sniff.kind === 'bare' ? { TransferSyntaxUID: sniff.transferSyntax } : {}),
    };
    return dicomParser.parseDicom(input, options);
  } catch (thrown) {
    if (thrown instanceof RadiographError) throw thrown;
    const inner =
      typeof thrown === 'object' && thrown !== null && 'exception' in thrown ? thrown.exception : null;
    if (inner instanceof RadiographError) throw inner;
    throw new MalformedDicomError(file, `cannot parse DICOM: ${describe(thrown)}`);
  }
}

/** Image Pixel module attributes (PS3.3 C.7.6.3) as read, before validation. */
interface PixelModule {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  numberOfFrames: number;
}

function readPixelModule(ds: DataSet, strings: DicomStrings, file: string): PixelModule {
  const need = (tag: string, name: string): number => {
    const v = ds.uint16(tag);
    if (v === undefined)
      throw new InvalidImageError(file, `missing ${name} (${tag.slice(1, 5)},${tag.slice(5)})`);
    return v;
  };
  const rows = need('x00280010', 'Rows');
  const columns = need('x00280011', 'Columns');
  const bitsAllocated = need('x00280100', 'BitsAllocated');
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const framesText = strings.get('x00280008');
  const frames = framesText === null ? 1 : Number(framesText);
  return {
    rows,
    columns,
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    photometric: (strings.get('x00280004') ?? 'MONOCHROME2').toUpperCase(),
    bitsAllocated,
    bitsStored,
    highBit: ds.uint16('x00280102') ?? bitsStored - 1,
    pixelRepresentation: ds.uint16('x00280103') ?? 0,
    planarConfiguration: ds.uint16('x00280006') ?? 0,
    numberOfFrames: Number.isInteger(frames) ? frames : Number.NaN,
  };
}

function validatePixelModule(p: PixelModule, file: string, maxPixels: number): void {
  if (p.rows === 0 || p.columns === 0) throw new InvalidImageError(file, `image is ${p.rows}x${p.columns}`);
  if (p.rows * p.columns > maxPixels) {
    throw new ImageTooLargeError(
      file,
      `${p.columns}x${p.rows} = ${p.rows * p.columns} pixels exceeds the limit of ${maxPixels}`,
    );
  }
  if (!(p.numberOfFrames >= 1) || p.numberOfFrames > 100_000) {
    throw new InvalidImageError(file, `NumberOfFrames ${p.numberOfFrames} is not a positive integer`);
  }
  if (p.samplesPerPixel !== 1 && p.samplesPerPixel !== 3) {
    throw new UnsupportedPhotometricError(file, `SamplesPerPixel ${p.samplesPerPixel} (expected 1 or 3)`);
  }
  if (p.bitsAllocated !== 8 && p.bitsAllocated !== 16 && p.bitsAllocated !== 32) {
    throw new InvalidImageError(file, `BitsAllocated ${p.bitsAllocated} is not 8, 16 or 32`);
  }
  if (p.bitsStored < 1 || p.bitsStored > p.bitsAllocated) {
    throw new InvalidImageError(
      file,
      `BitsStored ${p.bitsStored} is outside 1..BitsAllocated (${p.bitsAllocated})`,
    );
  }
  if (p.highBit < p.bitsStored - 1 || p.highBit >= p.bitsAllocated) {
    throw new InvalidImageError(
      file,
      `HighBit ${p.highBit} inconsistent with BitsStored ${p.bitsStored}, BitsAllocated ${p.bitsAllocated}`,
    );
  }
  if (p.pixelRepresentation > 1)
    throw new InvalidImageError(file, `PixelRepresentation ${p.pixelRepresentation}`);
}

/** Samples of one frame before grayscale conversion: LE bytes, `bytesPerSample` each, interleaved or planar. */
interface FrameSamples {
  bytes: Uint8Array;
  bytesPerSample: number;
  planar: boolean;
  /** True when a codec has already converted YBR to RGB. */
  rgbFromCodec: boolean;
}

function nativeFrame(
  ds: DataSet,
  pd: Element,
  p: PixelModule,
  transferSyntax: string,
  file: string,
  warnings: string[],
): FrameSamples {
  const bytesPerSample = p.bitsAllocated / 8;
  const frameBytes = p.rows * p.columns * p.samplesPerPixel * bytesPerSample;
  const available = Math.min(pd.length, ds.byteArray.length - pd.dataOffset);
  if (pd.dataOffset > ds.byteArray.length || available < frameBytes) {
    throw new InvalidImageError(
      file,
      `Pixel Data holds ${Math.max(0, available)} bytes but ${p.columns}x${p.rows}x${p.samplesPerPixel} at ${p.bitsAllocated} bits needs ${frameBytes}`,
    );
  }
  if (available < frameBytes * p.numberOfFrames) {
    warnings.push(`Pixel Data holds fewer than the ${p.numberOfFrames} declared frames`);
  }
  const swap = transferSyntax === BIG_ENDIAN && bytesPerSample > 1;
  // Read in place unless the bytes must be swapped (big endian), which needs a private copy.
  const bytes = swap
    ? ds.byteArray.slice(pd.dataOffset, pd.dataOffset + frameBytes)
    : ds.byteArray.subarray(pd.dataOffset, pd.dataOffset + frameBytes);
  if (swap) {
    for (let i = 0; i + bytesPerSample <= bytes.length; i += bytesPerSample)
      bytes.subarray(i, i + bytesPerSample).reverse();
  }
  return {
    bytes,
    bytesPerSample,
    planar: p.planarConfiguration === 1 && p.samplesPerPixel === 3,
    rgbFromCodec: false,
  };
}

function encapsulatedFrame(ds: DataSet, pd: Element, p: PixelModule, file: string): Uint8Array {
  const fragments = pd.fragments ?? [];
  if (fragments.length === 0) throw new InvalidImageError(file, 'encapsulated Pixel Data has no fragments');
  for (const f of fragments) {
    if (f.position + f.length > ds.byteArray.length) {
      throw new MalformedDicomError(
        file,
        `pixel data fragment of ${f.length} bytes runs past the end of the file`,
      );
    }
  }
  try {
    if (p.numberOfFrames === 1)
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pd, 0, fragments.length);
    if ((pd.basicOffsetTable ?? []).length > 0) return dicomParser.readEncapsulatedImageFrame(ds, pd, 0);
    if (fragments.length === p.numberOfFrames)
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pd, 0, 1);
    const table = dicomParser.createJPEGBasicOffsetTable(ds, pd);
    return dicomParser.readEncapsulatedImageFrame(ds, pd, 0, table);
  } catch (thrown) {
    throw new MalformedDicomError(
      file,
      `cannot extract frame 1 from encapsulated Pixel Data: ${describe(thrown)}`,
    );
  }
}

async function codecFrame(
  encoded: Uint8Array,
  p: PixelModule,
  transferSyntax: string,
  file: string,
): Promise<FrameSamples> {
  if (transferSyntax === RLE) {
    const bytesPerSample = p.bitsAllocated / 8;
    try {
      const bytes = decodeRle(encoded, p.rows * p.columns, p.samplesPerPixel, bytesPerSample);
      return { bytes, bytesPerSample, planar: false, rgbFromCodec: false };
    } catch (e) {
      if (e instanceof CodecFailure) throw new CodecError(file, `RLE: ${e.message}`);
      throw e;
    }
  }
  const entry = CODECS.get(transferSyntax);
  if (!entry)
    throw new UnsupportedTransferSyntaxError(file, `transfer syntax ${transferSyntax} has no codec`);
  const header = readCodestreamHeader(encoded, entry.kind);
  if (header) {
    if (header.width !== p.columns || header.height !== p.rows) {
      throw new CodecError(
        file,
        `${entry.name}: codestream is ${header.width}x${header.height} but the data set says ${p.columns}x${p.rows}`,
      );
    }
    if (entry.kind === 'jpeg' && entry.name.startsWith('libjpeg-turbo') && header.precision > 8) {
      throw new UnsupportedTransferSyntaxError(
        file,
        `${header.precision}-bit JPEG Extended (${transferSyntax}): the installed libjpeg-turbo codec decodes 8-bit JPEG only`,
      );
    }
  }
  const decode = await entry.load();
  let frame: DecodedFrame;
  try {
    frame = await decode(encoded);
  } catch (e) {
    if (e instanceof CodecFailure) throw new CodecError(file, `${entry.name}: ${e.message}`);
    throw e;
  }
  if (frame.width !== p.columns || frame.height !== p.rows) {
    throw new CodecError(
      file,
      `${entry.name} decoded ${frame.width}x${frame.height}, data set says ${p.columns}x${p.rows}`,
    );
  }
  if (frame.components !== p.samplesPerPixel) {
    throw new CodecError(
      file,
      `${entry.name} decoded ${frame.components} components, SamplesPerPixel is ${p.samplesPerPixel}`,
    );
  }
  const bytesPerSample = frame.bitsPerSample > 8 ? 2 : 1;
  if (frame.data.length < p.rows * p.columns * frame.components * bytesPerSample) {
    throw new CodecError(file, `${entry.name} returned ${frame.data.length} bytes, too few for the frame`);
  }
  return { bytes: frame.data, bytesPerSample, planar: false, rgbFromCodec: frame.components === 3 };
}

/** Stored values of a monochrome frame with bits-stored masking and two's-complement sign (PS3.5 8.1.1). */
function monochromeValues(s: FrameSamples, p: PixelModule, n: number): Float32Array {
  const out = new Float32Array(n);
  // Codecs return right-aligned samples; native data carry the HighBit position.
  const shift = s.bytesPerSample * 8 === p.bitsAllocated ? p.highBit + 1 - p.bitsStored : 0;
  const bits = p.bitsStored;
  const signed = p.pixelRepresentation === 1;
  if (s.bytesPerSample <= 2 && bits <= 16) {
    // Up to 16-bit samples: 32-bit integer ops are exact; sign-extend by shifting the sign bit to bit 31 and back.
    const mask = (1 << bits) - 1;
    const up = 32 - bits;
    const b = s.bytes;
    if (s.bytesPerSample === 1) {
      for (let i = 0; i < n; i++) {
        const v = (b[i]! >> shift) & mask;
        out[i] = signed ? (v << up) >> up : v;
      }
    } else {
      for (let i = 0, j = 0; i < n; i++, j += 2) {
        const v = ((b[j]! | (b[j + 1]! << 8)) >> shift) & mask;
        out[i] = signed ? (v << up) >> up : v;
      }
    }
    return out;
  }
  const view = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
  const modulus = 2 ** bits;
  for (let i = 0; i < n; i++) {
    const raw = s.bytesPerSample === 2 ? view.getUint16(2 * i, true) : view.getUint32(4 * i, true);
    let v = Math.floor(raw / 2 ** shift) % modulus;
    if (signed && v >= modulus / 2) v -= modulus;
    out[i] = v;
  }
  return out;
}

/**
 * PALETTE COLOR (PS3.3 C.7.6.3.1.5-6): look up each index in the red/green/blue palette tables and take the
 * BT.601 luminance on a 0..255 scale. Segmented palettes (C.7.9) are refused.
 */
function paletteToGray(indices: Float32Array, ds: DataSet, file: string, warnings: string[]): Float32Array {
  if (ds.elements['x00281221'])
    throw new UnsupportedPhotometricError(file, 'segmented palette colour LUTs are not supported');
  const tables = (['1', '2', '3'] as const).map((c) => {
    const tag = { '1': 'x00281101', '2': 'x00281102', '3': 'x00281103' }[c];
    const dataTag = { '1': 'x00281201', '2': 'x00281202', '3': 'x00281203' }[c];
    const entries = ds.uint16(tag, 0);
    const data = ds.elements[dataTag];
    if (entries === undefined || !data)
      throw new UnsupportedPhotometricError(file, 'PALETTE COLOR without its palette tables');
    if (data.dataOffset + data.length > ds.byteArray.length)
      throw new MalformedDicomError(file, 'palette LUT data runs past the end of the file');
    const count = Math.min(entries === 0 ? 65536 : entries, Math.floor(data.length / 2));
    const bits = ds.uint16(tag, 2) ?? 16;
    const first = ds.uint16(tag, 1) ?? 0;
    const values = new Float32Array(Math.max(1, count));
    for (let i = 0; i < count; i++)
      values[i] = ((ds.uint16(dataTag, i) ?? 0) * 255) / (bits === 8 ? 255 : 65535);
    return { values, first };
  });
  const [r, g, b] = tables as [(typeof tables)[0], (typeof tables)[0], (typeof tables)[0]];
  const lookup = (t: { values: Float32Array; first: number }, v: number): number => {
    const k = v - t.first;
    return t.values[k < 0 ? 0 : k >= t.values.length ? t.values.length - 1 : k]!;
  };
  const out = new Float32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]!;
    out[i] = 0.299 * lookup(r, v) + 0.587 * lookup(g, v) + 0.114 * lookup(b, v);
  }
  warnings.push('PALETTE COLOR image reduced to luminance; radiograph models expect grayscale');
  return out;
}

/** Luminance of a colour frame (ITU-R BT.601 weights; for YBR_FULL the Y plane is already luminance). */
function colourToGray(
  s: FrameSamples,
  p: PixelModule,
  n: number,
  file: string,
  warnings: string[],
): Float32Array {
  const photometric = s.rgbFromCodec ? 'RGB' : p.photometric;
  if (s.bytesPerSample !== 1) {
    throw new UnsupportedPhotometricError(file, `${p.photometric} with ${p.bitsAllocated}-bit samples`);
  }
  const out = new Float32Array(n);
  const b = s.bytes;
  // Sample c of pixel i sits at c*n + i (planar, PlanarConfiguration 1) or 3i + c (interleaved).
  const step = s.planar ? 1 : 3;
  const plane = s.planar ? n : 1;
  if (photometric === 'RGB') {
    for (let i = 0, j = 0; i < n; i++, j += step)
      out[i] = 0.299 * b[j]! + 0.587 * b[j + plane]! + 0.114 * b[j + 2 * plane]!;
  } else if (photometric === 'YBR_FULL') {
    for (let i = 0, j = 0; i < n; i++, j += step) out[i] = b[j]!;
  } else {
    throw new UnsupportedPhotometricError(
      file,
      `photometric interpretation ${p.photometric} with 3 samples is not supported`,
    );
  }
  warnings.push(`colour image (${p.photometric}) reduced to luminance; radiograph models expect grayscale`);
  return out;
}

function readLut(item: DataSet, strings: DicomStrings, signedFirst: boolean, file: string): LookupTable {
  const descriptor = item.elements['x00283002'];
  const dataEl = item.elements['x00283006'];
  if (!descriptor || !dataEl) throw new InvalidImageError(file, 'LUT item lacks LUT Descriptor or LUT Data');
  const entries = item.uint16('x00283002', 0) ?? 0;
  const n = entries === 0 ? 65536 : entries;
  // The first mapped value is US or SS (C.11.1.1.1, C.11.2.1.1): signed for a Modality LUT of signed pixels; for a
  // VOI LUT, whose input may be negative after rescale, a value >= 32768 is taken as negative.
  const firstRaw = item.uint16('x00283002', 1) ?? 0;
  const firstMapped = firstRaw >= 32768 && signedFirst ? firstRaw - 65536 : firstRaw;
  const bits = item.uint16('x00283002', 2) ?? 16;
  if (dataEl.dataOffset + dataEl.length > item.byteArray.length)
    throw new MalformedDicomError(file, 'LUT Data runs past the end of the file');
  const eightBitPacked = bits === 8 && dataEl.length === n;
  const count = Math.min(n, eightBitPacked ? dataEl.length : Math.floor(dataEl.length / 2));
  if (count < 1) throw new InvalidImageError(file, 'LUT Data is empty');
  const data = new Uint16Array(count);
  for (let i = 0; i < count; i++)
    data[i] = eightBitPacked
      ? (item.byteArray[dataEl.dataOffset + i] ?? 0)
      : (item.uint16('x00283006', i) ?? 0);
  return {
    firstMapped,
    bitsPerEntry: bits >= 1 && bits <= 16 ? bits : 16,
    data,
    explanation: strings.get('x00283003'),
  };
}

function applyModality(
  values: Float32Array,
  ds: DataSet,
  strings: DicomStrings,
  file: string,
  warnings: string[],
): void {
  const seq = ds.elements['x00283000']?.items?.[0]?.dataSet;
  if (seq) {
    const lut = readLut(seq, new DicomStrings(seq), ds.uint16('x00280103') === 1, file);
    const last = lut.data.length - 1;
    for (let i = 0; i < values.length; i++) {
      let k = Math.round((values[i] ?? 0) - lut.firstMapped);
      k = k < 0 ? 0 : k > last ? last : k;
      values[i] = lut.data[k] ?? 0;
    }
    return;
  }
  const slope = strings.numbers('x00281053')[0] ?? 1;
  const intercept = strings.numbers('x00281052')[0] ?? 0;
  if (slope === 0) {
    warnings.push('RescaleSlope is 0; ignored');
    return;
  }
  // plain radiographs store slopes near 1 (CT-like modality LUTs stay within 1e-3..1e3); far outside that the header
  // is likely corrupt, and the picture after rescaling is not what the acquisition saw
  if (Math.abs(slope) < 1e-3 || Math.abs(slope) > 1e3) warnings.push(`RescaleSlope ${slope} is implausible for a radiograph; check the header`);
  if (slope !== 1 || intercept !== 0) {
    for (let i = 0; i < values.length; i++) values[i] = (values[i] ?? 0) * slope + intercept;
  }
}

function readVoi(
  ds: DataSet,
  strings: DicomStrings,
  values: Float32Array,
  file: string,
  warnings: string[],
): Voi {
  const centers = strings.numbers('x00281050');
  const widths = strings.numbers('x00281051');
  const fnText = (strings.get('x00281056') ?? 'LINEAR').toUpperCase();
  const fn: VoiLutFunction = fnText === 'SIGMOID' || fnText === 'LINEAR_EXACT' ? fnText : 'LINEAR';
  if (fnText !== fn) warnings.push(`VOILUTFunction ${fnText} unknown; LINEAR used`);
  const windows: VoiWindow[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    const center = centers[i] ?? 0;
    const width = widths[i] ?? 0;
    // PS3.3 C.11.2.1.2: width >= 1 for LINEAR, > 0 otherwise.
    if (fn === 'LINEAR' ? width >= 1 : width > 0)
      windows.push({ center, width, explanation: strings.get('x00281055', i) });
    else warnings.push(`window ${i + 1} has invalid width ${width}; ignored`);
  }
  if (windows.length > 0) return { kind: 'window', windows, function: fn };
  const items = ds.elements['x00283010']?.items ?? [];
  const luts: LookupTable[] = [];
  for (const item of items) {
    if (item.dataSet) luts.push(readLut(item.dataSet, new DicomStrings(item.dataSet), true, file));
  }
  if (luts.length > 0) return { kind: 'lut', luts };
  const [min, max] = minMax(values);
  return { kind: 'range', min, max };
}

/**
 * The typed metadata of a DICOM file without decoding its pixels (e.g. a label such as the age from PatientBirthDate
 * and StudyDate, read for every row of a labels file before training).
 * @param bytes - the whole file
 * @param file - its path or label, used in every error
 * @returns the metadata and any warnings about it (an implausible age, a bad date)
 * @throws NotDicomError and the other typed read errors for a file that is not readable DICOM
 */
export function dicomHeaderMetadata(bytes: Uint8Array, file: string): { metadata: RadiographMetadata; warnings: string[] } {
  const ds = parseDicomDataSet(bytes, file);
  const warnings: string[] = [];
  return { metadata: readDicomMetadata(ds, warnings), warnings };
}

/**
 * Read a DICOM file's first frame into a Radiograph.
 * @param bytes - the whole file
 * @param file - its path or label, used in every error
 * @param limits - bounds on pixels and inflated size
 */
export async function readDicom(
  bytes: Uint8Array,
  file: string,
  limits: DicomLimits = {},
): Promise<Radiograph> {
  const ds = parseDicomDataSet(bytes, file, limits);
  const warnings: string[] = [];
  const strings = new DicomStrings(ds);
  const transferSyntax = (strings.get('x00020010') ?? '1.2.840.10008.1.2').replace(/\0/g, '');
  const metadata = readDicomMetadata(ds, warnings);
  const pd = ds.elements['x7fe00010'];
  if (!pd)
    throw new NoPixelDataError(
      file,
      `no Pixel Data (7FE0,0010)${metadata.modality ? ` in this ${metadata.modality} object` : ''}`,
    );
  const p = readPixelModule(ds, strings, file);
  validatePixelModule(p, file, limits.maxPixels ?? DEFAULT_MAX_PIXELS);
  if (!NATIVE.has(transferSyntax) && transferSyntax !== RLE && !CODECS.has(transferSyntax)) {
    const known = KNOWN_UNSUPPORTED[transferSyntax];
    throw new UnsupportedTransferSyntaxError(
      file,
      known ? `${known} (${transferSyntax}) is not supported` : `unknown transfer syntax '${transferSyntax}'`,
    );
  }
  if (p.numberOfFrames > 1) warnings.push(`${p.numberOfFrames} frames; only frame 1 is decoded`);
  let samples: FrameSamples;
  if (pd.encapsulatedPixelData || !NATIVE.has(transferSyntax)) {
    if (!pd.encapsulatedPixelData)
      throw new MalformedDicomError(file, `transfer syntax ${transferSyntax} needs encapsulated Pixel Data`);
    samples = await codecFrame(encapsulatedFrame(ds, pd, p, file), p, transferSyntax, file);
  } else {
    samples = nativeFrame(ds, pd, p, transferSyntax, file, warnings);
  }
  const n = p.rows * p.columns;
  let pixels: Float32Array;
  let photometric: 'MONOCHROME1' | 'MONOCHROME2' = 'MONOCHROME2';
  let voi: Voi;
  if (p.samplesPerPixel === 1 && p.photometric === 'PALETTE COLOR') {
    pixels = paletteToGray(monochromeValues(samples, p, n), ds, file, warnings);
    voi = { kind: 'range', min: 0, max: 255 };
  } else if (p.samplesPerPixel === 1) {
    if (p.photometric !== 'MONOCHROME1' && p.photometric !== 'MONOCHROME2') {
      throw new UnsupportedPhotometricError(
        file,
        `photometric interpretation ${p.photometric} (only MONOCHROME1/2 and RGB/YBR are decoded)`,
      );
    }
    photometric = p.photometric;
    pixels = monochromeValues(samples, p, n);
    applyModality(pixels, ds, strings, file, warnings);
    voi = readVoi(ds, strings, pixels, file, warnings);
  } else {
    pixels = colourToGray(samples, p, n, file, warnings);
    voi = { kind: 'range', min: 0, max: 255 };
  }
  return {
    source: file,
    format: 'dicom',
    rows: p.rows,
    columns: p.columns,
    pixels,
    photometric,
    storedPhotometric: p.photometric,
    voi,
    metadata,
    transferSyntaxUid: transferSyntax,
    numberOfFrames: p.numberOfFrames,
    warnings,
  };
}
