import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adjustIntensity,
  applyAugmentation,
  augment,
  augmentationInverseMatrix,
  AugmentationError,
  identityParams,
  randomCrop,
  sampleAugmentation,
  validateAugmentation,
  warpAffine,
  type GrayImage,
} from '../../src/preprocess/index.js';
import { Rng } from '../../src/train/index.js';
import { HAND_BONE_AGE_RECIPE } from '../../src/tasks/index.js';

/** The shipped task recipe's ranges, as the trainer receives them. */
const HAND_AUGMENTATION = HAND_BONE_AGE_RECIPE.augmentation;

/** ramp_WxH: pixel (x, y) = (y * W + x) / (W * H), distinct everywhere. */
function ramp(w: number, h: number): GrayImage {
  return { width: w, height: h, data: Float32Array.from({ length: w * h }, (_, i) => i / (w * h)) };
}
const px = (img: GrayImage, x: number, y: number): number => img.data[y * img.width + x] as number;

void test('identity parameters reproduce the image bit for bit', () => {
  const img = ramp(7, 5);
  const out = applyAugmentation(img, identityParams(7, 5));
  assert.deepEqual(out.data, img.data);
});

void test('integer translations shift pixels exactly and fill the uncovered border', () => {
  const img = ramp(6, 5);
  const out = applyAugmentation(img, { ...identityParams(6, 5), translateXPx: 2, translateYPx: 1 }, -1);
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 6; x++) {
      const expected = x >= 2 && y >= 1 ? px(img, x - 2, y - 1) : -1;
      assert.equal(px(out, x, y), expected === -1 ? 0 : expected, `(${x}, ${y})`); // fill -1 clipped to 0 by intensity step
    }
  }
});

void test('a half-pixel shift averages neighbours (bilinear)', () => {
  const img = ramp(4, 1);
  const out = applyAugmentation(img, { ...identityParams(4, 1), translateXPx: 0.5 });
  for (let x = 1; x < 4; x++) assert.ok(Math.abs(px(out, x, 0) - (px(img, x - 1, 0) + px(img, x, 0)) / 2) < 1e-6);
});

void test('rotation by 90 degrees about the centre moves corners as expected', () => {
  const img = ramp(3, 3); // values 0/9 .. 8/9
  const out = applyAugmentation(img, { ...identityParams(3, 3), rotationDeg: 90 });
  // output (0,0) samples input (0,2); output (2,0) samples input (0,0); centre stays
  assert.ok(Math.abs(px(out, 0, 0) - px(img, 0, 2)) < 1e-6);
  assert.ok(Math.abs(px(out, 2, 0) - px(img, 0, 0)) < 1e-6);
  assert.ok(Math.abs(px(out, 1, 1) - px(img, 1, 1)) < 1e-6);
  const full = applyAugmentation(img, { ...identityParams(3, 3), rotationDeg: 360 });
  full.data.forEach((v, i) => assert.ok(Math.abs(v - (img.data[i] as number)) < 1e-6));
});

void test('scaling keeps the centre pixel and magnifies around it', () => {
  const img = ramp(5, 5);
  const out = applyAugmentation(img, { ...identityParams(5, 5), scale: 2 });
  assert.equal(px(out, 2, 2), px(img, 2, 2));
  // output (0, 2) is 2 px left of centre -> input 1 px left of centre
  assert.ok(Math.abs(px(out, 0, 2) - px(img, 1, 2)) < 1e-6);
});

void test('the crop window of the parameters is cut from the warped image', () => {
  const img = ramp(6, 6);
  const out = applyAugmentation(img, { ...identityParams(6, 6), cropX: 1, cropY: 2, outWidth: 3, outHeight: 2 });
  assert.equal(out.width, 3);
  assert.equal(out.height, 2);
  assert.deepEqual([...out.data], [px(img, 1, 2), px(img, 2, 2), px(img, 3, 2), px(img, 1, 3), px(img, 2, 3), px(img, 3, 3)]);
});

void test('left-right flips are refused unless laterality was normalised, and mirror exactly when allowed', () => {
  assert.throws(
    () => validateAugmentation({ ...HAND_AUGMENTATION, flipLeftRightProbability: 0.5 }),
    (e: unknown) => e instanceof AugmentationError && /lateralityNormalised/.test(e.message),
  );
  validateAugmentation({ ...HAND_AUGMENTATION, flipLeftRightProbability: 0.5, lateralityNormalised: true });
  const img = ramp(4, 2);
  const out = applyAugmentation(img, { ...identityParams(4, 2), flipLeftRight: true });
  for (let y = 0; y < 2; y++) for (let x = 0; x < 4; x++) assert.equal(px(out, x, y), px(img, 3 - x, y));
});

void test('the default augmentation never flips', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 200; i++) assert.equal(sampleAugmentation(rng, HAND_AUGMENTATION, 64, 64).flipLeftRight, false);
});

void test('sampled parameters are reproducible and inside the configured ranges', () => {
  const cfg = { ...HAND_AUGMENTATION, cropSize: [48, 40] as const };
  const a = sampleAugmentation(new Rng(9), cfg, 64, 64);
  assert.deepEqual(sampleAugmentation(new Rng(9), cfg, 64, 64), a);
  const rng = new Rng(10);
  for (let i = 0; i < 500; i++) {
    const p = sampleAugmentation(rng, cfg, 64, 64);
    assert.ok(Math.abs(p.rotationDeg) <= cfg.rotationDeg);
    assert.ok(p.scale >= cfg.scale[0] && p.scale <= cfg.scale[1]);
    assert.ok(Math.abs(p.translateXPx) <= cfg.translate * 64);
    assert.ok(p.gamma >= cfg.gamma[0] && p.gamma <= cfg.gamma[1]);
    assert.ok(p.cropX >= 0 && p.cropX <= 16 && p.cropY >= 0 && p.cropY <= 24);
    assert.equal(p.outWidth, 48);
  }
  const img = augment(ramp(64, 64), new Rng(1), cfg);
  assert.equal(img.data.length, 48 * 40);
  assert.ok(img.data.every((v) => v >= 0 && v <= 1));
});

void test('intensity: gamma, contrast about the mean, brightness, clipping', () => {
  const flat = { width: 2, height: 1, data: Float32Array.from([0.5, 0.5]) };
  assert.deepEqual([...adjustIntensity(flat, { gamma: 2, contrast: 1, brightness: 0 }).data], [0.25, 0.25]);
  const two = { width: 2, height: 1, data: Float32Array.from([0.25, 0.75]) };
  const c = adjustIntensity(two, { gamma: 1, contrast: 2, brightness: 0.1 }).data;
  assert.ok(Math.abs((c[0] as number) - 0.1) < 1e-6 && (c[1] as number) === 1, `${[...c]}`); // 0.5 + 2(-0.25) + 0.1 ; 0.5 + 0.5 + 0.1 -> clip
});

void test('randomCrop cuts an existing window; a crop larger than the image is refused', () => {
  const img = ramp(8, 6);
  const out = randomCrop(img, 3, 2, new Rng(4));
  const first = out.data[0] as number;
  const idx = img.data.indexOf(first);
  const x0 = idx % 8;
  const y0 = Math.floor(idx / 8);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) assert.equal(px(out, x, y), px(img, x0 + x, y0 + y));
  assert.throws(() => randomCrop(img, 9, 2, new Rng(1)), AugmentationError);
});

void test('invalid ranges name the field', () => {
  assert.throws(() => validateAugmentation({ ...HAND_AUGMENTATION, scale: [1.2, 0.8] }), /scale range/);
  assert.throws(() => validateAugmentation({ ...HAND_AUGMENTATION, gamma: [0, 1] }), /gamma range/);
  assert.throws(() => validateAugmentation({ ...HAND_AUGMENTATION, rotationDeg: -1 }), /rotationDeg/);
});

void test('the warp equals plain bilinear sampling with fill outside, and gamma equals v ** γ, on random images and parameters', () => {
  // reference: each output pixel sampled from its four neighbours, any neighbour outside the image reading `fill`
  const reference = (img: { width: number; height: number; data: Float32Array }, m: readonly number[], fill: number): Float32Array => {
    const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
    const px = (x: number, y: number): number => (x >= 0 && x < img.width && y >= 0 && y < img.height ? (img.data[y * img.width + x] as number) : fill);
    return Float32Array.from({ length: img.width * img.height }, (_, i) => {
      const u = i % img.width;
      const v = Math.floor(i / img.width);
      const x = a * u + b * v + c;
      const y = d * u + e * v + f;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      return (px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx) * (1 - fy) + (px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx) * fy;
    });
  };
  const rng = new Rng(5);
  let worstWarp = 0;
  let worstGamma = 0;
  for (let k = 0; k < 40; k++) {
    const width = 20 + k;
    const height = 50 - k / 2;
    const img = { width, height: Math.round(height), data: Float32Array.from({ length: width * Math.round(height) }, () => rng.uniform(0, 1)) };
    const p = sampleAugmentation(rng, { ...HAND_AUGMENTATION, rotationDeg: 30, translate: 0.2 }, img.width, img.height);
    const m = augmentationInverseMatrix(p, img.width, img.height);
    const fill = k % 2 === 0 ? 0 : 0.25;
    const ours = warpAffine(img, m, img.width, img.height, fill).data;
    reference(img, m, fill).forEach((r, i) => (worstWarp = Math.max(worstWarp, Math.abs(r - (ours[i] as number)))));
    const g = adjustIntensity(img, { gamma: p.gamma, contrast: 1, brightness: 0 }).data;
    // contrast 1 and brightness 0 still re-centre on the mean: (v - m) * 1 + m, exact up to one rounding
    img.data.forEach((v, i) => (worstGamma = Math.max(worstGamma, Math.abs(Math.fround(v ** p.gamma) - (g[i] as number)))));
  }
  assert.ok(worstWarp < 1e-6, `max |warp − bilinear reference| = ${worstWarp}`);
  assert.ok(worstGamma < 1e-6, `max |gamma − v ** γ| = ${worstGamma}`);
});
