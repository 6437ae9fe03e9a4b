/**
 * The registry's metadata agrees with the models it builds: parameter counts (torchvision's/timm's published
 * numbers), feature widths, the feature block and the stem/head names used by weight loading and Grad-CAM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARCHITECTURES,
  getArchitecture,
  isArchitectureName,
  listArchitectures,
} from '../../src/models/index.js';

void test('the registry lists the architectures of the zoo', () => {
  assert.deepEqual(listArchitectures().sort(), [
    'convnext_small',
    'convnext_tiny',
    'densenet121',
    'efficientnet_b0',
    'efficientnet_b6',
    'efficientnet_v2_m',
    'efficientnet_v2_s',
    'inception_resnet_v2',
    'resnet18',
    'resnet18_w32',
    'resnet50',
  ]);
  assert.equal(isArchitectureName('resnet50'), true);
  assert.equal(isArchitectureName('resnet51'), false);
  assert.throws(() => getArchitecture('vgg16'), {
    name: 'UnknownArchitectureError',
    message: /'vgg16'.*resnet18/,
  });
});

for (const name of listArchitectures()) {
  const info = ARCHITECTURES[name];
  void test(`${name}: metadata matches the built model`, () => {
    const model = info.create();
    try {
      assert.equal(model.architecture, name);
      assert.equal(
        model.parameters().reduce((s, t) => s + t.size, 0),
        info.numParams1000,
      );
      assert.equal(model.numFeatures, info.numFeatures);
      const modules = new Map(model.namedModules());
      assert.ok(modules.has(info.featureBlock), `feature block '${info.featureBlock}' exists`);
      const sd = model.stateDict();
      assert.equal(sd.get(model.stemWeightKey)?.shape[1], 3, 'stem key names the 3-channel stem weight');
      assert.deepEqual(sd.get(`${model.headLinearName}.weight`)?.shape, [1000, info.numFeatures]);
    } finally {
      model.dispose();
    }
  });
}
