/**
 * The messages between the server and its analysis workers (worker threads that hold the models, so that a film's
 * analysis never blocks the event loop that answers other requests).
 */
import type { IngestFilmOutcome } from '../tasks/index.js';

/** What a worker opens once. */
export interface AnalysisWorkerInit {
  readonly registryUrl: string;
  readonly dataDir: string;
  readonly gateDir: string;
  readonly tasks: readonly { readonly name: string; readonly dir: string }[];
  readonly key: string;
  /** libtorch intra-op threads of this worker. */
  readonly threads: number;
  readonly backend: 'auto' | 'onnx' | 'torch';
  /** Most pixels of an uploaded film (rows × columns). */
  readonly maxPixels: number;
  /** The viewer's film preview: longest side in pixels. */
  readonly previewMaxSide: number;
}

/** One film to analyse. */
export interface AnalysisJob {
  readonly id: number;
  readonly bytes: Uint8Array;
  /** Only these tasks (each answering only if the gate passes the film for it); null: every served task. */
  readonly tasks: readonly string[] | null;
  /** Task inputs already parsed by the input's own parser, by input name. */
  readonly given: Readonly<Record<string, string | null>>;
}

/** A worker's answer. */
export type AnalysisReply =
  | { readonly id: number; readonly ok: true; readonly sha256: string; readonly outcome: IngestFilmOutcome }
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

/** The models a worker opened: what every answer will name. */
export interface ServedModels {
  readonly tasks: readonly { readonly name: string; readonly model: { readonly id: string; readonly weightsSha256: string } }[];
  readonly gate: { readonly id: string; readonly weightsSha256: string };
}

/** What a worker says once its models are open (or why they could not be). */
export type AnalysisWorkerStatus =
  | { readonly ready: true; readonly models: ServedModels }
  | { readonly ready: false; readonly error: { readonly name: string; readonly message: string } };
