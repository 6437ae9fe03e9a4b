import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OodModelError } from '../../src/tasks/index.js';
import {
  checkHand,
  fitOodModel,
  mahalanobis,
  OOD_FORMAT,
  OOD_FORMAT_VERSION,
  parseOodModel,
  serializeOodModel,
  type OodFitOptions,
  type OodModel,
} from '../../src/tasks/hand-bone-age/index.js';

/** Deterministic pseudo-normal vectors (Box–Muller over a linear congruential stream). */
function gaussianRows(n: number, scales: readonly number[], seed = 1): number[][] {
  let s = seed;
  const u = (): number => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return (s + 0.5) / 4294967296;
  };
  return Array.from({ length: n }, () =>
    scales.map((sd) => sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u())),
  );
}

/** Training films' ln(width/height) for the fits below: portrait hand films, 0.61 … 1.0 wide per unit height. */
const FILM_LOG_ASPECTS = [Math.log(0.61), Math.log(0.8), Math.log(1)];
/** A 4:5 film, inside that range. */
const HAND_FILM = { width: 80, height: 100 };

function fitWithFilms(rows: readonly ArrayLike<number>[], o: OodFitOptions = {}): OodModel {
  return fitOodModel(rows, { filmLogAspects: FILM_LOG_ASPECTS, ...o });
}

void test('mahalanobis of an unshrunk fit equals the scaled distance of independent axes', () => {
  // gauss_2000x2: axes with SD 1 and 10, so the point (3, 0) and (0, 30) are equally far (≈ 3)
  const rows = gaussianRows(2000, [1, 10]);
  const m = fitWithFilms(rows);
  assert.ok(m.shrinkage < 0.05, `little shrinkage with n ≫ d, got ${m.shrinkage}`);
  const a = mahalanobis(m, [3, 0]);
  const b = mahalanobis(m, [0, 30]);
  assert.ok(Math.abs(a - 3) < 0.3 && Math.abs(b - 3) < 0.3, `${a} ${b}`);
  assert.ok(mahalanobis(m, [0, 0]) < 0.2);
});

void test('fitOodModel shrinks a rank-deficient covariance (d > n) and still gives finite distances', () => {
  const rows = gaussianRows(
    20,
    Array.from({ length: 50 }, (_, j) => 1 + j / 10),
    7,
  );
  const m = fitWithFilms(rows);
  assert.ok(m.shrinkage > 0.1 && m.shrinkage <= 1, `shrinkage ${m.shrinkage}`);
  assert.equal(m.choleskyLower.length, (50 * 51) / 2);
  const far = mahalanobis(
    m,
    Array.from({ length: 50 }, () => 100),
  );
  assert.ok(Number.isFinite(far) && far > m.threshold);
});

void test('the threshold is margin × the chosen percentile of the training distances', () => {
  const rows = gaussianRows(1000, [1, 2, 3], 3);
  const m = fitWithFilms(rows, { percentile: 0.9, margin: 1 });
  const d = rows.map((r) => mahalanobis(m, r)).sort((x, y) => x - y);
  assert.ok(Math.abs(m.threshold - (d[899] as number)) < 1e-4, `${m.threshold} vs ${d[899]}`);
  assert.equal(rows.filter((r) => mahalanobis(m, r) <= m.threshold).length, 900);
  const wide = fitWithFilms(rows, { percentile: 0.9, margin: 2 });
  assert.ok(Math.abs(wide.threshold - 2 * m.threshold) < 1e-4);
});

void test('checkHand passes near points and names the score and threshold when rejecting', () => {
  const m = fitWithFilms(gaussianRows(500, [1, 1]), { percentile: 0.99, margin: 1 });
  assert.equal(checkHand(m, [0.1, -0.2], HAND_FILM).rejected, false);
  const v = checkHand(m, [40, 0], HAND_FILM);
  assert.equal(v.rejected, true);
  assert.match(
    v.reason ?? '',
    /feature Mahalanobis distance \d+\.\d > threshold \d+\.\d \(1 × the 99\.0th percentile of 500 training hands\)/,
  );
  assert.throws(() => checkHand(m, [1], HAND_FILM), OodModelError);
  assert.throws(() => fitWithFilms([[1]]), OodModelError);
  assert.throws(() => fitWithFilms(gaussianRows(10, [1]), { margin: 0.5 }), OodModelError);
});

void test('a film outside the training films\' shape range is rejected before the feature distance, naming both', () => {
  const m = fitWithFilms(gaussianRows(200, [1, 1]), { percentile: 0.99, margin: 1 });
  const [lo, hi] = m.filmLogAspectRange ?? [Number.NaN, Number.NaN];
  assert.ok(lo <= Math.log(0.61) && Math.log(0.61) - lo < 1e-6, `lo ${lo}: the training minimum, rounded outward`);
  assert.equal(hi, 0);
  const spine = checkHand(m, [0.1, -0.2], { width: 200, height: 512 });
  assert.equal(spine.rejected, true);
  assert.match(spine.reason ?? '', /film 200x512 has ln\(width\/height\) -0\.94, outside the 200 training films' range \[-0\.49, 0\.00\]/);
  assert.equal(checkHand(m, [0.1, -0.2], { width: 62, height: 100 }).rejected, false);
  assert.equal(checkHand(m, [0.1, -0.2], { width: 101, height: 100 }).rejected, true);
  assert.throws(() => fitOodModel(gaussianRows(20, [1])), OodModelError);
});

void test('training films all of one shape (a set squashed to squares) give no shape range: no shape check, and the file round-trips', () => {
  const rows = gaussianRows(50, [1, 1]);
  const m = fitOodModel(rows, { filmLogAspects: rows.map(() => 0) });
  assert.equal(m.filmLogAspectRange, null);
  assert.equal(checkHand(m, [0.1, -0.2], { width: 200, height: 512 }).rejected, false, 'a tall film is left to the features (and the gate)');
  assert.deepEqual(parseOodModel(serializeOodModel(m), 'ood.json'), m);
});

void test('parseOodModel round-trips a fit (the factor as float32 bytes), still reads version 3, and rejects version-1 and malformed files with OodModelError', () => {
  const m = fitWithFilms(gaussianRows(100, [1, 2, 3]));
  const text = serializeOodModel(m);
  const back = parseOodModel(text, 'ood.json');
  assert.deepEqual(back, m, 'the fit keeps float32 factors, so the file gives back the same model');
  assert.equal(back.format, OOD_FORMAT);
  assert.equal(back.version, OOD_FORMAT_VERSION);
  const file = JSON.parse(text) as Record<string, unknown>;
  assert.equal(file['choleskyLower'], undefined, 'the factor is not written as decimals');
  assert.equal(Buffer.from(file['choleskyLowerFloat32'] as string, 'base64').length, 6 * 4, '3 × 4 / 2 float32 values');
  // a version-3 file (the factor as a decimal list) is read, and measures the same distances
  const v3 = Object.fromEntries(Object.entries({ ...file, version: 3, choleskyLower: m.choleskyLower }).filter(([k]) => k !== 'choleskyLowerFloat32'));
  const old = parseOodModel(JSON.stringify(v3), 'v3/ood.json');
  assert.equal(mahalanobis(old, [1, 1, 1]), mahalanobis(m, [1, 1, 1]));
  const v1 = JSON.stringify({
    descriptors: ['logFilmAspect'],
    low: [-0.3],
    high: [0.3],
    tail: 0.001,
    n: 846,
  });
  assert.throws(
    () => parseOodModel(v1, 'b/ood.json'),
    (e: unknown) =>
      e instanceof OodModelError && /b\/ood\.json: OOD file is version 1.*versions 3 and 4.*--resume/.test(e.message),
  );
  assert.throws(() => parseOodModel('{', 'x.json'), OodModelError);
  assert.throws(
    () => parseOodModel(JSON.stringify({ ...file, mean: [1] }), 'x.json'),
    /'mean' is not 3 numbers/,
  );
  // truncated bytes, a non-finite value and text that is not base64 are each refused
  const nan = Buffer.from(file['choleskyLowerFloat32'] as string, 'base64');
  nan.writeFloatLE(Number.NaN, 8);
  for (const bad of [(file['choleskyLowerFloat32'] as string).slice(0, 12), nan.toString('base64'), '#'.repeat(32)]) {
    assert.throws(
      () => parseOodModel(JSON.stringify({ ...file, choleskyLowerFloat32: bad }), 'x.json'),
      (e: unknown) => e instanceof OodModelError && /x\.json: 'choleskyLowerFloat32' is not the base64 of 6 finite float32 values/.test(e.message),
    );
  }
});
