import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { createModel, getArchitecture, listArchitectures } from '../../src/models/index.js';
import { manualSeed, noGrad, rand, tensor, tidy, type Module } from '../../src/torch/index.js';
import { exportZooModelOnnx } from '../../src/infer/index.js';

// Every zoo architecture exported with its head (regression with 2 extra scalars, 1-channel stem) and the
// Grad-CAM feature map; ONNX Runtime must match libtorch within 1e-4 on both outputs at a batch size other than
// the traced one. The default suite runs three architectures that together use every op kind of the zoo
// (ResNet: conv/bn/relu/maxpool; EfficientNet: SiLU, squeeze-excitation, depthwise conv, stochastic depth;
// ConvNeXt: LayerNorm, GELU, layer scale, permutes); PHYSIS_SLOW=1 runs all ten.
/** Non-trivial normalisation statistics and affine terms (fresh ones are 0/1), so a mix-up would show. */
function perturbForTest(m: Module): void {
  noGrad(() => {
    for (const [name, t] of [...m.namedBuffers(), ...m.namedParameters()]) {
      if (t.dtype !== 'float32' || t.rank !== 1) continue;
      const u = rand(t.shape);
      if (name.endsWith('running_var')) t.copy_(u.mul(0.5).add(0.75));
      else if (name.endsWith('running_mean') || name.endsWith('.bias')) t.copy_(u.sub(0.5).mul(0.2));
      else if (name.endsWith('.weight')) t.copy_(u.mul(0.5).add(0.75));
      u.dispose();
    }
  });
}

const SLOW = process.env['PHYSIS_SLOW'] === '1';
const DEFAULT = ['resnet18', 'efficientnet_b0', 'convnext_tiny'];
const TOL = 1e-4;

for (const name of listArchitectures()) {
  const skip = !SLOW && !DEFAULT.includes(name) ? 'slow (PHYSIS_SLOW=1 runs every architecture)' : false;
  void test(
    `${name} exports to ONNX and matches libtorch within ${TOL} (output and feature map)`,
    { skip },
    async () => {
      manualSeed(0);
      const model = createModel(name, {
        inChannels: 1,
        head: { kind: 'regression', outputs: 1, relu: false },
        extraInputs: 2,
      });
      perturbForTest(model);
      model.eval();
      const size = Math.max(64, getArchitecture(name).minInputSize);
      const bytes = exportZooModelOnnx(model, {
        height: size,
        width: size,
        outputName: 'out',
        featureMapOutput: 'fm',
      });
      const n = 3;
      const x = Float32Array.from(
        { length: n * size * size },
        (_, i) => Math.sin(i * 0.013) + ((i * 7) % 11) / 11,
      );
      const e = Float32Array.from([1, 0.5, 0, 0.2, 1, 0.9]);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
      const got = await session.run({
        input: new ort.Tensor('float32', x, [n, 1, size, size]),
        extra: new ort.Tensor('float32', e, [n, 2]),
      });
      await session.release();
      const [out, fm] = tidy(() =>
        noGrad(() => {
          const f = model.forwardFeatures(tensor(x, [n, 1, size, size]));
          return [model.forwardHead(f, tensor(e, [n, 2])).toFloat32Array(), f.toFloat32Array()];
        }),
      );
      for (const [key, want] of [
        ['out', out],
        ['fm', fm],
      ] as const) {
        const g = got[key]?.data as Float32Array;
        assert.equal(g.length, want?.length, `${key} size`);
        let maxDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < g.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs((g[i] ?? NaN) - (want?.[i] ?? NaN)));
          maxAbs = Math.max(maxAbs, Math.abs(want?.[i] ?? 0));
        }
        assert.ok(maxAbs > 1e-3, `${key}: values must not be trivially small (max |v| ${maxAbs})`);
        assert.ok(maxDiff <= TOL, `${name} ${key}: max abs difference ${maxDiff} > ${TOL}`);
      }
      model.dispose();
    },
  );
}
