/**
 * The suitability gate's cost beside a full prediction: milliseconds for the gate's judgement of one hand film
 * (its verdict on the film, the header checks and, when it corrects, a second look) against a full `predict` of the
 * same film with the shipped hand model (test-time augmentation, interval and Grad-CAM heat map, the gate skipped),
 * both on the same decoded film, in the same process, one after the other. Also the gate's weights size on disk.
 *
 * Ratio = gate ms ÷ predict ms (median of 7 runs each after 2 warm-up runs). Target: ≤ 0.15, and weights ≤ 10 MB.
 * The machine should be otherwise idle.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRadiograph } from '../src/radiograph/index.js';
import { analyseFilm, closeTaskModels, getTask, openTaskModels, suitability, type Acceptance } from '../src/tasks/index.js';

const FILM = 'samples/hand-0.png';
const RUNS = 7;
const WARMUP = 2;

async function median(f: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await f();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

const task = getTask('hand-bone-age');
const gate = await suitability.openGate('models/suitability', { backend: 'torch' });
const models = openTaskModels(task, 'models/hand-bone-age', { backend: 'torch', gate: null, gateSkipped: 'benchmark: the gate is timed on its own' });
const dir = mkdtempSync(join(tmpdir(), 'physis-gate-bench-'));
try {
  const film = await readRadiograph(FILM);
  const gateMs = await median(() => suitability.gateFilm(gate, film, task.accepts as Acceptance));
  const predictMs = await median(() => analyseFilm(models, FILM, { given: {}, heatmapPath: join(dir, 'heat.png') }));
  const weightsMb = statSync(join('models/suitability', gate.member.bundle.card.files.weights.path)).size / 1e6;
  console.log(`gate ${gateMs.toFixed(1)} ms, full predict ${predictMs.toFixed(1)} ms (${FILM}, libtorch, median of ${RUNS})`);
  console.log(`gate weights ${weightsMb.toFixed(2)} MB (target <= 10 MB)`);
  console.log(`BENCH gate ratio=${(gateMs / predictMs).toFixed(3)} target=0.15`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await closeTaskModels(models);
  await suitability.closeGate(gate);
}
