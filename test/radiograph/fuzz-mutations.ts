/**
 * The fuzz corpus and mutations (test helper), shared by the decoder's fuzz test (test/radiograph/fuzz.test.ts) and
 * the server's (test/server/fuzz-http.test.ts): a seeded PRNG, so that a failing case is reproducible from its
 * index; real corpus files (synthetic DICOMs in every transfer syntax written in code, the DICOM corpus of
 * ../shared/data when present, the sample hand PNG); and bit flips, truncations and corrupted DICOM length fields.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { TS, writeImage } from './dicom-writer.js';

export const SHARED_DICOM = fileURLToPath(new URL('../../../shared/data/dicom', import.meta.url));
const SAMPLE_PNG = fileURLToPath(new URL('../../samples/hand-0.png', import.meta.url));

/** mulberry32: a small seeded PRNG, so a failing case is reproducible from its index. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The files to mutate: 8×8 12-bit synthetic DICOMs in every transfer syntax, the DICOM corpus of ../shared/data (files
 * up to `maxSharedBytes`; every transfer syntax is represented among those up to 600 kB), and the sample hand PNG.
 */
export function corpus(maxSharedBytes = 600_000): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const [name, ts] of Object.entries(TS)) {
    const values = Array.from({ length: 64 }, (_, i) => (i * 977) % 4096);
    out.push({
      name: `synthetic_u12_8x8_${name}.dcm`,
      bytes: writeImage({
        rows: 8,
        columns: 8,
        bitsStored: 12,
        values,
        transferSyntax: ts,
        windows: [{ center: 2048, width: 4096 }],
      }),
    });
  }
  if (existsSync(SHARED_DICOM)) {
    for (const name of readdirSync(SHARED_DICOM).sort()) {
      const p = join(SHARED_DICOM, name);
      if (name.endsWith('.dcm') && statSync(p).size <= maxSharedBytes)
        out.push({ name, bytes: new Uint8Array(readFileSync(p)) });
    }
  }
  if (existsSync(SAMPLE_PNG))
    out.push({ name: 'hand-0.png', bytes: new Uint8Array(readFileSync(SAMPLE_PNG)) });
  return out;
}

const LENGTH_VALUES = [0, 1, 0xffff, 0xfffe, 0x7fffffff, 0xffffffff, 0xfffffff0];

/**
 * One mutation of a file: 1–8 bit flips (40%), a truncation (20%), or a DICOM element's length field set to an
 * extreme value (40%; at an explicit-VR header when there is one, else anywhere).
 * @param source - the file (not changed)
 * @param rand - the seeded PRNG
 */
export function mutate(source: Uint8Array, rand: () => number): { bytes: Uint8Array; how: string } {
  const bytes = source.slice();
  const pick = rand();
  if (pick < 0.4) {
    const flips = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(rand() * bytes.length);
      bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
    }
    return { bytes, how: `${flips} bit flips` };
  }
  if (pick < 0.6) {
    const len = Math.floor(rand() * bytes.length);
    return { bytes: bytes.subarray(0, len), how: `truncated to ${len}` };
  }
  // Length fields: find element headers with an explicit VR (two capitals after the tag) and corrupt the length.
  const headers: number[] = [];
  for (let i = 0; i + 12 < bytes.length && headers.length < 4096; i += 2) {
    const a = bytes[i + 4] ?? 0;
    const b = bytes[i + 5] ?? 0;
    if (a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a) headers.push(i);
  }
  const at =
    headers.length > 0
      ? (headers[Math.floor(rand() * headers.length)] ?? 0)
      : Math.floor(rand() * Math.max(1, bytes.length - 12));
  const value = LENGTH_VALUES[Math.floor(rand() * LENGTH_VALUES.length)] ?? 0xffffffff;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (rand() < 0.5)
    dv.setUint16(at + 6, value & 0xffff, true); // short-form length
  else if (at + 12 <= bytes.length) dv.setUint32(at + 8, value >>> 0, true); // long-form length (OB, OW, SQ, UN, …)
  return { bytes, how: `length field at ${at} set to 0x${value.toString(16)}` };
}
