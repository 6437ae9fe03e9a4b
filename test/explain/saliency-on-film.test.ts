/**
 * Saliency brought back onto the film: the inverse of the letterbox (padding never reaches the film), the picture
 * grid (film aspect, never enlarged), the film's display values on that grid, and the overlay picture at the film's
 * own shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayOnGrid, heatmapOnFilm, pictureGrid, saliencyOnFilm } from '../../src/explain/index.js';
import { preprocess } from '../../src/preprocess/index.js';
import type { Radiograph } from '../../src/radiograph/index.js';

/** A 16 × 8 film whose value is its column (0 … 15), so display values rise left to right. */
function wideFilm(photometric: 'MONOCHROME1' | 'MONOCHROME2' = 'MONOCHROME2'): Radiograph {
  return {
    source: 'wide',
    format: 'png',
    rows: 8,
    columns: 16,
    pixels: Float32Array.from({ length: 128 }, (_, i) => i % 16),
    photometric,
    voi: { kind: 'range', min: 0, max: 15 },
    metadata: {},
  } as unknown as Radiograph;
}

/** An 8 × 8 input map: 1 on the input's left half and on the letterbox padding rows, 0 elsewhere. */
function leftHalfMap(): Float32Array {
  return Float32Array.from({ length: 64 }, (_, i) => {
    const u = i % 8;
    const v = Math.floor(i / 8);
    return u < 4 || v < 2 || v >= 6 ? 1 : 0;
  });
}

void test('pictureGrid keeps the film aspect within the limit and never enlarges a small film', () => {
  assert.deepEqual(pictureGrid({ width: 3000, height: 1500 }, 1024), { width: 1024, height: 512 });
  assert.deepEqual(pictureGrid({ width: 1500, height: 3000 }, 1024), { width: 512, height: 1024 });
  assert.deepEqual(pictureGrid({ width: 300, height: 200 }, 1024), { width: 300, height: 200 });
});

void test('saliencyOnFilm undoes the letterbox: the input\'s left half covers the film\'s left half, and the padding never reaches the film', () => {
  const film = wideFilm();
  const pre = preprocess(film, { size: 8, crop: false });
  assert.deepEqual([pre.letterbox.offsetY, pre.letterbox.contentHeight], [2, 4], 'a 16 × 8 film letterboxed into 8 × 8: 2 padding rows above and below');
  const onFilm = saliencyOnFilm(leftHalfMap(), pre, { width: 16, height: 8 });
  for (let y = 0; y < 8; y++) {
    const row = [...onFilm.subarray(y * 16, (y + 1) * 16)];
    assert.deepEqual(row, [...Array<number>(8).fill(1), ...Array<number>(8).fill(0)], `film row ${y}`);
  }
  assert.throws(() => saliencyOnFilm(new Float32Array(10), pre, { width: 16, height: 8 }), RangeError);
});

void test('displayOnGrid samples the film\'s display values, MONOCHROME1 inverted', () => {
  const grid = { width: 4, height: 2 };
  const plain = displayOnGrid(wideFilm(), grid);
  const inverted = displayOnGrid(wideFilm('MONOCHROME1'), grid);
  // grid column centres fall on film columns 2, 6, 10 and 14 of 0 … 15
  assert.deepEqual([...plain.subarray(0, 4)], [2, 6, 10, 14].map((c) => Math.round((255 * c) / 15)));
  assert.deepEqual([...inverted.subarray(0, 4)], [2, 6, 10, 14].map((c) => Math.round(255 * (1 - c / 15))));
});

void test('heatmapOnFilm draws the film at its own shape: tinted where the map is hot, plain grey where it is 0', () => {
  const film = wideFilm();
  const pre = preprocess(film, { size: 8, crop: false });
  const picture = heatmapOnFilm(leftHalfMap(), pre, film);
  assert.deepEqual([picture.width, picture.height], [16, 8], 'the film\'s size, not the 8 × 8 input');
  assert.equal(picture.rgba.length, 16 * 8 * 4);
  const px = (x: number, y: number): number[] => [...picture.rgba.subarray((y * 16 + x) * 4, (y * 16 + x) * 4 + 4)];
  const [r, g, b, a] = px(7, 4);
  assert.ok((r as number) > (g as number) && (r as number) > (b as number), `hot (red-tinted) at the left half: ${px(7, 4).join(',')}`);
  assert.equal(a, 255);
  const grey = px(12, 4);
  assert.ok(grey[0] === grey[1] && grey[1] === grey[2], `the film's own grey at the right half: ${grey.join(',')}`);
  const small = heatmapOnFilm(leftHalfMap(), pre, film, 8);
  assert.deepEqual([small.width, small.height], [8, 4], 'a side limit shrinks the picture with the film\'s aspect');
});
