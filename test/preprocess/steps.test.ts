import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PreprocessError,
  clahe,
  cropImage,
  flipHorizontal,
  foregroundBox,
  normalizeLaterality,
  normalizePercentiles,
  otsuThreshold,
  percentiles,
  resize,
  resizeToSquare,
  stripUniformBorders,
} from '../../src/preprocess/index.js';
import { assertGolden } from './golden.js';
import {
  checkerboard,
  collimatedDisk,
  hashNoise,
  lowContrast32,
  make,
  ramp32,
  rampOutliers32,
  rescaleIntensity,
} from './synthetic.js';

// Golden images: one per step on a synthetic input named by its parameters.
const GOLDEN_CASES = [
  { name: 'normalize_p0.5-99.5_ramp_with_outliers_32x32', run: () => normalizePercentiles(rampOutliers32()) },
  {
    name: 'clahe_tiles4_clip2_lowContrast_sine_32x32',
    run: () => clahe(lowContrast32(), { tiles: 4, clipLimit: 2 }),
  },
  {
    name: 'crop_foreground_disk_r8_collimated_48x40',
    run: () => cropImage(collimatedDisk(), foregroundBox(collimatedDisk())),
  },
  { name: 'resize_square24_checkerboard_4px_32x20', run: () => resizeToSquare(checkerboard(), 24).image },
  { name: 'resize_up_48x48_ramp_32x32', run: () => resize(ramp32(), 48, 48) },
  { name: 'flip_ramp_32x32', run: () => flipHorizontal(ramp32()) },
];
for (const { name, run } of GOLDEN_CASES) {
  void test(`golden: ${name}`, () => assertGolden(name, run()));
}

void test('percentiles agree with the exact sorted percentile within one histogram bin', () => {
  const data = Float32Array.from({ length: 10_000 }, (_, i) => Math.exp(3 * hashNoise(i)));
  const sorted = Float64Array.from(data).sort();
  const binWidth = ((sorted[sorted.length - 1] ?? 0) - (sorted[0] ?? 0)) / 4096;
  for (const p of [0.5, 5, 50, 95, 99.5]) {
    const exact = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
    const [got = NaN] = percentiles(data, [p]);
    assert.ok(Math.abs(got - exact) <= 2 * binWidth, `p${p}: ${got} vs ${exact}`);
  }
});

void test('percentile normalisation ignores a hot and a dead pixel', () => {
  const input = rampOutliers32();
  const before = input.data.slice();
  const out = normalizePercentiles(input, { lowPercentile: 1, highPercentile: 99 });
  assert.deepEqual(input.data, before, 'the input is not modified unless inPlace is asked for');
  // Without robustness the ramp would be squeezed into ~0.5 ± 0.004.
  const row = Array.from(out.data.subarray(10 * 32, 11 * 32));
  assert.ok((row[0] ?? 1) < 0.05 && (row[31] ?? 0) > 0.95, `row: ${row[0]} .. ${row[31]}`);
});

void test('CLAHE stays in [0, 1] and raises the contrast of a low-contrast image', () => {
  const input = lowContrast32();
  const out = clahe(input, { tiles: 4 });
  const std = (d: Float32Array): number => {
    const m = d.reduce((a, b) => a + b, 0) / d.length;
    return Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / d.length);
  };
  assert.ok(out.data.every((v) => v >= 0 && v <= 1));
  assert.ok(std(out.data) > 3 * std(input.data), `std ${std(out.data)} vs ${std(input.data)}`);
});

void test('foreground crop strips the collimator band and keeps the whole disk', () => {
  const img = collimatedDisk();
  const inner = stripUniformBorders(img);
  assert.deepEqual(inner, { x: 5, y: 4, width: 43, height: 36 });
  const box = foregroundBox(img, { marginFraction: 0 });
  // The disk spans x 18..34, y 14..30.
  assert.ok(box.x <= 18 && box.x + box.width >= 35, JSON.stringify(box));
  assert.ok(box.y <= 14 && box.y + box.height >= 31, JSON.stringify(box));
  assert.ok(box.x >= 5 && box.y >= 4 && box.width < 30 && box.height < 30, JSON.stringify(box));
});

void test('foreground crop falls back to the whole image when there is no foreground', () => {
  const flat = make(20, 20, () => 0.3);
  const box = foregroundBox(flat);
  assert.ok(box.width >= 1 && box.height >= 1 && box.x + box.width <= 20 && box.y + box.height <= 20);
});

// The same film under affine intensity maps a·x + b: each must crop like the full-range film. Before the crop
// normalised narrow ranges, [0, 1/16] collapsed to a 1x1 box and [0.4, 0.6] lost the disk's edge rows.
const INTENSITY_SCALES: readonly { name: string; lo: number; hi: number }[] = [
  { name: '12 bits in a 16-bit PNG, [0, 4095/65535]', lo: 0, hi: 4095 / 65535 },
  { name: '8 bits in a 16-bit PNG, [0, 255/65535]', lo: 0, hi: 255 / 65535 },
  { name: 'low-contrast window, [0.4, 0.6]', lo: 0.4, hi: 0.6 },
  { name: 'inverted offset, [-0.2, -0.1]', lo: -0.2, hi: -0.1 },
  { name: 'raw 12-bit modality values, [0, 4095]', lo: 0, hi: 4095 },
  { name: 'Hounsfield-like, [-1000, 3000]', lo: -1000, hi: 3000 },
];
for (const scale of [1, 5]) {
  const fullRange = rescaleIntensity(collimatedDisk(scale), 0, 1);
  for (const { name, lo, hi } of INTENSITY_SCALES) {
    void test(`foreground crop of disk_collimated x${scale} in ${name} equals the full-range crop`, () => {
      const expected = foregroundBox(fullRange);
      assert.ok(
        expected.width < fullRange.width && expected.height < fullRange.height,
        JSON.stringify(expected),
      );
      assert.deepEqual(foregroundBox(rescaleIntensity(fullRange, lo, hi)), expected);
    });
  }
}

void test('a film spanning at least a quarter of [0, 1] keeps the absolute border threshold (8-bit crops unchanged)', () => {
  // disk_collimated in [0, 0.7] under a 4-row band of std 0.015 (display units): below the absolute 0.02, so
  // stripped as before; normalising this film to [0, 1] would raise the band's std to 0.021 and keep it.
  const film = rescaleIntensity(collimatedDisk(), 0, 0.7);
  const img = make(48, 44, (x, y) =>
    y < 4 ? 0.25 + 0.026 * hashNoise(y * 48 + x) : (film.data[(y - 4) * 48 + x] ?? 0),
  );
  assert.deepEqual(stripUniformBorders(img), { x: 5, y: 8, width: 43, height: 36 });
  const box = foregroundBox(img);
  assert.ok(box.y >= 8, JSON.stringify(box));
});

void test('Otsu splits a two-level image between its levels', () => {
  const t = otsuThreshold(Float32Array.from({ length: 100 }, (_, i) => (i < 60 ? 0.2 : 0.8)));
  assert.ok(t > 0.2 && t <= 0.8, `threshold ${t}`);
});

void test('resize keeps a constant image constant and preserves the mean when shrinking', () => {
  const c = resize(
    make(37, 23, () => 0.42),
    11,
    7,
  );
  assert.ok(c.data.every((v) => Math.abs(v - 0.42) < 1e-6));
  const cb = resize(checkerboard(), 8, 5); // 4x reduction: each output averages whole squares -> ~0.5
  const mean = cb.data.reduce((a, b) => a + b, 0) / cb.data.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});

void test('resizeToSquare letterboxes a landscape image centred with the pad value', () => {
  const { image, transform } = resizeToSquare(
    make(40, 20, () => 1),
    20,
    0,
  );
  assert.deepEqual(transform, { scale: 0.5, offsetX: 0, offsetY: 5, contentWidth: 20, contentHeight: 10 });
  assert.equal(image.data[0], 0); // padding row
  assert.equal(image.data[5 * 20], 1); // first content row
  assert.equal(image.data[15 * 20], 0); // padding after content
});

const LATERALITY_CASES: ['L' | 'R' | 'U' | null, 'L' | 'R', boolean][] = [
  ['R', 'L', true],
  ['L', 'L', false],
  ['L', 'R', true],
  ['U', 'L', false],
  [null, 'L', false],
];
for (const [side, target, flips] of LATERALITY_CASES) {
  void test(`laterality ${side} with target ${target} ${flips ? 'mirrors' : 'keeps'} the image`, () => {
    const { image, flipped } = normalizeLaterality(ramp32(), side, target);
    assert.equal(flipped, flips);
    assert.equal(image.data[0], flips ? 1 : 0);
  });
}

const BAD_ARGS: [string, () => unknown][] = [
  ['resize to 0x5', () => resize(ramp32(), 0, 5)],
  ['square size 1.5', () => resizeToSquare(ramp32(), 1.5)],
  [
    'percentiles low >= high',
    () => normalizePercentiles(ramp32(), { lowPercentile: 50, highPercentile: 50 }),
  ],
  ['CLAHE 64 tiles on 32x32', () => clahe(ramp32(), { tiles: 64 })],
  ['crop outside the image', () => cropImage(ramp32(), { x: 30, y: 0, width: 5, height: 5 })],
];
for (const [name, fn] of BAD_ARGS) {
  void test(`PreprocessError: ${name}`, () => assert.throws(fn, PreprocessError));
}
