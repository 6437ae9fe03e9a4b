/**
 * One entry point for every supported file: sniff the bytes (DICOM, PNG, JPEG), decode, attach metadata.
 * File size is checked before reading so a folder of unknown files stays bounded in memory.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDicom, looksLikeDicom, type DicomLimits } from './dicom.js';
import { ImageTooLargeError, MetadataError, NotDicomError, RadiographError } from './errors.js';
import { isJpeg, isPng, parseSidecar, readJpeg, readPng, type SidecarMetadata } from './raster.js';
import type { Radiograph } from './types.js';

/** Options for reading one radiograph. */
export interface ReadOptions extends DicomLimits {
  /** Metadata for a PNG/JPEG; when absent, `<file>.json` is read if it exists. Ignored for DICOM. */
  readonly sidecar?: SidecarMetadata | null;
  /** Largest file read, bytes (default 2 GiB − 1, Node's Buffer limit on 64-bit). */
  readonly maxFileBytes?: number;
}

const DEFAULT_MAX_PIXELS = 2 ** 26;

/**
 * Decode a radiograph from bytes already in memory.
 * @param bytes - file contents
 * @param name - file name or label for messages
 * @param options - sidecar metadata and limits
 */
export async function readRadiographBytes(
  bytes: Uint8Array,
  name: string,
  options: ReadOptions = {},
): Promise<Radiograph> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (isPng(bytes)) return readPng(bytes, name, options.sidecar ?? null, maxPixels);
  if (isJpeg(bytes)) return readJpeg(bytes, name, options.sidecar ?? null, maxPixels);
  if (!looksLikeDicom(bytes)) {
    throw new NotDicomError(
      name,
      `not a DICOM, PNG or JPEG file (${bytes.length} bytes, starts ${hexPrefix(bytes)})`,
    );
  }
  return readDicom(bytes, name, options);
}

function hexPrefix(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

/**
 * Read a sidecar `<file>.json` if present.
 * @param path - the image path
 */
export function readSidecarFor(path: string): SidecarMetadata | null {
  const sidecarPath = `${path}.json`;
  if (!existsSync(sidecarPath)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(sidecarPath, 'utf8'));
  } catch (e) {
    throw new MetadataError(sidecarPath, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseSidecar(parsed, sidecarPath);
}

/**
 * Read and decode a radiograph file (DICOM Part 10 or bare data set, PNG, JPEG).
 * Throws a RadiographError subclass naming the file and the reason on any failure.
 * @param path - the file
 * @param options - sidecar metadata and limits
 *
 * @example
 * const image = await readRadiograph('samples/hand-0.png');
 * // image.rows === 910, image.columns === 592, image.format === 'png'
 */
export async function readRadiograph(path: string, options: ReadOptions = {}): Promise<Radiograph> {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new NotDicomError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof RadiographError) throw e;
    throw new NotDicomError(path, `cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  const maxBytes = options.maxFileBytes ?? 2 ** 31 - 1;
  if (size > maxBytes)
    throw new ImageTooLargeError(path, `file is ${size} bytes, above the limit of ${maxBytes}`);
  const bytes = readFileSync(path);
  const sidecar =
    options.sidecar !== undefined
      ? options.sidecar
      : isPng(bytes) || isJpeg(bytes)
        ? readSidecarFor(path)
        : null;
  return readRadiographBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, {
    ...options,
    sidecar,
  });
}

/**
 * Every file under a path (itself if a file), sorted, skipping hidden entries and `.json` sidecars of images.
 * Symlinked directories are not entered (no loops); symlinked files are listed.
 * @param path - file or directory
 */
export function listFiles(path: string): string[] {
  const st = statSync(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 32) return;
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      // lstat first: a symlinked directory is not entered (a link to an ancestor would loop); a symlinked file is read.
      const link = lstatSync(p, { throwIfNoEntry: false });
      if (!link) continue;
      const s = link.isSymbolicLink() ? statSync(p, { throwIfNoEntry: false }) : link;
      if (!s) continue;
      if (s.isDirectory()) {
        if (!link.isSymbolicLink()) walk(p, depth + 1);
        continue;
      } else if (s.isFile() && !(name.endsWith('.json') && existsSync(p.slice(0, -5)))) out.push(p);
    }
  };
  walk(path, 0);
  return out;
}
