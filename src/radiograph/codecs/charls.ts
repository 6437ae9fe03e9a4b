/** Adapter: JPEG-LS (ISO 14495-1) via @cornerstonejs/codec-charls (WebAssembly), loaded lazily. */
import { EmscriptenCodec } from './emscripten.js';
import type { DecodedFrame } from './decoded-frame.js';

const codec = new EmscriptenCodec('@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder');

/** Decode one JPEG-LS frame (lossless or near-lossless). */
export function decodeJpegLs(encoded: Uint8Array): Promise<DecodedFrame> {
  return codec.decode(encoded);
}
