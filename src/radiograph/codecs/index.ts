/**
 * Codec registry: transfer syntax UID -> lazily imported decoder (STYLE.md: heavy/optional dependencies behind
 * one adapter file each, loaded on first use). RLE (PS3.5 Annex G) and deflate are in rle.ts / dicom.ts.
 */
import type { DecodedFrame } from './decoded-frame.js';

export { CodecFailure, type DecodedFrame } from './decoded-frame.js';

/** Which family of JPEG header a codestream carries, to check its dimensions before decoding. */
export type CodestreamKind = 'jpeg' | 'jpeg-ls' | 'j2k';

/** A decoder resolved by transfer syntax UID. */
export interface CodecEntry {
  readonly name: string;
  readonly kind: CodestreamKind;
  load(): Promise<(encoded: Uint8Array) => Promise<DecodedFrame>>;
}

const jpegBaseline: CodecEntry = {
  name: 'libjpeg-turbo (8-bit)',
  kind: 'jpeg',
  load: () => import('./libjpeg-turbo.js').then((m) => m.decodeJpegBaseline),
};
const jpegLossless: CodecEntry = {
  name: 'jpeg-lossless-decoder-js',
  kind: 'jpeg',
  load: () => import('./jpeg-lossless.js').then((m) => m.decodeJpegLossless),
};
const jpegLs: CodecEntry = {
  name: 'CharLS',
  kind: 'jpeg-ls',
  load: () => import('./charls.js').then((m) => m.decodeJpegLs),
};
const j2k: CodecEntry = {
  name: 'OpenJPEG',
  kind: 'j2k',
  load: () => import('./openjpeg.js').then((m) => m.decodeJpeg2000),
};

/** Encapsulated transfer syntaxes Physis decodes, by UID (PS3.5 Section 10 / Annex A.4). */
export const CODECS: ReadonlyMap<string, CodecEntry> = new Map([
  ['1.2.840.10008.1.2.4.50', jpegBaseline],
  ['1.2.840.10008.1.2.4.51', jpegBaseline],
  ['1.2.840.10008.1.2.4.57', jpegLossless],
  ['1.2.840.10008.1.2.4.70', jpegLossless],
  ['1.2.840.10008.1.2.4.80', jpegLs],
  ['1.2.840.10008.1.2.4.81', jpegLs],
  ['1.2.840.10008.1.2.4.90', j2k],
  ['1.2.840.10008.1.2.4.91', j2k],
]);

/** Header facts read from a codestream without decoding it. */
export interface CodestreamHeader {
  readonly width: number;
  readonly height: number;
  readonly precision: number;
  readonly components: number;
}

/**
 * Read width/height/precision from a JPEG SOFn / JPEG-LS SOF55 / J2K SIZ marker, so an absurd header is refused
 * before the codec allocates its output. Returns null when no such marker is found in the first 64 KiB.
 * @param bytes - the compressed frame
 * @param kind - which marker family to look for
 */
export function readCodestreamHeader(bytes: Uint8Array, kind: CodestreamKind): CodestreamHeader | null {
  const limit = Math.min(bytes.length - 1, 65536);
  if (kind === 'j2k') {
    for (let i = 0; i + 41 < bytes.length && i < limit; i++) {
      if (bytes[i] === 0xff && bytes[i + 1] === 0x51) {
        const v = new DataView(bytes.buffer, bytes.byteOffset + i + 2);
        const xsiz = v.getUint32(4);
        const ysiz = v.getUint32(8);
        const xo = v.getUint32(12);
        const yo = v.getUint32(16);
        const comps = v.getUint16(36);
        const ssiz = v.getUint8(38);
        return { width: xsiz - xo, height: ysiz - yo, precision: (ssiz & 0x7f) + 1, components: comps };
      }
    }
    return null;
  }
  // JPEG / JPEG-LS: walk markers from SOI.
  let i = 2;
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  while (i + 9 < bytes.length && i < limit) {
    if (bytes[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = bytes[i + 1] ?? 0;
    if (marker === 0xff || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd8) || marker === 0x01) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    const length = ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0);
    const isSof =
      (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xf7;
    if (isSof) {
      return {
        precision: bytes[i + 4] ?? 0,
        height: ((bytes[i + 5] ?? 0) << 8) | (bytes[i + 6] ?? 0),
        width: ((bytes[i + 7] ?? 0) << 8) | (bytes[i + 8] ?? 0),
        components: bytes[i + 9] ?? 0,
      };
    }
    if (marker === 0xda) return null; // start of scan reached without a frame header
    i += 2 + length;
  }
  return null;
}
