import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { encodeRgbaPng, heatColor, overlayHeatmap, SaliencyError } from '../../src/explain/index.js';

// ramp_4x2 image, map hot only at pixel (3, 1)
const IMAGE = { width: 4, height: 2, data: Float32Array.from([0, 0.25, 0.5, 1, 0, 0.25, 0.5, 1]) };
const MAP = { width: 4, height: 2, data: Float32Array.from([0, 0, 0, 0, 0, 0, 0, 1]) };

void test('a zero map leaves the radiograph grey; a hot pixel blends toward red by alpha', () => {
  const rgba = overlayHeatmap(IMAGE, MAP, 0.5);
  for (let i = 0; i < 7; i++) {
    const g = Math.round((IMAGE.data[i] as number) * 255);
    assert.deepEqual([...rgba.subarray(i * 4, i * 4 + 4)], [g, g, g, 255], `pixel ${i}`);
  }
  assert.deepEqual([...rgba.subarray(28, 32)], [255, 128, 128, 255]); // 0.5 * 255 + 0.5 * (255, 0, 0)
});

void test('the colour ramp runs blue -> cyan -> yellow -> red', () => {
  assert.deepEqual(heatColor(0), [0, 0, 255]);
  assert.deepEqual(heatColor(0.33), [0, 255, 255]);
  assert.deepEqual(heatColor(0.66), [255, 255, 0]);
  assert.deepEqual(heatColor(1), [255, 0, 0]);
  assert.deepEqual(heatColor(2), [255, 0, 0]);
});

void test('overlay PNG decodes back to the same pixels', () => {
  const rgba = overlayHeatmap(IMAGE, MAP);
  const png = PNG.sync.read(Buffer.from(encodeRgbaPng(rgba, 4, 2)));
  assert.equal(png.width, 4);
  assert.deepEqual([...png.data], [...rgba]);
});

void test('a map of another size is refused', () => {
  assert.throws(() => overlayHeatmap(IMAGE, { width: 2, height: 2, data: new Float32Array(4) }), SaliencyError);
});
