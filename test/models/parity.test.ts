/**
 * Parity of every torchvision-compatible architecture with torchvision 0.14: the same state dict (keys, order,
 * shapes, num_batches_tracked included) loads unchanged, and in eval mode the logits and the last feature map
 * match the reference within max |Δ| ≤ 1e-4 on a fixed input (reduced size; see test/models/ref/make_fixtures.py),
 * and the input gradient of a fixed weighting of the logits matches to 1e-4 of its largest entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createModel } from '../../src/models/index.js';
import { noGrad, tidy } from '../../src/torch/index.js';
import { disposeAll, maxAbsDiff, modelFixtures, readSafetensors } from './fixtures.js';

/** The acceptance tolerance of issue 4. */
const TOLERANCE = 1e-4;
/** Input-gradient bound, relative to the reference gradient's largest magnitude (float32 through ~100 layers). */
const GRAD_RELATIVE_TOLERANCE = 1e-4;

const ARCHS = [
  'resnet18',
  'resnet50',
  'densenet121',
  'efficientnet_b0',
  'efficientnet_b6',
  'efficientnet_v2_s',
  'efficientnet_v2_m',
  'convnext_tiny',
  'convnext_small',
] as const;

const fixtures = modelFixtures();

for (const arch of ARCHS) {
  const skip = 'skip' in fixtures ? fixtures.skip : false;
  void test(`${arch} matches torchvision (state dict and eval outputs within ${TOLERANCE})`, { skip }, () => {
    if ('skip' in fixtures) return;
    const c = fixtures.cases.find((x) => x.name === arch);
    assert.ok(c, `${arch} missing from the fixture manifest in ${fixtures.dir}`);
    const weights = readSafetensors(join(fixtures.dir, `${arch}.safetensors`));
    const io = readSafetensors(join(fixtures.dir, `${arch}.io.safetensors`));
    const model = createModel(arch);
    try {
      const own = model.stateDict();
      assert.deepEqual([...own.keys()], [...weights.keys()], 'state dict keys and their order');
      for (const [k, t] of own) assert.deepEqual(t.shape, weights.get(k)?.shape, `shape of ${k}`);
      model.loadStateDict(weights);
      model.eval();
      const input = io.get('input');
      const output = io.get('output');
      const features = io.get('features');
      assert.ok(input && output && features, 'io fixture has input, output and features');
      const { outDiff, featDiff } = tidy(() =>
        noGrad(() => {
          const f = model.forwardFeatures(input);
          const y = model.call(input);
          assert.deepEqual(y.shape, output.shape);
          assert.deepEqual(f.shape, features.shape);
          return { outDiff: maxAbsDiff(y, output), featDiff: maxAbsDiff(f, features) };
        }),
      );
      // Backward through every block: the input gradient of sum(output * weighting), relative to its largest entry
      // (EfficientNet's input gradients are ~1e-17 after fan-out initialisation, so only a relative bound says
      // anything there).
      const weighting = io.get('weighting');
      const inputGrad = io.get('inputGrad');
      assert.ok(weighting && inputGrad, 'io fixture has weighting and inputGrad');
      const { gradDiff, gradMax } = tidy(() => {
        const x = input.clone().requiresGrad_(true);
        model.call(x).mul(weighting).sum().backward();
        const g = x.grad;
        assert.ok(g, 'the input has a gradient');
        return { gradDiff: maxAbsDiff(g, inputGrad), gradMax: inputGrad.abs().max().item() };
      });
      assert.ok(gradMax > 0, `${arch}: reference input gradient is all zero`);
      assert.ok(
        gradDiff <= GRAD_RELATIVE_TOLERANCE * gradMax,
        `${arch}: input gradient max |Δ| ${gradDiff} > ${GRAD_RELATIVE_TOLERANCE} × ${gradMax}`,
      );
      // The reference's outputs are not trivially small (perturbed norm statistics), so 1e-4 is a real bound.
      assert.ok(c.outputAbsMax > 0.1, `reference output of ${arch} is degenerate (|y|max ${c.outputAbsMax})`);
      assert.ok(
        outDiff <= TOLERANCE,
        `${arch}: output max |Δ| ${outDiff} > ${TOLERANCE} (|y|max ${c.outputAbsMax})`,
      );
      assert.ok(featDiff <= TOLERANCE, `${arch}: features max |Δ| ${featDiff} > ${TOLERANCE}`);
      process.stdout.write(
        `# ${arch} ${c.size}x${c.size}: output max|Δ| ${outDiff.toExponential(2)}, features ${featDiff.toExponential(2)}, ` +
          `input gradient ${(gradDiff / gradMax).toExponential(2)} of its max\n`,
      );
    } finally {
      model.dispose();
      disposeAll(weights);
      disposeAll(io);
    }
  });
}
