/**
 * Model bundles: the directory Physis ships and loads — weights, optional ONNX graph and the model card.
 *
 * Why: a deployed clinical model must be exactly the one that was validated. The card records the sha256 of
 * every file (as a software bill of materials would), loading recomputes them and refuses a bundle whose
 * files differ, are missing, or are not vouched for by the card (IEC 62304 configuration management; the
 * same idea as the hash pinning of Hugging Face model repositories).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleIncompleteError, BundleIntegrityError, ModelCardError } from './errors.js';
import { MODEL_CARD_SCHEMA_VERSION, validateModelCard, type ModelCard } from './model-card.js';

/** The fixed file names inside a bundle directory. */
export const BUNDLE_FILES = Object.freeze({
  card: 'card.json',
  weights: 'weights.safetensors',
  onnx: 'model.onnx',
});

/** One verified artifact: its card entry and the bytes that were hashed. */
export interface BundleArtifact {
  readonly role: string;
  readonly path: string;
  readonly sha256: string;
  readonly bytes: Uint8Array;
}

/**
 * A verified bundle: its card, the absolute paths of its files, and the very bytes of the weights and artifacts
 * whose sha256 were checked (so nothing is read again between the check and its use).
 */
export interface ModelBundle {
  readonly dir: string;
  readonly card: ModelCard;
  readonly weightsPath: string;
  /** The weights file's bytes, as hashed. */
  readonly weightsBytes: Uint8Array;
  readonly onnxPath: string | null;
  /** Artifacts by role, as hashed. */
  readonly artifacts: ReadonlyMap<string, BundleArtifact>;
}

/** An artifact to write with a bundle: its file name, role and bytes. */
export interface ArtifactContents {
  readonly path: string;
  readonly role: string;
  readonly bytes: Uint8Array;
}

/** The card fields a caller writes; files, hashes, dates and versions are filled in by `saveBundle`. */
export type ModelCardDraft = Omit<ModelCard, 'schemaVersion' | 'files' | 'createdAt' | 'physisVersion'>;

/** What `saveBundle` writes. */
export interface BundleContents {
  readonly card: ModelCardDraft;
  /** A complete safetensors file (e.g. from `serializeSafetensors`), fp32 or fp16 as `weightsDType` says. */
  readonly weights: Uint8Array;
  readonly weightsDType: 'float32' | 'float16';
  /** An ONNX model (e.g. from `exportOnnx`) and its opset; omit for a libtorch-only bundle. */
  readonly onnx?: { readonly bytes: Uint8Array; readonly opset: number };
  /** Files that change an answer besides the weights (OOD statistics, calibration, training rows). */
  readonly artifacts?: readonly ArtifactContents[];
  /** Creation time; defaults to now. */
  readonly createdAt?: Date;
}

/** Hex sha256 of a byte buffer. @param bytes - the file contents */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The Physis package version, recorded in every card so a bundle says which code made it. */
export function physisVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function writeAtomic(path: string, bytes: Uint8Array | string): void {
  // Write-then-rename so a crash never leaves a half-written file that a later load would report as tampered.
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/**
 * Write a bundle directory: weights, the ONNX graph if given, and card.json with their sha256 hashes.
 * Returns the bundle as `loadBundle` would (after re-verifying what was written).
 * @param dir - target directory (created if needed; existing bundle files are replaced)
 * @param contents - card draft, weights and optional ONNX graph
 */
export function saveBundle(dir: string, contents: BundleContents): ModelBundle {
  mkdirSync(dir, { recursive: true });
  // files the folder's previous card vouched for (graph, artifacts) that this bundle does not ship would be refused as
  // unlisted on load; they belonged to the bundle being replaced, so they go with it (nothing else is touched)
  const keep = new Set([...(contents.artifacts ?? []).map((a) => a.path), ...(contents.onnx ? [BUNDLE_FILES.onnx] : [])]);
  for (const old of previousFiles(dir)) if (!keep.has(old)) rmSync(join(dir, old), { force: true });
  writeAtomic(join(dir, BUNDLE_FILES.weights), contents.weights);
  const files: ModelCard['files'] = {
    weights: {
      path: BUNDLE_FILES.weights,
      sha256: sha256Hex(contents.weights),
      dtype: contents.weightsDType,
    },
    ...(contents.onnx
      ? {
          onnx: {
            path: BUNDLE_FILES.onnx,
            sha256: sha256Hex(contents.onnx.bytes),
            opset: contents.onnx.opset,
          },
        }
      : {}),
  };
  if (contents.onnx) writeAtomic(join(dir, BUNDLE_FILES.onnx), contents.onnx.bytes);
  const artifacts = contents.artifacts ?? [];
  for (const a of artifacts) writeAtomic(join(dir, a.path), a.bytes);
  const listedArtifacts = artifacts.map((a) => ({ path: a.path, role: a.role, sha256: sha256Hex(a.bytes) }));
  const card: ModelCard = {
    schemaVersion: MODEL_CARD_SCHEMA_VERSION,
    ...contents.card,
    files: listedArtifacts.length > 0 ? { ...files, artifacts: listedArtifacts } : files,
    createdAt: (contents.createdAt ?? new Date()).toISOString(),
    physisVersion: physisVersion(),
  };
  validateModelCard(card, join(dir, BUNDLE_FILES.card));
  writeAtomic(join(dir, BUNDLE_FILES.card), `${JSON.stringify(card, null, 2)}\n`);
  return loadBundle(dir);
}

/** The graph and artifact files listed by the card already in a folder, if it has a readable one. */
function previousFiles(dir: string): string[] {
  try {
    const card = JSON.parse(readFileSync(join(dir, BUNDLE_FILES.card), 'utf8')) as {
      files?: { onnx?: { path?: unknown }; artifacts?: { path?: unknown }[] };
    };
    return [card.files?.onnx?.path, ...(card.files?.artifacts ?? []).map((a) => a.path)].filter(
      (p): p is string => typeof p === 'string' && !p.includes('/') && !p.includes('\\') && !p.startsWith('.'),
    );
  } catch {
    return [];
  }
}

function verifyFile(dir: string, path: string, expected: string, role: string): { full: string; bytes: Uint8Array } {
  const full = join(dir, path);
  if (!existsSync(full)) {
    throw new BundleIncompleteError(`${dir}: ${role} file '${path}' named in card.json is missing`);
  }
  const bytes = readFileSync(full);
  const actual = sha256Hex(bytes);
  if (actual !== expected) {
    throw new BundleIntegrityError(
      `${full}: sha256 ${actual} does not match ${expected} recorded in card.json (file changed after the bundle was made)`,
    );
  }
  return { full, bytes };
}

/**
 * File names that hold answer-changing data in bundles Physis writes; one present but not listed in the card is
 * refused (a bundle mixed from two runs, or a file dropped in manually).
 */
export const ARTIFACT_FILE_PATTERN = /\.(onnx|safetensors|json)$/;

/**
 * Open a bundle directory: parse and validate card.json, check every file it names exists and matches its
 * sha256, and refuse files the card does not vouch for (a model.onnx without a recorded hash).
 * @param dir - the bundle directory
 * @throws BundleIncompleteError when card.json or a file it names is missing
 * @throws BundleIntegrityError when a hash differs or an unlisted model file is present
 * @throws ModelCardError when card.json is malformed
 */
export function loadBundle(dir: string): ModelBundle {
  if (!existsSync(dir)) throw new BundleIncompleteError(`${dir}: bundle directory does not exist`);
  const cardPath = join(dir, BUNDLE_FILES.card);
  if (!existsSync(cardPath)) throw new BundleIncompleteError(`${dir}: '${BUNDLE_FILES.card}' is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(cardPath, 'utf8'));
  } catch (e) {
    throw new ModelCardError(`${cardPath}: not valid JSON (${(e as Error).message})`);
  }
  const card = validateModelCard(parsed, cardPath);
  const weights = verifyFile(dir, card.files.weights.path, card.files.weights.sha256, 'weights');
  const onnxPath = card.files.onnx
    ? verifyFile(dir, card.files.onnx.path, card.files.onnx.sha256, 'ONNX').full
    : null;
  const artifacts = new Map<string, BundleArtifact>();
  for (const a of card.files.artifacts ?? []) {
    if (artifacts.has(a.role)) throw new ModelCardError(`${cardPath}: two artifacts have the role '${a.role}'`);
    artifacts.set(a.role, { role: a.role, path: a.path, sha256: a.sha256, bytes: verifyFile(dir, a.path, a.sha256, a.role).bytes });
  }
  const listed = new Set([BUNDLE_FILES.card, card.files.weights.path, card.files.onnx?.path, ...[...artifacts.values()].map((a) => a.path)]);
  for (const name of readdirSync(dir)) {
    if (listed.has(name) || name.startsWith('.')) continue;
    if (ARTIFACT_FILE_PATTERN.test(name)) {
      throw new BundleIntegrityError(
        `${join(dir, name)}: file present but card.json records no sha256 for it (bundle mixed or partial)`,
      );
    }
  }
  return { dir, card, weightsPath: weights.full, weightsBytes: weights.bytes, onnxPath, artifacts };
}
