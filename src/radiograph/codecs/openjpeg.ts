/** Adapter: JPEG 2000 (ISO 15444-1) via @cornerstonejs/codec-openjpeg (WebAssembly), loaded lazily. */
import { EmscriptenCodec } from './emscripten.js';
import type { DecodedFrame } from './decoded-frame.js';

const codec = new EmscriptenCodec('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder');

/** Decode one JPEG 2000 codestream; the decoder undoes the ICT/RCT colour transform, so colour comes back RGB. */
export function decodeJpeg2000(encoded: Uint8Array): Promise<DecodedFrame> {
  return codec.decode(encoded);
}
