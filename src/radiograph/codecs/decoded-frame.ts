/** What every codec adapter returns for one compressed frame. */
export interface DecodedFrame {
  readonly width: number;
  readonly height: number;
  /** Samples per pixel in `data` (1 or 3), interleaved. */
  readonly components: number;
  readonly bitsPerSample: number;
  /** Little-endian sample bytes: 1 byte per sample up to 8 bits, 2 bytes up to 16. */
  readonly data: Uint8Array;
}

/** A failure inside a codec, before it is tied to a file (dicom.ts wraps it into a CodecError). */
export class CodecFailure extends Error {
  override name = 'CodecFailure';
}

/** Turn whatever a WebAssembly codec threw (a string, a number, an Error) into a short reason. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  if (typeof thrown === 'number') return `codec exception ${thrown}`;
  return String(thrown).slice(0, 200);
}
