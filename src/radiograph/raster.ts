/**
 * PNG (8/16-bit, via pngjs) and JPEG (8-bit, via jpeg-js) research images -> Radiograph. Such files carry no
 * clinical metadata, so none is guessed: it comes from a JSON sidecar or the caller (e.g. a labels CSV).
 */
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { CodecError, ImageTooLargeError, MetadataError } from './errors.js';
import { EMPTY_METADATA, parseDicomDate, ageMonthsBetween } from './metadata.js';
import type { Laterality, PatientSex, Radiograph, RadiographMetadata } from './types.js';

/**
 * Metadata given alongside a PNG/JPEG (sidecar `<file>.json` or caller): the keys Physis understands.
 * Unknown keys are ignored; known keys with wrong types are a MetadataError.
 */
export interface SidecarMetadata {
  readonly modality?: string;
  readonly bodyPartExamined?: string;
  readonly viewPosition?: string;
  readonly laterality?: Laterality;
  readonly patientSex?: PatientSex;
  readonly patientBirthDate?: string;
  readonly studyDate?: string;
  readonly ageMonths?: number;
  /** [row, column] spacing in mm. */
  readonly pixelSpacingMm?: readonly [number, number];
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** pngjs's own scanline unfilter (PNG spec section 9), used directly to skip its RGBA expansion; `bpp` is channels. */
const pngUnfilter = createRequire(import.meta.url)('pngjs/lib/filter-parse-sync.js') as {
  process(
    inflated: Buffer,
    info: { width: number; height: number; interlace: boolean; bpp: number; depth: number },
  ): Buffer;
};

/**
 * Fast path for the common research case, non-interlaced 8/16-bit grayscale: the chunks are walked here,
 * IDAT inflated with zlib (bounded by the expected size) and unfiltered by pngjs, without pngjs's expansion
 * to RGBA (half its time). Returns null for every other PNG, which then goes through `PNG.sync.read`.
 */
function readGrayPngFast(
  bytes: Uint8Array,
  width: number,
  height: number,
): { pixels: Float32Array; maxValue: number } | null {
  const depth = bytes[24];
  if (bytes[25] !== 0 || (depth !== 8 && depth !== 16) || bytes[28] !== 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(
      bytes[offset + 4] ?? 0,
      bytes[offset + 5] ?? 0,
      bytes[offset + 6] ?? 0,
      bytes[offset + 7] ?? 0,
    );
    if (offset + 12 + length > bytes.length) return null; // let pngjs produce its error for a truncated chunk
    if (type === 'IDAT') idat.push(bytes.subarray(offset + 8, offset + 8 + length));
    if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (idat.length === 0) return null;
  const bytesPerSample = depth / 8;
  const expected = height * (1 + width * bytesPerSample);
  const inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  if (inflated.length !== expected) return null;
  const raw = pngUnfilter.process(inflated, { width, height, interlace: false, bpp: 1, depth });
  const n = width * height;
  const pixels = new Float32Array(n);
  if (depth === 8) {
    for (let i = 0; i < n; i++) pixels[i] = raw[i]!;
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 2) pixels[i] = (raw[j]! << 8) | raw[j + 1]!;
  }
  return { pixels, maxValue: depth === 16 ? 65535 : 255 };
}

/** Whether bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return PNG_MAGIC.every((b, i) => bytes[i] === b);
}

/** Whether bytes start with a JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function optionalString(obj: Record<string, unknown>, key: string, file: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw new MetadataError(file, `sidecar key '${key}' must be a string, got ${typeof v}`);
  return v;
}

/**
 * Validate a parsed sidecar object into SidecarMetadata.
 * @param value - parsed JSON
 * @param file - the sidecar's name, for errors
 */
export function parseSidecar(value: unknown, file: string): SidecarMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MetadataError(file, 'sidecar must be a JSON object');
  }
  const obj = value as Record<string, unknown>;
  const laterality = optionalString(obj, 'laterality', file)?.toUpperCase();
  if (laterality !== undefined && !['L', 'R', 'U', 'B'].includes(laterality)) {
    throw new MetadataError(file, `laterality '${laterality}' is not L, R, U or B`);
  }
  const sex = optionalString(obj, 'patientSex', file)?.toUpperCase();
  if (sex !== undefined && !['M', 'F', 'O'].includes(sex))
    throw new MetadataError(file, `patientSex '${sex}' is not M, F or O`);
  const ageMonths = obj['ageMonths'];
  if (ageMonths !== undefined && (typeof ageMonths !== 'number' || !(ageMonths >= 0) || ageMonths > 1800)) {
    throw new MetadataError(file, `ageMonths must be a number of months in [0, 1800]`);
  }
  const spacing = obj['pixelSpacingMm'];
  if (
    spacing !== undefined &&
    !(Array.isArray(spacing) && spacing.length === 2 && spacing.every((x) => typeof x === 'number' && x > 0))
  ) {
    throw new MetadataError(file, 'pixelSpacingMm must be [rowMm, columnMm], both > 0');
  }
  const out: Record<string, unknown> = {};
  for (const key of ['modality', 'bodyPartExamined', 'viewPosition', 'patientBirthDate', 'studyDate']) {
    const v = optionalString(obj, key, file);
    if (v !== undefined) out[key] = v;
  }
  if (laterality !== undefined) out['laterality'] = laterality;
  if (sex !== undefined) out['patientSex'] = sex;
  if (ageMonths !== undefined) out['ageMonths'] = ageMonths;
  if (spacing !== undefined) out['pixelSpacingMm'] = spacing;
  return out as SidecarMetadata;
}

/** Build RadiographMetadata from a sidecar (fields absent there stay null). */
export function metadataFromSidecar(sidecar: SidecarMetadata | null): RadiographMetadata {
  if (!sidecar) return EMPTY_METADATA;
  const birth = parseDicomDate(sidecar.patientBirthDate?.replace(/-/g, ''));
  const study = parseDicomDate(sidecar.studyDate?.replace(/-/g, ''));
  const fromDates = birth && study ? ageMonthsBetween(birth, study) : null;
  const spacing = sidecar.pixelSpacingMm;
  return {
    ...EMPTY_METADATA,
    modality: sidecar.modality ?? null,
    bodyPartExamined: sidecar.bodyPartExamined ?? null,
    viewPosition: sidecar.viewPosition ?? null,
    laterality: sidecar.laterality ?? null,
    lateralitySource: sidecar.laterality ? 'sidecar' : null,
    patientSex: sidecar.patientSex ?? null,
    patientBirthDate: birth,
    studyDate: study,
    age:
      sidecar.ageMonths !== undefined
        ? { ageMonths: sidecar.ageMonths, source: 'sidecar' }
        : fromDates !== null
          ? { ageMonths: fromDates, source: 'dates' }
          : null,
    spacing: spacing ? { rowMm: spacing[0], columnMm: spacing[1], source: 'sidecar' } : null,
  };
}

function rasterRadiograph(
  file: string,
  format: 'png' | 'jpeg',
  width: number,
  height: number,
  pixels: Float32Array,
  maxValue: number,
  sidecar: SidecarMetadata | null,
  warnings: string[],
): Radiograph {
  return {
    source: file,
    format,
    rows: height,
    columns: width,
    pixels,
    photometric: 'MONOCHROME2',
    voi: { kind: 'range', min: 0, max: maxValue },
    metadata: metadataFromSidecar(sidecar),
    transferSyntaxUid: null,
    numberOfFrames: 1,
    warnings,
  };
}

/**
 * Decode a PNG (grayscale or colour, 8 or 16 bits) to a Radiograph; colour is reduced to luminance with a warning.
 * The display range is the bit depth's full range (0..255 or 0..65535), not the image's min/max.
 * @param bytes - the PNG file
 * @param file - its name
 * @param sidecar - metadata given alongside, or null
 * @param maxPixels - refuse larger images before inflating
 */
export function readPng(
  bytes: Uint8Array,
  file: string,
  sidecar: SidecarMetadata | null,
  maxPixels: number,
): Radiograph {
  if (bytes.length < 33)
    throw new CodecError(file, `PNG of ${bytes.length} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width * height > maxPixels)
    throw new ImageTooLargeError(file, `PNG is ${width}x${height}, above the limit of ${maxPixels} pixels`);
  if (width === 0 || height === 0) throw new CodecError(file, `PNG is ${width}x${height}`);
  let fast: { pixels: Float32Array; maxValue: number } | null = null;
  try {
    fast = readGrayPngFast(bytes, width, height);
  } catch (e) {
    throw new CodecError(file, `PNG does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (fast) return rasterRadiograph(file, 'png', width, height, fast.pixels, fast.maxValue, sidecar, []);
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (e) {
    throw new CodecError(file, `PNG does not decode: ${e instanceof Error ? e.message : String(e)}`);
  }
  const depth = bytes[24] ?? 8;
  const colorType = bytes[25] ?? 0;
  const n = png.width * png.height;
  const data = png.data as unknown as Uint8Array | Uint16Array;
  const pixels = new Float32Array(n);
  const warnings: string[] = [];
  const colour = (colorType & 2) !== 0 || colorType === 3;
  if (colour) {
    for (let i = 0; i < n; i++) {
      pixels[i] =
        0.299 * (data[4 * i] ?? 0) + 0.587 * (data[4 * i + 1] ?? 0) + 0.114 * (data[4 * i + 2] ?? 0);
    }
    warnings.push('colour PNG reduced to luminance; radiograph models expect grayscale');
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 4) pixels[i] = data[j]!;
  }
  const maxValue = depth === 16 && data instanceof Uint16Array ? 65535 : 255;
  return rasterRadiograph(file, 'png', png.width, png.height, pixels, maxValue, sidecar, warnings);
}

/**
 * Decode a baseline/progressive 8-bit JPEG to a Radiograph (luminance of colour JPEGs, with a warning).
 * @param bytes - the JPEG file
 * @param file - its name
 * @param sidecar - metadata given alongside, or null
 * @param maxPixels - refuse larger images
 */
export function readJpeg(
  bytes: Uint8Array,
  file: string,
  sidecar: SidecarMetadata | null,
  maxPixels: number,
): Radiograph {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: 2048,
    }) as { width: number; height: number; data: Uint8Array };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/maxResolutionInMP|maxMemoryUsage/.test(message))
      throw new ImageTooLargeError(file, `JPEG: ${message}`);
    throw new CodecError(file, `JPEG does not decode: ${message}`);
  }
  const n = img.width * img.height;
  const pixels = new Float32Array(n);
  let gray = true;
  for (let i = 0; i < n && gray; i += 97)
    gray = img.data[3 * i] === img.data[3 * i + 1] && img.data[3 * i] === img.data[3 * i + 2];
  for (let i = 0; i < n; i++) {
    pixels[i] =
      0.299 * (img.data[3 * i] ?? 0) +
      0.587 * (img.data[3 * i + 1] ?? 0) +
      0.114 * (img.data[3 * i + 2] ?? 0);
  }
  const warnings = gray ? [] : ['colour JPEG reduced to luminance; radiograph models expect grayscale'];
  return rasterRadiograph(file, 'jpeg', img.width, img.height, pixels, 255, sidecar, warnings);
}
