/**
 * Training checkpoints: a small JSON state (epoch, step, best metric, RNG and early-stopping state)
 * next to the weight and optimizer files it names, written atomically, and read back for `--resume`.
 *
 * Why: a two-hour CPU training must survive an interrupted session; resuming needs the exact RNG and
 * optimizer state, or the resumed run diverges from an uninterrupted one. The JSON is written to a
 * temporary file and renamed, so a crash never leaves a half-written checkpoint.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { EarlyStoppingState } from './early-stopping.js';
import { CheckpointError } from './errors.js';
import type { RngState } from './rng.js';

/** Checkpoint format version; bump when fields change meaning. */
export const CHECKPOINT_VERSION = 1;

/** Everything needed to continue a run, apart from the tensors themselves. */
export interface TrainState {
  readonly version: number;
  /** Epochs completed (the next epoch to run, 0-based). */
  readonly epoch: number;
  /** Optimizer steps taken so far (drives the learning-rate schedule). */
  readonly step: number;
  /** Best dev metric so far (null before the first evaluation) and its epoch. */
  readonly bestMetric: number | null;
  readonly bestEpoch: number;
  readonly earlyStopping: EarlyStoppingState;
  readonly rngState: RngState;
  /** File names relative to the checkpoint folder. */
  readonly weightsFile: string;
  readonly optimizerStateFile: string;
  /** Weights of the best epoch so far, relative to the checkpoint folder. */
  readonly bestWeightsFile?: string;
  /** Snapshots held by the running mean of the weights (`average.safetensors`), when the recipe averages. */
  readonly averagedSnapshots?: number;
  /** A fingerprint of the configuration; resuming with a different one is refused. */
  readonly configFingerprint: string;
  readonly savedAt: string;
}

/** The state file's name inside a checkpoint folder. */
export const CHECKPOINT_FILE = 'checkpoint.json';

/**
 * A stable fingerprint of a JSON-able configuration (keys sorted), to detect a resume with other settings.
 * @param config - the run configuration
 */
export function configFingerprint(config: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  // FNV-1a 32 over the canonical JSON: short, stable, enough to catch a changed option
  const text = JSON.stringify(canon(config));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * Write the state atomically into `dir/checkpoint.json` (the weight files are written by the caller first).
 * @param dir - checkpoint folder, created if missing
 * @param state - the state
 */
export function saveCheckpoint(dir: string, state: TrainState): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, CHECKPOINT_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Read and validate a checkpoint; the files it names must exist.
 * @param dir - checkpoint folder
 * @param expectedFingerprint - when given, the configuration fingerprint must match
 */
export function loadCheckpoint(dir: string, expectedFingerprint?: string): TrainState {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) throw new CheckpointError(`${path}: no checkpoint to resume from`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CheckpointError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(raw)) throw new CheckpointError(`${path}: expected a JSON object`);
  if (raw['version'] !== CHECKPOINT_VERSION) {
    throw new CheckpointError(`${path}: version ${String(raw['version'])}, this Physis reads version ${CHECKPOINT_VERSION}`);
  }
  for (const key of ['epoch', 'step', 'bestEpoch'] as const) {
    if (!Number.isInteger(raw[key])) throw new CheckpointError(`${path}: '${key}' must be an integer`);
  }
  for (const key of ['weightsFile', 'optimizerStateFile', 'configFingerprint', 'savedAt'] as const) {
    if (typeof raw[key] !== 'string') throw new CheckpointError(`${path}: '${key}' must be a string`);
  }
  const rng = raw['rngState'];
  if (!Array.isArray(rng) || rng.length !== 4 || !rng.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
    throw new CheckpointError(`${path}: 'rngState' must be four unsigned 32-bit integers`);
  }
  if (!isRecord(raw['earlyStopping'])) throw new CheckpointError(`${path}: 'earlyStopping' missing`);
  const state = raw as unknown as TrainState;
  for (const file of [state.weightsFile, state.optimizerStateFile, state.bestWeightsFile]) {
    if (file === undefined) continue;
    if (isAbsolute(file) || file.includes('..')) throw new CheckpointError(`${path}: file '${file}' must stay inside the checkpoint folder`);
    if (!existsSync(join(dir, file))) throw new CheckpointError(`${path}: names '${file}', which is missing`);
  }
  if (expectedFingerprint !== undefined && state.configFingerprint !== expectedFingerprint) {
    throw new CheckpointError(
      `${path}: was made with configuration ${state.configFingerprint}, this run has ${expectedFingerprint}; resume with the same options`,
    );
  }
  return state;
}
