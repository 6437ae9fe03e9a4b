import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gradCam } from '../../src/explain/index.js';
import { createModel } from '../../src/models/index.js';
import { manualSeed, noGrad, randn, saveSafetensors, tensor, type Tensor } from '../../src/torch/index.js';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
const skip = hasTorch ? false : `${PYTHON} with torch and torchvision is not installed (scripts/bootstrap.sh installs it)`;

/** Our map of a random bone-age ResNet-18 at 96 px against the PyTorch reference's, positive mode. */
function compareWithPyTorch(t: { diagnostic: (m: string) => void }, method: 'grad-cam' | 'hirescam', stage: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'physis-gradcam-'));
  try {
    manualSeed(11);
    const size = 96;
    const model = createModel('resnet18', { inChannels: 1, head: { kind: 'regression', outputs: 1, relu: true }, extraInputs: 1 });
    const bias = model.namedParameters().find(([n]) => n === 'fc.bias')?.[1] as Tensor;
    noGrad(() => bias.fill_(50));
    model.eval();
    const x = randn([1, 1, size, size]);
    saveSafetensors(join(dir, 'w.safetensors'), model.stateDict());
    writeFileSync(join(dir, 'x.f32'), x.toFloat32Array());
    const ours = gradCam(model, x, { extra: tensor([1], [1, 1]), mode: 'positive', method, ...(stage === 4 ? {} : { stage }) });
    const r = spawnSync(
      PYTHON,
      [resolve('test/explain/ref/grad_cam_reference.py'), join(dir, 'w.safetensors'), join(dir, 'x.f32'), String(size), '1', method, String(stage)],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout) as { score: number; map: number[] };
    assert.ok(Math.abs(ref.score - ours.score) < 1e-3, `score ${ours.score} vs PyTorch ${ref.score}`);
    let maxDiff = 0;
    ref.map.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (ours.data[i] as number)))));
    t.diagnostic(`${method} at stage ${stage}: max |ours - PyTorch| = ${maxDiff.toExponential(2)}, score ${ours.score} vs ${ref.score}`);
    assert.ok(maxDiff < 1e-4, `${method} at stage ${stage}: max |ours - PyTorch| = ${maxDiff}`);
    assert.ok(ours.data.some((v) => v > 0 && v < 1), 'a non-trivial map');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('Grad-CAM matches a PyTorch reference on a random bone-age ResNet-18 (max |Δ| < 1e-4)', { skip }, (t) => {
  compareWithPyTorch(t, 'grad-cam', 4);
});

void test('HiResCAM at layer2 matches a PyTorch reference on a random bone-age ResNet-18 (max |Δ| < 1e-4)', { skip }, (t) => {
  compareWithPyTorch(t, 'hirescam', 2);
});
