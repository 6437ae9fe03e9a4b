import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRecipe, recipeDiff } from '../../src/train/recipe.js';
import { RecipeError } from '../../src/train/run-errors.js';
import { TrainConfigError } from '../../src/train/errors.js';

/** A recipe shaped like a task's defaults: nested objects, pairs, a nullable pair, a null default. */
interface Recipe {
  readonly arch: string;
  readonly epochs: number;
  readonly amp: boolean;
  readonly optimizer: { readonly lr: number; readonly weightDecay: number };
  readonly augmentation: {
    readonly rotationDeg: number;
    readonly scale: readonly [number, number];
    readonly cropSize: readonly [number, number] | null;
  };
  readonly init: string | null;
  readonly tags: readonly string[];
}

function defaults(): Recipe {
  return {
    arch: 'resnet18',
    epochs: 100,
    amp: false,
    optimizer: { lr: 1e-3, weightDecay: 0.05 },
    augmentation: { rotationDeg: 15, scale: [0.9, 1.1], cropSize: null },
    init: null,
    tags: ['a', 'b'],
  };
}

const DEFAULTS = defaults();

function withFile(content: string, run: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'physis-recipe-'));
  const path = join(dir, 'recipe.json');
  writeFileSync(path, content);
  try {
    run(path);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

// [name, overrides, the fields expected to differ from the defaults]
const SET_CASES: [string, string[], Record<string, unknown>][] = [
  ['number', ['epochs=3'], { epochs: 3 }],
  ['number in exponent form', ['optimizer.lr=3e-4'], { optimizer: { lr: 3e-4, weightDecay: 0.05 } }],
  ['boolean', ['amp=true'], { amp: true }],
  ['string, verbatim after the first =', ['arch=a=b c'], { arch: 'a=b c' }],
  [
    'nested',
    ['augmentation.rotationDeg=5'],
    { augmentation: { rotationDeg: 5, scale: [0.9, 1.1], cropSize: null } },
  ],
  [
    'array',
    ['augmentation.scale=[0.8,1.2]'],
    { augmentation: { rotationDeg: 15, scale: [0.8, 1.2], cropSize: null } },
  ],
  ['array of strings', ['tags=["x","y"]'], { tags: ['x', 'y'] }],
  ['array set to null', ['tags=null'], { tags: null }],
  [
    'null default to an array',
    ['augmentation.cropSize=[200,180]'],
    { augmentation: { rotationDeg: 15, scale: [0.9, 1.1], cropSize: [200, 180] } },
  ],
  ['null default to a bare string', ['init=runs/a/model.safetensors'], { init: 'runs/a/model.safetensors' }],
  ['null default to a quoted string', ['init="12"'], { init: '12' }],
  [
    'object as JSON merges key by key',
    ['optimizer={"lr":0.01}'],
    { optimizer: { lr: 0.01, weightDecay: 0.05 } },
  ],
  ['later override wins', ['epochs=3', 'epochs=4'], { epochs: 4 }],
];

for (const [name, set, changed] of SET_CASES) {
  void test(`applyRecipe override: ${name}`, () => {
    const c = applyRecipe(DEFAULTS, { set });
    assert.deepEqual(c, { ...defaults(), ...changed });
    assert.deepEqual(DEFAULTS, defaults(), 'defaults not mutated');
  });
}

// [name, overrides, message pattern]
const BAD_SET_CASES: [string, string[], RegExp][] = [
  [
    'unknown top-level key',
    ['epoch=3'],
    /unknown recipe key "epoch" \(set epoch=3\); valid keys at the top level: arch, epochs, amp, optimizer, augmentation, init, tags/,
  ],
  [
    'unknown nested key',
    ['optimizer.lrr=1'],
    /unknown recipe key "optimizer.lrr" .*valid keys under "optimizer": lr, weightDecay/,
  ],
  ['path through a leaf', ['epochs.x=1'], /"epochs" is not an object/],
  ['number from text', ['epochs=many'], /"epochs" must be a number, got "many"/],
  ['empty number', ['epochs='], /"epochs" must be a number/],
  ['infinite number', ['optimizer.lr=Infinity'], /"optimizer.lr" must be a number/],
  ['boolean from 1', ['amp=1'], /"amp" must be a boolean, got "1"/],
  [
    'array of the wrong length',
    ['augmentation.scale=[0.9,1.0,1.1]'],
    /"augmentation.scale" must be an array of 2 \(or null\), got an array of 3/,
  ],
  [
    'array element of the wrong type',
    ['augmentation.scale=[0.9,"x"]'],
    /"augmentation.scale.1" must be a number, got string "x"/,
  ],
  ['array not JSON', ['augmentation.scale=0.9,1.1'], /"augmentation.scale" must be an array of 2/],
  ['null for a number', ['epochs=null'], /"epochs" must be a number, got "null"/],
  ['null for an object', ['optimizer=null'], /"optimizer" must be an object, got null/],
  [
    'unknown key inside a JSON object',
    ['optimizer={"momentum":0.9}'],
    /unknown recipe key "optimizer.momentum"/,
  ],
  ['no =', ['epochs'], /must be key.path=value/],
  ['__proto__ is not a key', ['__proto__.x=1'], /unknown recipe key "__proto__"/],
];

for (const [name, set, message] of BAD_SET_CASES) {
  void test(`applyRecipe refuses ${name}`, () => {
    assert.throws(
      () => applyRecipe(DEFAULTS, { set }),
      (e: unknown) =>
        e instanceof RecipeError &&
        e instanceof TrainConfigError &&
        message.test(e.message) &&
        !e.message.includes('\n'),
    );
  });
}

void test('applyRecipe: a file merges over the defaults, overrides win over the file', () => {
  withFile(
    JSON.stringify({ epochs: 7, optimizer: { lr: 0.01 }, augmentation: { scale: [0.8, 1.25] } }),
    (file) => {
      const fromFile = applyRecipe(DEFAULTS, { file });
      assert.deepEqual(fromFile, {
        ...defaults(),
        epochs: 7,
        optimizer: { lr: 0.01, weightDecay: 0.05 },
        augmentation: { rotationDeg: 15, scale: [0.8, 1.25], cropSize: null },
      });
      const both = applyRecipe(DEFAULTS, { file, set: ['epochs=9', 'optimizer.weightDecay=0'] });
      assert.equal(both.epochs, 9);
      assert.deepEqual(
        both.optimizer,
        { lr: 0.01, weightDecay: 0 },
        'the file’s lr is kept under a sibling override',
      );
    },
  );
});

// [name, file contents, message pattern]
const BAD_FILE_CASES: [string, string, RegExp][] = [
  [
    'unknown key',
    '{"optimizer": {"beta": 1}}',
    /unknown recipe key "optimizer.beta" \(in .*recipe.json\); valid keys under "optimizer": lr, weightDecay/,
  ],
  ['wrong type', '{"epochs": "10"}', /"epochs" must be a number, got string "10" \(in .*recipe.json\)/],
  ['invalid JSON', '{"epochs": ', /cannot read recipe .*recipe.json/],
  ['not an object', '[1, 2]', /must hold a JSON object, got an array of 2/],
];

for (const [name, content, message] of BAD_FILE_CASES) {
  void test(`applyRecipe refuses a file with ${name}`, () => {
    withFile(content, (file) =>
      assert.throws(
        () => applyRecipe(DEFAULTS, { file }),
        (e: unknown) => e instanceof RecipeError && message.test(e.message),
      ),
    );
  });
}

void test('applyRecipe refuses a missing file', () => {
  assert.throws(() => applyRecipe(DEFAULTS, { file: join(tmpdir(), 'no-such-recipe.json') }), RecipeError);
});

void test('applyRecipe returns a deeply frozen copy and leaves frozen defaults untouched', () => {
  const frozen = Object.freeze({ ...defaults(), optimizer: Object.freeze({ lr: 1e-3, weightDecay: 0.05 }) });
  const c = applyRecipe(frozen, { set: ['optimizer.lr=0.5'] });
  assert.equal(frozen.optimizer.lr, 1e-3);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.optimizer) && Object.isFrozen(c.augmentation.scale));
  assert.notEqual(c.augmentation, frozen.augmentation, 'no shared structure with the defaults');
  const plain = applyRecipe(DEFAULTS, {});
  assert.deepEqual(plain, DEFAULTS);
  assert.ok(!Object.isFrozen(DEFAULTS.augmentation), 'the defaults object itself is not frozen by the call');
});

void test('recipeDiff lists changed leaves in the defaults’ key order', () => {
  const c = applyRecipe(DEFAULTS, {
    set: ['augmentation.scale=[0.8,1.2]', 'epochs=3', 'init=w.safetensors', 'tags=null'],
  });
  assert.deepEqual(recipeDiff(DEFAULTS, c), [
    'epochs=3',
    'augmentation.scale=[0.8,1.2]',
    'init=w.safetensors',
    'tags=null',
  ]);
  assert.deepEqual(recipeDiff(DEFAULTS, DEFAULTS), []);
});

// overrides whose diff must re-apply to the same configuration
const ROUND_TRIPS: string[][] = [
  [],
  ['epochs=3', 'optimizer.lr=0.0003', 'amp=true'],
  ['arch=x=y', 'augmentation.cropSize=[224,200]', 'tags=["p","q"]'],
  ['init="12"', 'optimizer.weightDecay=-0'],
  ['init={"from":"bundle","strict":false}'],
  ['init=true', 'tags=null', 'optimizer.lr=1e-7'],
];

for (const set of ROUND_TRIPS) {
  void test(`recipeDiff round-trips [${set.join(' ')}]`, () => {
    const c = applyRecipe(DEFAULTS, { set });
    const again = applyRecipe(DEFAULTS, { set: recipeDiff(DEFAULTS, c) });
    assert.deepStrictEqual(again, c);
  });
}

void test('recipePreprocessing: the stretch filter is recorded where a stretchVia side is set, and refused otherwise', async () => {
  const { recipePreprocessing } = await import('../../src/train/index.js');
  const { HAND_BONE_AGE_RECIPE } = await import('../../src/tasks/hand-bone-age/index.js');
  const withPreprocessing = (p: object): typeof HAND_BONE_AGE_RECIPE => ({ ...HAND_BONE_AGE_RECIPE, preprocessing: p }) as typeof HAND_BONE_AGE_RECIPE;
  assert.deepEqual(recipePreprocessing(HAND_BONE_AGE_RECIPE), { size: 128, fit: 'stretch', crop: false, stretchVia: 100, stretchFilter: 'nearest' });
  assert.deepEqual(recipePreprocessing(withPreprocessing({ fit: 'stretch', stretchVia: 100, crop: false })), { size: 128, fit: 'stretch', crop: false, stretchVia: 100 });
  assert.throws(() => recipePreprocessing(withPreprocessing({ fit: 'stretch', stretchVia: 100, stretchFilter: 'box', crop: false })), RecipeError);
  assert.throws(() => recipePreprocessing(withPreprocessing({ fit: 'letterbox', stretchVia: 0, stretchFilter: 'nearest', crop: true })), /with a stretchVia side/);
});
