import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignSplits, checkMinimumSizes, type SplitPlan } from '../../src/train/splits.js';
import { DatasetTooSmallError, SplitError } from '../../src/train/run-errors.js';
import { TrainConfigError } from '../../src/train/errors.js';

interface Row {
  readonly file: string;
  readonly split?: string;
  readonly sex: string;
  readonly target: number;
}

/** `n` rows named r0…, sex alternating M/F, targets 0…n−1, split from `splitAt(i)`. */
function rows(n: number, splitAt: (i: number) => string | undefined = () => undefined): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const split = splitAt(i);
    return {
      file: `r${i}`,
      sex: i % 2 === 0 ? 'M' : 'F',
      target: i,
      ...(split === undefined ? {} : { split }),
    };
  });
}

function plan(data: readonly Row[], devFraction?: number, seed = 1): SplitPlan<Row> {
  return assignSplits(data, {
    splitOf: (r) => r.split,
    stratumOf: (r) => r.sex,
    targetOf: (r) => r.target,
    seed,
    name: (r) => r.file,
    ...(devFraction === undefined ? {} : { devFraction }),
  });
}

const names = (rs: readonly Row[]): string[] => rs.map((r) => r.file);

// [name, rows, expected train names, expected dev names, expected excluded]
const COLUMN_CASES: [
  string,
  Row[],
  string[],
  string[],
  { split: string; count: number; examples: string[] }[],
][] = [
  ['train and dev only', rows(4, (i) => (i < 3 ? 'train' : 'dev')), ['r0', 'r1', 'r2'], ['r3'], []],
  ['case and spaces ignored', rows(3, (i) => [' Train', 'DEV ', 'train'][i]), ['r0', 'r2'], ['r1'], []],
  [
    'test rows are excluded with up to 3 examples',
    rows(8, (i) => (i < 2 ? 'train' : i < 3 ? 'dev' : 'test')),
    ['r0', 'r1'],
    ['r2'],
    [{ split: 'test', count: 5, examples: ['r3', 'r4', 'r5'] }],
  ],
  [
    'several other values grouped and sorted',
    rows(6, (i) => ['train', 'dev', 'val', 'holdout', 'val', 'train'][i]),
    ['r0', 'r5'],
    ['r1'],
    [
      { split: 'holdout', count: 1, examples: ['r3'] },
      { split: 'val', count: 2, examples: ['r2', 'r4'] },
    ],
  ],
  [
    'rows without a value among rows with values are excluded as split ""',
    rows(5, (i) => ['train', '', 'dev', undefined, '  '][i]),
    ['r0'],
    ['r2'],
    [{ split: '', count: 3, examples: ['r1', 'r3', 'r4'] }],
  ],
];

for (const [name, data, train, dev, excluded] of COLUMN_CASES) {
  void test(`assignSplits with a split column: ${name}`, () => {
    const p = plan(data);
    assert.deepEqual(names(p.train), train);
    assert.deepEqual(names(p.dev), dev);
    assert.deepEqual(p.excluded, excluded);
    assert.equal(p.fallback, null);
  });
}

// [name, rows, the values the message must name]
const BAD_COLUMN_CASES: [string, Row[], RegExp][] = [
  ['no train rows', rows(4, (i) => (i < 2 ? 'dev' : 'test')), /dev \(2\), test \(2\) but no 'train' rows/],
  [
    'no dev rows',
    rows(4, (i) => (i < 2 ? 'train' : 'holdout')),
    /holdout \(2\), train \(2\) but no 'dev' rows/,
  ],
  ['only other values', rows(3, () => 'val'), /val \(3\) but no 'train' rows/],
  [
    'train and empty only',
    rows(3, (i) => (i === 0 ? 'train' : '')),
    /\(empty\) \(2\), train \(1\) but no 'dev' rows/,
  ],
];

for (const [name, data, message] of BAD_COLUMN_CASES) {
  void test(`assignSplits refuses a split column with ${name}`, () => {
    assert.throws(
      () => plan(data),
      (e: unknown) => e instanceof SplitError && e instanceof TrainConfigError && message.test(e.message),
    );
  });
}

// [name, rows, devFraction, expected dev size, expected words]
const FALLBACK_CASES: [string, Row[], number | undefined, number, string][] = [
  [
    'no column, default 80/20',
    rows(100),
    undefined,
    20,
    'no split column: a seeded stratified 80/20 split (seed 1)',
  ],
  [
    'all values empty',
    rows(10, () => ''),
    undefined,
    2,
    'no split column: a seeded stratified 80/20 split (seed 1)',
  ],
  ['devFraction 0.25', rows(40), 0.25, 10, 'no split column: a seeded stratified 75/25 split (seed 1)'],
  [
    'devFraction 0.3 → 3 folds',
    rows(30),
    0.3,
    10,
    'no split column: a seeded stratified 67/33 split (seed 1)',
  ],
];

for (const [name, data, devFraction, devSize, words] of FALLBACK_CASES) {
  void test(`assignSplits fallback: ${name}`, () => {
    const p = plan(data, devFraction);
    assert.equal(p.fallback, words);
    assert.equal(p.dev.length, devSize);
    assert.equal(p.train.length + p.dev.length, data.length);
    assert.deepEqual(p.excluded, []);
    const dev = new Set(p.dev);
    assert.ok(
      p.train.every((r) => !dev.has(r)),
      'disjoint',
    );
    assert.deepEqual(names(p.train), names(data.filter((r) => !dev.has(r))), 'table order kept');
  });
}

void test('assignSplits fallback is seeded, stratified by stratum and target', () => {
  const data = rows(100);
  assert.deepEqual(plan(data), plan(data), 'same seed, same split');
  assert.notDeepEqual(
    names(plan(data, undefined, 1).dev),
    names(plan(data, undefined, 2).dev),
    'another seed, another split',
  );
  const dev = plan(data).dev;
  assert.equal(dev.filter((r) => r.sex === 'M').length, 10, 'half of dev is M, as in the table');
  // targets 0..99 in 5 quantile bins of 20: each bin gives 4 dev rows
  for (let b = 0; b < 5; b++)
    assert.equal(dev.filter((r) => Math.floor(r.target / 20) === b).length, 4, `bin ${b}`);
});

void test('assignSplits fallback without targetOf stratifies by stratum only', () => {
  const data = rows(20);
  const p = assignSplits(data, {
    splitOf: () => undefined,
    stratumOf: (r) => r.sex,
    seed: 3,
    name: (r) => r.file,
  });
  assert.equal(p.dev.length, 4);
  assert.equal(p.dev.filter((r) => r.sex === 'F').length, 2);
});

// [name, rows, devFraction, expected error class]
const BAD_FALLBACK_CASES: [string, Row[], number, typeof TrainConfigError][] = [
  ['fewer rows than folds', rows(4), 0.2, DatasetTooSmallError],
  ['no rows', [], 0.2, DatasetTooSmallError],
  ['devFraction 0', rows(10), 0, TrainConfigError],
  ['devFraction above one half', rows(10), 0.6, TrainConfigError],
];

for (const [name, data, devFraction, error] of BAD_FALLBACK_CASES) {
  void test(`assignSplits fallback refuses ${name}`, () => {
    assert.throws(() => plan(data, devFraction), error);
  });
}

// [train, dev, batchSize, minTrain, minDev, expected { trainDropLast, trainStepsPerEpoch } or the message]
const SIZE_CASES: [
  number,
  number,
  number,
  number | undefined,
  number | undefined,
  { drop: boolean; steps: number } | RegExp,
][] = [
  [846, 212, 16, undefined, undefined, { drop: false, steps: 53 }],
  [848, 212, 16, undefined, undefined, { drop: false, steps: 53 }],
  [849, 212, 16, undefined, undefined, { drop: true, steps: 53 }], // 53 × 16 + 1
  [17, 5, 16, undefined, undefined, { drop: true, steps: 1 }],
  [2, 1, 16, undefined, undefined, { drop: false, steps: 1 }], // one batch of two
  [5, 1, 1, undefined, undefined, { drop: false, steps: 5 }], // batch size 1 is the caller's choice
  [1, 1, 16, 1, undefined, { drop: false, steps: 1 }], // minTrain 1 allows a single image, not dropped
  [0, 1, 16, 0, undefined, /0 training rows: training needs at least 1/], // minTrain never below 1
  [1, 1, 16, undefined, undefined, /1 training row: training needs at least 2/],
  [10, 3, 4, 20, undefined, /10 training rows: training needs at least 20/],
  [10, 0, 4, undefined, undefined, /0 dev rows: at least 1 needed/],
  [10, 4, 4, undefined, 5, /4 dev rows: at least 5 needed/],
  [10, 0, 4, undefined, 0, { drop: false, steps: 3 }],
];

for (const [train, dev, batchSize, minTrain, minDev, expected] of SIZE_CASES) {
  void test(`checkMinimumSizes train=${train} dev=${dev} batch=${batchSize} minTrain=${minTrain} minDev=${minDev}`, () => {
    const run = (): ReturnType<typeof checkMinimumSizes> =>
      checkMinimumSizes({
        train,
        dev,
        batchSize,
        ...(minTrain === undefined ? {} : { minTrain }),
        ...(minDev === undefined ? {} : { minDev }),
      });
    if (expected instanceof RegExp) {
      assert.throws(run, (e: unknown) => e instanceof DatasetTooSmallError && expected.test(e.message));
    } else {
      assert.deepEqual(run(), { trainDropLast: expected.drop, trainStepsPerEpoch: expected.steps });
    }
  });
}

for (const batchSize of [0, -1, 2.5, Number.NaN]) {
  void test(`checkMinimumSizes refuses batch size ${batchSize}`, () => {
    assert.throws(() => checkMinimumSizes({ train: 10, dev: 2, batchSize }), TrainConfigError);
  });
}

void test('assignSplits with groups: the fallback split keeps every group on one side and says it is grouped', () => {
  // 30 rows of 10 patients (three films each)
  const data = rows(30);
  const groupOf = (r: Row): string => `p${Math.floor(Number(r.file.slice(1)) / 3)}`;
  const p = assignSplits(data, { splitOf: (r) => r.split, stratumOf: (r) => r.sex, seed: 1, name: (r) => r.file, groupOf });
  const trainGroups = new Set(p.train.map(groupOf));
  assert.equal(p.dev.filter((r) => trainGroups.has(groupOf(r))).length, 0);
  assert.equal(p.train.length + p.dev.length, 30);
  assert.ok(p.dev.length >= 3, `a fifth of the groups is dev, got ${p.dev.length} rows`);
  assert.match(p.fallback ?? '', /grouped/);
});

void test('assignSplits with groups: a split column that puts one patient in train and dev is refused with an example', () => {
  const data = rows(6, (i) => (i < 4 ? 'train' : 'dev'));
  const groupOf = (r: Row): string => (r.file === 'r3' || r.file === 'r4' ? 'infant-7' : r.file);
  assert.throws(
    () => assignSplits(data, { splitOf: (r) => r.split, stratumOf: (r) => r.sex, seed: 1, name: (r) => r.file, groupOf }),
    (e: unknown) => e instanceof SplitError && /1 group\(s\) have rows in both train and dev \(e\.g\. infant-7: r3 is train, r4 is dev\)/.test(e.message),
  );
  // the same rows without the shared patient pass
  const apart = assignSplits(data, { splitOf: (r) => r.split, stratumOf: (r) => r.sex, seed: 1, name: (r) => r.file, groupOf: (r) => r.file });
  assert.equal(apart.dev.length, 2);
});
