import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../../src/models/index.js';
import { manualSeed, saveSafetensors, type Tensor } from '../../src/torch/index.js';
import { createBoneAgeModel, initFromWeights, setBackboneFrozen } from '../../src/train/index.js';

const param = (m: ReturnType<typeof createModel>, name: string): Tensor => {
  const p = m.namedParameters().find(([n]) => n === name)?.[1];
  assert.ok(p, name);
  return p;
};

void test('the bone-age model starts its output at the given mean age', () => {
  const m = createBoneAgeModel('resnet18', 127);
  assert.deepEqual([...param(m, 'fc.bias').toFloat32Array()], [127]);
});

void test('initFromWeights copies matching names and shapes and leaves a different head fresh (hand -> knee transfer)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-init-'));
  try {
    manualSeed(1);
    const hand = createBoneAgeModel('resnet18', 120);
    saveSafetensors(join(dir, 'hand.safetensors'), hand.stateDict());
    manualSeed(2);
    // knee: sex and chronological age as two extra inputs -> fc.weight is [1, 514]
    const knee = createModel('resnet18', { inChannels: 1, head: { kind: 'regression', outputs: 1, relu: true }, extraInputs: 2 });
    const freshFc = param(knee, 'fc.weight').toFloat32Array();
    const report = initFromWeights(knee, join(dir, 'hand.safetensors'));
    assert.deepEqual(report.skipped, ['fc.weight ([1, 513] in the file, [1, 514] in the model)']);
    assert.ok(report.loaded.includes('conv1.weight') && report.loaded.includes('layer4.1.bn2.running_var') && report.loaded.includes('fc.bias'));
    assert.deepEqual(param(knee, 'conv1.weight').toFloat32Array(), param(hand, 'conv1.weight').toFloat32Array());
    assert.deepEqual(param(knee, 'fc.weight').toFloat32Array(), freshFc);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('setBackboneFrozen stops gradients everywhere but the final layer, and undoes it', () => {
  const m = createBoneAgeModel('resnet18', 100);
  setBackboneFrozen(m, true);
  for (const [name, p] of m.namedParameters()) assert.equal(p.requiresGrad, name.startsWith('fc.'), name);
  setBackboneFrozen(m, false);
  assert.ok(m.parameters().every((p) => p.requiresGrad));
});
