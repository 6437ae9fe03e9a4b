/** Adapter: JPEG lossless, process 14 (ISO 10918-1 Annex H) via jpeg-lossless-decoder-js, loaded lazily. */
import { CodecFailure, describeThrown, type DecodedFrame } from './decoded-frame.js';

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number): Uint8Array | Uint16Array;
  xDim: number;
  yDim: number;
  numComp: number;
  precision: number | undefined;
}

let decoderClass: Promise<new () => LosslessDecoder> | null = null;

/** Decode one lossless JPEG frame (selection values 1-7). */
export async function decodeJpegLossless(encoded: Uint8Array): Promise<DecodedFrame> {
  // The package's published types point at a file it does not ship, so import it untyped and describe it here.
  const specifier = 'jpeg-lossless-decoder-js';
  decoderClass ??= (import(specifier) as Promise<{ Decoder: new () => LosslessDecoder }>).then(
    (m) => m.Decoder,
  );
  const Decoder = await decoderClass;
  try {
    const decoder = new Decoder();
    // The decoder reads through a DataView over the buffer, so hand it a buffer that holds only this frame.
    const copy = encoded.slice();
    const out = decoder.decode(copy.buffer, 0, copy.byteLength);
    return {
      width: decoder.xDim,
      height: decoder.yDim,
      components: decoder.numComp,
      bitsPerSample: decoder.precision ?? 8,
      data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
    };
  } catch (thrown) {
    throw new CodecFailure(describeThrown(thrown));
  }
}
