import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { displayImage, normalizePercentiles, preprocess } from '../../src/preprocess/index.js';
import {
  EMPTY_METADATA,
  encodeGrayPng,
  readPng,
  readRadiograph,
  type Radiograph,
} from '../../src/radiograph/index.js';
import { assertGolden } from './golden.js';
import { collimatedDisk, rescaleIntensity } from './synthetic.js';

/** A synthetic right-side radiograph in modality units with a window, MONOCHROME1 (so inversion matters). */
function syntheticRadiograph(photometric: 'MONOCHROME1' | 'MONOCHROME2', laterality: 'L' | 'R'): Radiograph {
  const img = collimatedDisk();
  // Stored so that MONOCHROME1 displays the disk bright: low values for dense structures.
  const pixels = Float32Array.from(img.data, (v) =>
    photometric === 'MONOCHROME1' ? (1 - v) * 1000 : v * 1000,
  );
  return {
    source: `disk_r8_collimated_48x40_${photometric}_${laterality}`,
    format: 'dicom',
    rows: img.height,
    columns: img.width,
    pixels,
    photometric,
    voi: {
      kind: 'window',
      windows: [{ center: 500, width: 1000, explanation: null }],
      function: 'LINEAR_EXACT',
    },
    metadata: { ...EMPTY_METADATA, laterality, lateralitySource: 'ImageLaterality' },
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    numberOfFrames: 1,
    warnings: [],
  };
}

void test('golden: preprocess size 32 of disk_r8_collimated_48x40 (MONOCHROME1, right -> mirrored)', () => {
  const result = preprocess(syntheticRadiograph('MONOCHROME1', 'R'), { size: 32 });
  assert.deepEqual(result.tensor.shape, [1, 32, 32]);
  assert.equal(result.flipped, true);
  assertGolden('preprocess_size32_disk_r8_collimated_48x40_M1_R', result.image);
});

void test('MONOCHROME1 and MONOCHROME2 encodings of the same anatomy preprocess to the same tensor', () => {
  const a = preprocess(syntheticRadiograph('MONOCHROME1', 'L'), { size: 32 }).tensor.data;
  const b = preprocess(syntheticRadiograph('MONOCHROME2', 'L'), { size: 32 }).tensor.data;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  assert.ok(worst < 1e-5, `worst difference ${worst}`);
});

void test('a right image is mirrored to the left exactly once', () => {
  const right = preprocess(syntheticRadiograph('MONOCHROME2', 'R'), { size: 32, crop: false });
  const left = preprocess(syntheticRadiograph('MONOCHROME2', 'L'), { size: 32, crop: false });
  assert.equal(right.flipped, true);
  assert.equal(left.flipped, false);
  // Same pixels, different laterality: the right one must come out as the mirror image of the left one.
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const a = right.image.data[y * 32 + x] ?? 0;
      const b = left.image.data[y * 32 + 31 - x] ?? 0;
      assert.ok(Math.abs(a - b) < 1e-6, `(${x}, ${y}): ${a} vs mirrored ${b}`);
    }
  }
});

const SAMPLE = fileURLToPath(new URL('../../samples/hand-0.png', import.meta.url));
void test(
  'the shipped sample hand preprocesses to a 1x512x512 tensor in [0, 1]',
  { skip: existsSync(SAMPLE) ? false : 'samples/hand-0.png missing' },
  async () => {
    const r = await readRadiograph(SAMPLE);
    const { tensor, crop } = preprocess(r);
    assert.deepEqual(tensor.shape, [1, 512, 512]);
    assert.ok(tensor.data.every((v) => v >= 0 && v <= 1));
    assert.ok(
      crop.width < r.columns && crop.height < r.rows,
      `the hand is cropped from its dark border: ${JSON.stringify(crop)}`,
    );
  },
);

void test('a 12-bit film in a 16-bit PNG (display values in [0, 1/16]) crops like its 8-bit version', () => {
  const film = rescaleIntensity(collimatedDisk(5), 0, 1);
  const png8 = encodeGrayPng(film.width, film.height, film.data, 8);
  const r8 = readPng(png8, 'disk_r40_collimated_240x200_8bit.png', null, 1 << 24);
  // The same stored values times 16: a 12-bit range (0..4080) in a 16-bit PNG, as a 12-bit detector exports it.
  const stored12 = Float32Array.from(r8.pixels, (v) => (v * 16) / 65535);
  const png16 = encodeGrayPng(film.width, film.height, stored12, 16);
  const r16 = readPng(png16, 'disk_r40_collimated_240x200_12in16bit.png', null, 1 << 24);
  assert.equal(Math.max(...r16.pixels), 255 * 16);
  const crop8 = preprocess(r8, { size: 64 }).crop;
  assert.ok(crop8.width < film.width && crop8.height < film.height, JSON.stringify(crop8));
  assert.deepEqual(preprocess(r16, { size: 64 }).crop, crop8);
});

void test('golden: fit stretch squashes the whole film to the square via 24 px (cubic), no crop, no padding', () => {
  const result = preprocess(syntheticRadiograph('MONOCHROME2', 'L'), { size: 32, fit: 'stretch', stretchVia: 24, crop: false });
  assert.deepEqual(result.tensor.shape, [1, 32, 32]);
  assert.deepEqual(result.letterbox, { scale: 32 / 48, offsetX: 0, offsetY: 0, contentWidth: 32, contentHeight: 32 });
  assert.ok(result.image.data.every((v) => v >= 0 && v <= 1), 'the cubic step is clipped to [0, 1], as PIL clips to 8 bits');
  assertGolden('preprocess_stretch32_via24_disk_r8_collimated_48x40', result.image);
});

void test('fit stretch: a film already at stretchVia passes the first step unchanged; letterbox keeps the aspect', () => {
  const square = { ...syntheticRadiograph('MONOCHROME2', 'L'), rows: 40, columns: 40 };
  square.pixels = square.pixels.slice(0, 40 * 40);
  const via = preprocess(square, { size: 56, fit: 'stretch', stretchVia: 40, crop: false });
  const direct = preprocess(square, { size: 56, fit: 'stretch', crop: false });
  assert.deepEqual([...via.image.data], [...direct.image.data]);
  const wide = syntheticRadiograph('MONOCHROME2', 'L');
  const boxed = preprocess(wide, { size: 32, crop: false });
  assert.ok(boxed.letterbox.offsetY > 0, 'letterbox pads a wide film');
  const stretched = preprocess(wide, { size: 32, fit: 'stretch', crop: false });
  assert.equal(stretched.letterbox.offsetY, 0);
});

void test('fit stretch via nearest: the squash only picks pixels (no new values, as PIL NEAREST); a filter Physis does not know is refused', () => {
  const film = syntheticRadiograph('MONOCHROME2', 'L');
  const o = { size: 24, fit: 'stretch', stretchVia: 24, crop: false } as const;
  const full = normalizePercentiles(displayImage(film), { range: { min: 0, max: 1 } }).data;
  const nearest = preprocess(film, { ...o, stretchFilter: 'nearest' }).image.data;
  const values = new Set(full);
  assert.ok(nearest.every((v) => values.has(v)), 'every value is one of the normalised film');
  const cubic = preprocess(film, o).image.data;
  assert.ok(cubic.some((v) => !values.has(v)), 'the default cubic squash blends pixels');
  assert.throws(() => preprocess(film, { ...o, stretchFilter: 'lanczos' as 'cubic' }), /stretchFilter lanczos must be cubic or nearest/);
});
