/**
 * Reference fixtures for the model-zoo tests: generated on first use by test/models/ref/make_fixtures.py with
 * Debian's PyTorch/torchvision into a cache outside git (os.tmpdir()/physis-fixtures/models-<hash of the script>),
 * so no weights live in the repository and a changed script regenerates them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tensor } from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';

/**
 * The Python that carries torch + torchvision: Debian's (the first `python3` on PATH may be a pyenv one without
 * them); PHYSIS_REFERENCE_PYTHON overrides it.
 */
export const REFERENCE_PYTHON = process.env.PHYSIS_REFERENCE_PYTHON ?? '/usr/bin/python3';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'ref', 'make_fixtures.py');

/** One architecture's fixture as listed in the manifest. */
export interface FixtureCase {
  readonly name: string;
  readonly size: number;
  readonly batch: number;
  readonly outputAbsMax: number;
  readonly featuresAbsMax: number;
}

/** The fixture directory and its manifest, or why there is none (the test then skips with that reason). */
export type Fixtures = { dir: string; cases: FixtureCase[]; torchvision: string } | { skip: string };

const cached = new Map<number, Fixtures>();

/**
 * Generates the fixtures once per script version (≈20 s, ≈1 GB) and returns where they are.
 * @param size - run every architecture at size×size instead of the script's reduced defaults (0)
 */
export function modelFixtures(size = 0): Fixtures {
  let f = cached.get(size);
  if (f === undefined) {
    f = generate(size);
    cached.set(size, f);
  }
  return f;
}

function generate(size: number): Fixtures {
  const probe = spawnSync(REFERENCE_PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return {
      skip: `${REFERENCE_PYTHON} has no torch/torchvision (install python3-torchvision): ${probe.error?.message ?? (probe.stderr ?? '').trim().split('\n').pop()}`,
    };
  }
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const root = process.env.PHYSIS_FIXTURES ?? join(tmpdir(), 'physis-fixtures');
  const dir = join(root, size > 0 ? `models-${hash}-${size}px` : `models-${hash}`);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    // Fixtures of earlier script versions are stale (≈1 GB each): remove them before writing new ones.
    if (existsSync(root)) {
      for (const name of readdirSync(root)) {
        if (name.startsWith('models-') && !name.startsWith(`models-${hash}`)) {
          rmSync(join(root, name), { recursive: true, force: true });
        }
      }
    }
    const args = size > 0 ? [SCRIPT, dir, '--size', String(size)] : [SCRIPT, dir];
    const run = spawnSync(REFERENCE_PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (run.status !== 0) throw new Error(`make_fixtures.py failed (exit ${run.status}): ${run.stderr}`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    torchvision: string;
    cases: FixtureCase[];
  };
  return { dir, cases: manifest.cases, torchvision: manifest.torchvision };
}

/**
 * Reads a safetensors file (F32 and I64 only, what the script writes) into engine tensors, in header order.
 * A self-contained reader, so these tests do not depend on the engine's own safetensors loader.
 * @param path - the file
 */
export function readSafetensors(path: string): Map<string, Tensor> {
  const buf = readFileSync(path);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  const out = new Map<string, Tensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [begin, end] = info.data_offsets;
    // Copy into a fresh, aligned buffer: the file buffer's offset need not be a multiple of 8.
    const bytes = new Uint8Array(end - begin);
    bytes.set(buf.subarray(base + begin, base + end));
    if (info.dtype === 'F32') out.set(name, tensor(new Float32Array(bytes.buffer), info.shape));
    else if (info.dtype === 'I64')
      out.set(name, tensor(new BigInt64Array(bytes.buffer), info.shape, { dtype: 'int64' }));
    else throw new Error(`${path}: tensor '${name}' has dtype ${info.dtype}; this reader knows F32 and I64`);
  }
  return out;
}

/** Largest absolute element-wise difference of two tensors of the same shape. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  const x = a.toFloat32Array();
  const y = b.toFloat32Array();
  if (x.length !== y.length) throw new Error(`maxAbsDiff: ${x.length} vs ${y.length} elements`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] ?? 0) - (y[i] ?? 0)));
  return m;
}

/** Disposes every tensor of a map. */
export function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}
