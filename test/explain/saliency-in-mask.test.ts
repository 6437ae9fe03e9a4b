import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SaliencyError, saliencyInMask, summariseSaliencyInMask } from '../../src/explain/index.js';

interface Img<T> {
  width: number;
  height: number;
  data: T;
}

function map(width: number, height: number, f: (x: number, y: number) => number): Img<Float32Array> {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
}

function mask(width: number, height: number, inside: (x: number, y: number) => boolean): Img<Uint8Array> {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = inside(x, y) ? 1 : 0;
  return { width, height, data };
}

function close(actual: number, expected: number, what: string, tol = 1e-9): void {
  assert.ok(Math.abs(actual - expected) < tol, `${what}: ${actual} vs ${expected}`);
}

const topLeft =
  (n: number) =>
  (x: number, y: number): boolean =>
    x < n && y < n;

void test('a map entirely inside the mask has energy share 1', () => {
  // quadrant_4x4: map hot on the top-left 2x2, mask the same quadrant
  const r = saliencyInMask(
    map(4, 4, (x, y) => (topLeft(2)(x, y) ? 1 + x + y : 0)),
    mask(4, 4, topLeft(2)),
  );
  close(r.energyShare, 1, 'energy share');
  close(r.areaShare, 0.25, 'area share');
  close(r.enrichment, 4, 'enrichment');
  assert.equal(r.pointingHit, true);
});

void test('a uniform map scores chance: energy share = area share, enrichment 1', () => {
  const cases: [string, Img<Float32Array>, Img<Uint8Array>][] = [
    ['uniform_4x4, 3-pixel mask', map(4, 4, () => 0.5), mask(4, 4, (x, y) => y === 3 && x > 0)],
    [
      'uniform_8x8 to a 16x16 disk mask',
      map(8, 8, () => 1),
      mask(16, 16, (x, y) => (x - 8) ** 2 + (y - 8) ** 2 < 25),
    ],
    ['uniform_7x7 to a 224x225 rounded resize', map(7, 7, () => 0.2), mask(224, 225, (x) => x < 100)],
  ];
  for (const [what, m, k] of cases) {
    const r = saliencyInMask(m, k);
    close(r.energyShare, r.areaShare, `${what}: energy vs area`, 1e-6);
    close(r.enrichment, 1, `${what}: enrichment`, 1e-6);
  }
});

void test('the map is resampled bilinearly (half-pixel centres) to the mask size', () => {
  // single_hot_2x2 upsampled to 4x4: weights of source pixel 0 along an axis are [1, .75, .25, 0], so the map sums
  // to 2² = 4 and its top-left quadrant to 1.75² = 3.0625.
  const r = saliencyInMask(
    map(2, 2, (x, y) => (x === 0 && y === 0 ? 1 : 0)),
    mask(4, 4, topLeft(2)),
  );
  close(r.energyShare, 3.0625 / 4, 'energy share');
  assert.equal(r.pointingHit, true);
});

void test('the pointing game hits within the tolerance radius of the mask', () => {
  // peak_at_origin_8x8: maximum at (0, 0); the mask is columns 3..7, three pixels away
  const m = map(8, 8, (x, y) => (x === 0 && y === 0 ? 1 : 0.1));
  const k = mask(8, 8, (x) => x >= 3);
  const cases: [number, boolean][] = [
    [0, false],
    [2.9, false],
    [3, true],
    [15, true],
  ];
  for (const [tolerancePx, hit] of cases)
    assert.equal(saliencyInMask(m, k, { tolerancePx }).pointingHit, hit, `tolerance ${tolerancePx}`);
});

void test('a plateau maximum is its first pixel in row-major order', () => {
  const plateau = map(4, 1, (x) => (x === 1 || x === 3 ? 1 : 0.5));
  assert.equal(
    saliencyInMask(
      plateau,
      mask(4, 1, (x) => x === 1),
    ).pointingHit,
    true,
  );
  assert.equal(
    saliencyInMask(
      plateau,
      mask(4, 1, (x) => x === 3),
    ).pointingHit,
    false,
  );
});

void test('inputs that cannot be scored raise SaliencyError', () => {
  const ok = map(4, 4, () => 1);
  const okMask = mask(4, 4, topLeft(2));
  const bad: [string, () => unknown][] = [
    [
      'empty mask',
      () =>
        saliencyInMask(
          ok,
          mask(4, 4, () => false),
        ),
    ],
    [
      'all-zero map',
      () =>
        saliencyInMask(
          map(4, 4, () => 0),
          okMask,
        ),
    ],
    [
      'negative value',
      () =>
        saliencyInMask(
          map(4, 4, (x) => x - 1),
          okMask,
        ),
    ],
    [
      'NaN value',
      () =>
        saliencyInMask(
          map(4, 4, () => Number.NaN),
          okMask,
        ),
    ],
    [
      'different aspect',
      () =>
        saliencyInMask(
          ok,
          mask(8, 12, () => true),
        ),
    ],
    ['data length', () => saliencyInMask({ width: 4, height: 4, data: new Float32Array(15) }, okMask)],
    ['zero size', () => saliencyInMask({ width: 0, height: 0, data: new Float32Array(0) }, okMask)],
    ['negative tolerance', () => saliencyInMask(ok, okMask, { tolerancePx: -1 })],
    ['nothing to summarise', () => summariseSaliencyInMask([])],
  ];
  for (const [what, f] of bad) assert.throws(f, SaliencyError, what);
});

void test('the summary averages the shares and counts pointing hits', () => {
  const s = summariseSaliencyInMask([
    { energyShare: 1, areaShare: 0.25, enrichment: 4, pointingHit: true },
    { energyShare: 0.5, areaShare: 0.5, enrichment: 1, pointingHit: false },
  ]);
  assert.deepEqual(s, {
    n: 2,
    meanEnergyShare: 0.75,
    meanAreaShare: 0.375,
    meanEnrichment: 2.5,
    pointingHitRate: 0.5,
  });
});
