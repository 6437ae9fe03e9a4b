/**
 * Shared loader for the @cornerstonejs WebAssembly codec packages: each exports an Emscripten factory
 * (`factory(moduleArg) -> Promise<Module>`) whose Module exposes one decoder class with the same methods
 * (getEncodedBuffer, decode, getFrameInfo, getDecodedBuffer, delete). Loaded on first use only.
 */
import { createRequire } from 'node:module';
import { CodecFailure, describeThrown, type DecodedFrame } from './decoded-frame.js';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

type DecoderClass = new () => WasmDecoder;
type Factory = (moduleArg: Record<string, unknown>) => Promise<Record<string, unknown>>;

const require = createRequire(import.meta.url);

/** A lazily instantiated WebAssembly decoder; after a codec exception the instance is dropped and rebuilt. */
export class EmscriptenCodec {
  private instance: Promise<DecoderClass> | null = null;
  constructor(
    private readonly specifier: string,
    private readonly className: string,
  ) {}

  private load(): Promise<DecoderClass> {
    if (!this.instance) {
      const factory = require(this.specifier) as Factory;
      // print/printErr: OpenJPEG logs [INFO] lines on stdout, which would corrupt `--json` output.
      this.instance = factory({ print: () => undefined, printErr: () => undefined }).then((module) => {
        const cls = module[this.className];
        if (typeof cls !== 'function') throw new CodecFailure(`${this.specifier} has no ${this.className}`);
        return cls as DecoderClass;
      });
    }
    return this.instance;
  }

  /** Decode one frame; throws CodecFailure with the codec's reason. */
  async decode(encoded: Uint8Array): Promise<DecodedFrame> {
    const Decoder = await this.load();
    let decoder: WasmDecoder | null = null;
    try {
      decoder = new Decoder();
      decoder.getEncodedBuffer(encoded.length).set(encoded);
      decoder.decode();
      const info = decoder.getFrameInfo();
      const view = decoder.getDecodedBuffer();
      const data = new Uint8Array(view.length);
      data.set(view);
      return {
        width: info.width,
        height: info.height,
        components: info.componentCount,
        bitsPerSample: info.bitsPerSample,
        data,
      };
    } catch (thrown) {
      // An Emscripten abort leaves the module unusable; start afresh next time.
      this.instance = null;
      throw new CodecFailure(describeThrown(thrown));
    } finally {
      try {
        decoder?.delete();
      } catch {
        this.instance = null;
      }
    }
  }
}
