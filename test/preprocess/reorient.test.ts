import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inverseReorientation, reorientImage, reorientRadiograph, type Reorientation } from '../../src/preprocess/index.js';
import type { Radiograph } from '../../src/radiograph/index.js';

// 3 wide, 2 tall:  1 2 3
//                  4 5 6
const IMAGE = { width: 3, height: 2, data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
const values = (o: Reorientation): { w: number; h: number; v: number[] } => {
  const r = reorientImage(IMAGE, o);
  return { w: r.width, h: r.height, v: [...r.data] };
};

void test('quarter turns clockwise, the mirror and the inversion move pixels as a person would turn the film', () => {
  assert.deepEqual(values({ quarterTurns: 1, mirror: false, invert: false }), { w: 2, h: 3, v: [4, 1, 5, 2, 6, 3] });
  assert.deepEqual(values({ quarterTurns: 2, mirror: false, invert: false }), { w: 3, h: 2, v: [6, 5, 4, 3, 2, 1] });
  assert.deepEqual(values({ quarterTurns: 3, mirror: false, invert: false }), { w: 2, h: 3, v: [3, 6, 2, 5, 1, 4] });
  assert.deepEqual(values({ quarterTurns: 0, mirror: true, invert: false }), { w: 3, h: 2, v: [3, 2, 1, 6, 5, 4] });
  // mirror first, then the turn
  assert.deepEqual(values({ quarterTurns: 1, mirror: true, invert: false }), { w: 2, h: 3, v: [6, 3, 5, 2, 4, 1] });
  const inv = reorientImage({ width: 2, height: 1, data: Float32Array.from([0.25, 1]) }, { quarterTurns: 0, mirror: false, invert: true });
  assert.deepEqual([...inv.data], [0.75, 0]);
  assert.throws(() => reorientImage(IMAGE, { quarterTurns: 4, mirror: false, invert: false }), { name: 'PreprocessError' });
});

void test('the inverse reorientation undoes every combination of turn and mirror', () => {
  for (const quarterTurns of [0, 1, 2, 3]) {
    for (const mirror of [false, true]) {
      const o = { quarterTurns, mirror, invert: true };
      const back = reorientImage(reorientImage(IMAGE, o), inverseReorientation(o));
      assert.deepEqual([...back.data], [...IMAGE.data], JSON.stringify(o));
      assert.equal(back.width, 3);
    }
  }
});

void test('a radiograph turns with its spacing, and inverts by its photometric interpretation, not its pixels', () => {
  const r = {
    source: 'x',
    format: 'dicom',
    rows: 2,
    columns: 3,
    pixels: Float32Array.from([1, 2, 3, 4, 5, 6]),
    photometric: 'MONOCHROME2',
    voi: { kind: 'range', min: 0, max: 6 },
    metadata: { spacing: { rowMm: 0.1, columnMm: 0.2, source: 'PixelSpacing' }, laterality: 'R' },
  } as unknown as Radiograph;
  const t = reorientRadiograph(r, { quarterTurns: 1, mirror: false, invert: true });
  assert.equal(t.rows, 3);
  assert.equal(t.columns, 2);
  assert.deepEqual([...t.pixels], [4, 1, 5, 2, 6, 3]);
  assert.equal(t.photometric, 'MONOCHROME1');
  assert.deepEqual(t.metadata.spacing, { rowMm: 0.2, columnMm: 0.1, source: 'PixelSpacing' });
  assert.deepEqual([...r.pixels], [1, 2, 3, 4, 5, 6], 'the input is not changed');
});
