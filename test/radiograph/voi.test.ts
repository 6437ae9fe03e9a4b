import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyWindow, readRadiographBytes, toDisplay, type Radiograph } from '../../src/radiograph/index.js';
import { writeImage, type El } from './dicom-writer.js';

const close = (a: number, b: number, tol = 1e-6): boolean => Math.abs(a - b) <= tol;

// PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT), C.11.2.1.3.1 (SIGMOID), evaluated by hand.
const WINDOW_CASES = [
  { fn: 'LINEAR', c: 100, w: 51, x: [74, 75, 99.5, 100, 125, 126], y: [0, 0.01, 0.5, 0.51, 1, 1] },
  { fn: 'LINEAR_EXACT', c: 100, w: 50, x: [74, 75, 100, 112.5, 125, 126], y: [0, 0, 0.5, 0.75, 1, 1] },
  {
    fn: 'SIGMOID',
    c: 100,
    w: 50,
    x: [100, 125, 75],
    y: [0.5, 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(2))],
  },
] as const;
for (const { fn, c, w, x, y } of WINDOW_CASES) {
  void test(`applyWindow ${fn} c=${c} w=${w} follows PS3.3`, () => {
    const out = applyWindow(Float32Array.from(x), { center: c, width: w }, fn, new Float32Array(x.length));
    out.forEach((v, i) => assert.ok(close(v, y[i] ?? NaN, 1e-6), `${fn} x=${x[i]}: got ${v}, want ${y[i]}`));
  });
}

async function image(
  photometric: string,
  extra: El[] = [],
  windows = [{ center: 2048, width: 4096 }],
): Promise<Radiograph> {
  return readRadiographBytes(
    writeImage({ rows: 1, columns: 3, bitsStored: 12, values: [0, 2048, 4095], photometric, windows, extra }),
    `${photometric}.dcm`,
  );
}

void test('MONOCHROME2: low stored values are dark, high are bright', async () => {
  const d = toDisplay(await image('MONOCHROME2'));
  assert.ok((d[0] ?? 1) < 0.01 && (d[2] ?? 0) > 0.99, `got ${Array.from(d)}`);
});

void test('MONOCHROME1 is inverted exactly once, after the VOI (bone bright)', async () => {
  const m1 = await image('MONOCHROME1', [], [{ center: 1000, width: 1000 }]);
  const m2 = await image('MONOCHROME2', [], [{ center: 1000, width: 1000 }]);
  const d1 = toDisplay(m1);
  const d2 = toDisplay(m2);
  // Inverting after the window: 1 - window(x). Inverting before would give window(4095 - x) instead.
  d1.forEach((v, i) => assert.ok(close(v, 1 - (d2[i] ?? 0)), `pixel ${i}: ${v} vs 1 - ${d2[i]}`));
  assert.equal(d1[0], 1); // stored 0 in MONOCHROME1 is white
  assert.equal(d1[2], 0);
});

void test('the second window is used when asked for', async () => {
  const r = await image(
    'MONOCHROME2',
    [],
    [
      { center: 2048, width: 4096 },
      { center: 4095, width: 2 },
    ],
  );
  const first = toDisplay(r, { voiIndex: 0 });
  assert.ok(close(first[1] ?? 0, (2048 - 2047.5) / 4095 + 0.5), `window 1 at 2048: ${first[1]}`);
  assert.deepEqual(Array.from(toDisplay(r, { voiIndex: 1 })), [0, 0, 1]);
});

void test('a VOI LUT Sequence maps values through the table and scales by its bit depth', async () => {
  const lut: El[] = [
    { tag: 0x00283002, vr: 'US', value: [3, 0, 8] },
    { tag: 0x00283006, vr: 'OW', value: [0, 51, 255] },
  ];
  const r = await readRadiographBytes(
    writeImage({
      rows: 1,
      columns: 4,
      values: [0, 1, 2, 9],
      extra: [{ tag: 0x00283010, vr: 'SQ', value: [lut] }],
    }),
    'voilut.dcm',
  );
  assert.equal(r.voi.kind, 'lut');
  assert.deepEqual(Array.from(toDisplay(r)), Array.from(Float32Array.from([0, 51 / 255, 1, 1])));
});

void test('without VOI the image range maps to [0, 1]', async () => {
  const r = await readRadiographBytes(
    writeImage({ rows: 1, columns: 3, values: [100, 150, 200] }),
    'novoi.dcm',
  );
  assert.deepEqual(r.voi, { kind: 'range', min: 100, max: 200 });
  assert.deepEqual(Array.from(toDisplay(r)), [0, 0.5, 1]);
});
