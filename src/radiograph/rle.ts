/**
 * DICOM RLE Lossless decoding (PS3.5 Annex G): a 64-byte header of segment offsets, then one PackBits
 * segment per byte plane (most significant byte of each sample first). Written here because the standard
 * specifies it completely in two pages; output is bounded by the declared frame size.
 */
import { CodecFailure } from './codecs/index.js';

/**
 * Decode one RLE frame into little-endian, sample-interleaved bytes (the native layout of planar configuration 0).
 * @param frame - the encapsulated frame (header + segments)
 * @param pixels - rows × columns
 * @param samplesPerPixel - 1 or 3
 * @param bytesPerSample - bitsAllocated / 8 (1, 2 or 4)
 */
export function decodeRle(
  frame: Uint8Array,
  pixels: number,
  samplesPerPixel: number,
  bytesPerSample: number,
): Uint8Array {
  if (frame.length < 64)
    throw new CodecFailure(`RLE frame of ${frame.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) {
    throw new CodecFailure(`RLE header declares ${segments} segments, expected ${expected} (G.3.1)`);
  }
  const offsets: number[] = [];
  for (let s = 0; s < segments; s++) offsets.push(view.getUint32(4 + 4 * s, true));
  const stride = samplesPerPixel * bytesPerSample;
  const out = new Uint8Array(pixels * stride);
  const plane = new Uint8Array(pixels);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s] ?? 0;
    const end = s + 1 < segments ? (offsets[s + 1] ?? frame.length) : frame.length;
    if (start < 64 || start > frame.length || end > frame.length || end < start) {
      throw new CodecFailure(
        `RLE segment ${s} has offsets [${start}, ${end}) outside the ${frame.length}-byte frame`,
      );
    }
    const produced = unpackBits(frame, start, end, plane);
    if (produced < pixels) {
      throw new CodecFailure(`RLE segment ${s} decodes to ${produced} bytes, expected ${pixels}`);
    }
    // Segment order: sample 0 MSB..LSB, sample 1 MSB..LSB, …; store little-endian within each sample.
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const base = sample * bytesPerSample + byteInSample;
    for (let p = 0; p < pixels; p++) out[p * stride + base] = plane[p] ?? 0;
  }
  return out;
}

/** PackBits (G.3.1): returns how many bytes were written into `out` (never more than out.length). */
function unpackBits(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let i = start;
  let o = 0;
  const n = out.length;
  while (i < end && o < n) {
    const header = src[i++] ?? 0;
    if (header < 128) {
      const count = Math.min(header + 1, end - i, n - o);
      out.set(src.subarray(i, i + count), o);
      i += header + 1;
      o += count;
    } else if (header > 128) {
      const count = Math.min(257 - header, n - o);
      const value = src[i++] ?? 0;
      out.fill(value, o, o + count);
      o += count;
    }
    // header === 128 (-128): no operation
  }
  return o;
}
