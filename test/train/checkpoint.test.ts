import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHECKPOINT_VERSION,
  CheckpointError,
  configFingerprint,
  EarlyStopping,
  JsonlLogger,
  loadCheckpoint,
  readJsonl,
  Rng,
  saveCheckpoint,
  type TrainState,
} from '../../src/train/index.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'physis-ckpt-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function state(rng: Rng, stopper: EarlyStopping, fingerprint: string): TrainState {
  return {
    version: CHECKPOINT_VERSION,
    epoch: 3,
    step: 120,
    bestMetric: 14.5,
    bestEpoch: 2,
    earlyStopping: stopper.state(),
    rngState: rng.state(),
    weightsFile: 'last.safetensors',
    optimizerStateFile: 'optimizer.safetensors',
    configFingerprint: fingerprint,
    savedAt: '2026-01-01T00:00:00.000Z',
  };
}

void test('a checkpoint round-trips and resumes the RNG and early-stopping state', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'last.safetensors'), 'w');
    writeFileSync(join(dir, 'optimizer.safetensors'), 'o');
    const rng = new Rng(5);
    rng.float();
    const stopper = new EarlyStopping({ patience: 3, mode: 'min' });
    stopper.update(0, 20);
    stopper.update(1, 21);
    const fp = configFingerprint({ lr: 1e-3, arch: 'resnet18' });
    saveCheckpoint(dir, state(rng, stopper, fp));
    const loaded = loadCheckpoint(dir, fp);
    assert.equal(loaded.epoch, 3);
    const resumed = Rng.fromState(loaded.rngState);
    assert.equal(resumed.float(), rng.float());
    const s2 = new EarlyStopping({ patience: 3, mode: 'min' });
    s2.load(loaded.earlyStopping);
    assert.deepEqual(s2.update(2, 22), stopper.update(2, 22));
  });
});

void test('configFingerprint ignores key order and sees value changes', () => {
  assert.equal(configFingerprint({ a: 1, b: [1, { c: 2, d: 3 }] }), configFingerprint({ b: [1, { d: 3, c: 2 }], a: 1 }));
  assert.notEqual(configFingerprint({ a: 1 }), configFingerprint({ a: 2 }));
});

const BAD: [string, (dir: string) => void, RegExp][] = [
  ['no checkpoint', () => undefined, /no checkpoint to resume from/],
  ['corrupt JSON', (d) => writeFileSync(join(d, 'checkpoint.json'), '{"version": 1,'), /not valid JSON/],
  ['missing weights', (d) => saveCheckpoint(d, state(new Rng(1), new EarlyStopping({ patience: 1, mode: 'min' }), 'x')), /names 'last.safetensors', which is missing/],
  [
    'other configuration',
    (d) => {
      writeFileSync(join(d, 'last.safetensors'), 'w');
      writeFileSync(join(d, 'optimizer.safetensors'), 'o');
      saveCheckpoint(d, state(new Rng(1), new EarlyStopping({ patience: 1, mode: 'min' }), 'other'));
    },
    /configuration other, this run has wanted/,
  ],
];
for (const [name, setup, message] of BAD) {
  void test(`loadCheckpoint refuses ${name}`, () => {
    withDir((dir) => {
      setup(dir);
      assert.throws(() => loadCheckpoint(dir, 'wanted'), (e: unknown) => e instanceof CheckpointError && message.test(e.message));
    });
  });
}

void test('early stopping stops after `patience` epochs without improvement beyond minDelta', () => {
  const s = new EarlyStopping({ patience: 2, mode: 'min', minDelta: 0.5 });
  assert.deepEqual(s.update(0, 10), { improved: true, stop: false });
  assert.deepEqual(s.update(1, 9.8), { improved: false, stop: false }); // within minDelta
  assert.deepEqual(s.update(2, 9), { improved: true, stop: false });
  assert.deepEqual(s.update(3, Number.NaN), { improved: false, stop: false });
  assert.deepEqual(s.update(4, 9.1), { improved: false, stop: true });
  assert.equal(s.state().bestEpoch, 2);
  const m = new EarlyStopping({ patience: 1, mode: 'max' });
  m.update(0, 0.5);
  assert.equal(m.update(1, 0.6).improved, true);
});

void test('JSONL log appends one record per line and tolerates a truncated last line', () => {
  withDir((dir) => {
    const log = new JsonlLogger(join(dir, 'sub', 'train.jsonl'));
    log.log({ epoch: 0, loss: 1.5, devMae: Number.NaN });
    log.log({ epoch: 1, loss: 1.2 });
    appendFileSync(log.path, '{"epoch": 2, "lo');
    assert.deepEqual(readJsonl(log.path), [
      { epoch: 0, loss: 1.5, devMae: null },
      { epoch: 1, loss: 1.2 },
    ]);
  });
});
