/** Adapter: JPEG baseline / extended 8-bit via @cornerstonejs/codec-libjpeg-turbo-8bit (WebAssembly), loaded lazily. */
import { EmscriptenCodec } from './emscripten.js';
import type { DecodedFrame } from './decoded-frame.js';

const codec = new EmscriptenCodec('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', 'JPEGDecoder');

/** Decode one 8-bit JPEG (ISO 10918-1) frame; YCbCr is returned as RGB. */
export function decodeJpegBaseline(encoded: Uint8Array): Promise<DecodedFrame> {
  return codec.decode(encoded);
}
