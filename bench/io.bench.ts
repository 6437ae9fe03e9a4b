/**
 * io benchmark: decode + preprocess throughput (one core) on the RSNA hand PNGs and the DICOM corpus in
 * ../shared/data, next to the same work done by Debian's pydicom + numpy + Pillow (bench/ref/io_ref.py) in the
 * same run. Files are interleaved one by one between the two sides so machine load affects both alike; each side
 * times only its own read + decode + preprocess. Ratio = Physis time per image / reference time per image over
 * the files both sides decode; target 1.0 (at least as fast).
 *
 * usage: npm run bench -- io [--png N] [--verbose]   (N RSNA PNGs, default 300; 0 for all; per-DICOM times)
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readRadiograph } from '../src/radiograph/index.js';
import { preprocess } from '../src/preprocess/index.js';

const SHARED = fileURLToPath(new URL('../../shared/data', import.meta.url));
const PYTHON = '/usr/bin/python3';
const REF = fileURLToPath(new URL('./ref/io_ref.py', import.meta.url));
const argIndex = process.argv.indexOf('--png');
const PNG_COUNT = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 300;
const VERBOSE = process.argv.includes('--verbose');

if (!existsSync(SHARED)) {
  console.log(`io bench: ${SHARED} not found; nothing to measure`);
  console.log('BENCH io ratio=NaN target=1.0');
  process.exit(0);
}

const pngDir = join(SHARED, 'rsna-hand', 'images');
const pngs = readdirSync(pngDir)
  .filter((f) => f.endsWith('.png'))
  .sort()
  .map((f) => join(pngDir, f));
const dicomDir = join(SHARED, 'dicom');
const dicoms = readdirSync(dicomDir)
  .filter((f) => f.endsWith('.dcm'))
  .sort()
  .map((f) => join(dicomDir, f));
const files = [...(PNG_COUNT > 0 ? pngs.slice(0, PNG_COUNT) : pngs), ...dicoms];

const py = spawn(PYTHON, [REF], { stdio: ['pipe', 'pipe', 'inherit'] });
const replies = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
async function reference(path: string): Promise<{ ok: boolean; ms?: number; error?: string }> {
  py.stdin.write(`${path}\n`);
  const next = await replies.next();
  if (next.done) throw new Error('reference process ended early');
  return JSON.parse(next.value) as { ok: boolean; ms?: number; error?: string };
}

async function physis(path: string): Promise<number | null> {
  const t0 = performance.now();
  try {
    const r = await readRadiograph(path);
    preprocess(r, { size: 512, crop: false, lateralityTarget: null });
    return performance.now() - t0;
  } catch {
    return null;
  }
}

// Warm-up on both sides (JIT, lazily loaded codecs, Python imports and caches): one untimed pass over a sample.
for (const f of [...pngs.slice(0, 20), ...dicoms]) {
  await physis(f);
  await reference(f);
}

type Totals = { n: number; physisMs: number; refMs: number };
const sets: Record<string, Totals> = {
  png: { n: 0, physisMs: 0, refMs: 0 },
  dicom: { n: 0, physisMs: 0, refMs: 0 },
};
let physisOnly = 0;
let refOnly = 0;
for (const f of files) {
  const ours = await physis(f);
  const ref = await reference(f);
  if (VERBOSE && f.endsWith('.dcm')) {
    console.log(
      `${(ours ?? NaN).toFixed(1).padStart(7)} ${(ref.ms ?? NaN).toFixed(1).padStart(7)}  ${f.split('/').pop() ?? f}`,
    );
  }
  if (ours !== null && ref.ok && ref.ms !== undefined) {
    const set = f.endsWith('.png') ? sets['png'] : sets['dicom'];
    if (set) {
      set.n++;
      set.physisMs += ours;
      set.refMs += ref.ms;
    }
  } else if (ours !== null) physisOnly++;
  else if (ref.ok) refOnly++;
}
py.stdin.end();

const all: Totals = { n: 0, physisMs: 0, refMs: 0 };
for (const [name, t] of Object.entries(sets)) {
  all.n += t.n;
  all.physisMs += t.physisMs;
  all.refMs += t.refMs;
  if (t.n > 0) {
    console.log(
      `${name.padEnd(5)} ${String(t.n).padStart(4)} images  physis ${(t.physisMs / t.n).toFixed(2)} ms/img (${((1000 * t.n) / t.physisMs).toFixed(1)} img/s)  ` +
        `pydicom+numpy ${(t.refMs / t.n).toFixed(2)} ms/img (${((1000 * t.n) / t.refMs).toFixed(1)} img/s)  ratio ${(t.physisMs / t.refMs).toFixed(3)}`,
    );
  }
}
console.log(
  `decoded by Physis only: ${physisOnly} (reference lacks the codec); by the reference only: ${refOnly}`,
);
console.log(`BENCH io ratio=${(all.physisMs / all.refMs).toFixed(3)} target=1.0`);
