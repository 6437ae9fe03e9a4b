import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import {
  CodecError,
  MetadataError,
  encodeGrayPng,
  parseSidecar,
  readRadiograph,
  readRadiographBytes,
} from '../../src/radiograph/index.js';

void test('PNG 8-bit round trip keeps values and the 0..255 display range', async () => {
  const values = Float32Array.from({ length: 12 }, (_, i) => i / 11);
  const r = await readRadiographBytes(new Uint8Array(encodeGrayPng(4, 3, values, 8)), 'ramp_4x3_8bit.png');
  assert.equal(r.format, 'png');
  assert.deepEqual(
    Array.from(r.pixels),
    Array.from(values, (v) => Math.round(v * 255)),
  );
  assert.deepEqual(r.voi, { kind: 'range', min: 0, max: 255 });
});

void test('PNG 16-bit round trip keeps 16-bit values', async () => {
  const values = Float32Array.from({ length: 6 }, (_, i) => i / 5);
  const r = await readRadiographBytes(new Uint8Array(encodeGrayPng(3, 2, values, 16)), 'ramp_3x2_16bit.png');
  assert.deepEqual(
    Array.from(r.pixels),
    Array.from(values, (v) => Math.round(v * 65535)),
  );
  assert.deepEqual(r.voi, { kind: 'range', min: 0, max: 65535 });
});

void test('a corrupt PNG is a CodecError naming the file', async () => {
  const bytes = new Uint8Array(encodeGrayPng(8, 8, new Float32Array(64).fill(0.5)));
  bytes.fill(0x55, 40, 60);
  await assert.rejects(
    readRadiographBytes(bytes, 'corrupt.png'),
    (e: unknown) => e instanceof CodecError && /^corrupt\.png: /.test(e.message),
  );
});

void test('gray JPEG decodes to its luminance', async () => {
  const rgba = new Uint8Array(16 * 16 * 4).fill(128);
  const encoded = jpeg.encode({ data: rgba, width: 16, height: 16 }, 95);
  const r = await readRadiographBytes(new Uint8Array(encoded.data), 'gray_16x16.jpg');
  assert.equal(r.format, 'jpeg');
  assert.ok(r.pixels.every((v) => Math.abs(v - 128) <= 2));
  assert.deepEqual(r.warnings, []);
});

void test('metadata for a PNG comes from its sidecar, never guessed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-sidecar-'));
  const png = join(dir, 'hand.png');
  writeFileSync(png, encodeGrayPng(2, 2, new Float32Array(4)));
  const bare = await readRadiograph(png);
  assert.equal(bare.metadata.patientSex, null);
  assert.equal(bare.metadata.age, null);
  writeFileSync(
    `${png}.json`,
    JSON.stringify({ patientSex: 'm', ageMonths: 120, laterality: 'R', pixelSpacingMm: [0.1, 0.1] }),
  );
  const withSidecar = await readRadiograph(png);
  assert.equal(withSidecar.metadata.patientSex, 'M');
  assert.deepEqual(withSidecar.metadata.age, { ageMonths: 120, source: 'sidecar' });
  assert.equal(withSidecar.metadata.laterality, 'R');
  assert.deepEqual(withSidecar.metadata.spacing, { rowMm: 0.1, columnMm: 0.1, source: 'sidecar' });
});

const BAD_SIDECARS: [string, unknown, RegExp][] = [
  ['array', [1, 2], /must be a JSON object/],
  ['laterality_X', { laterality: 'X' }, /laterality 'X'/],
  ['ageMonths_negative', { ageMonths: -1 }, /ageMonths/],
  ['spacing_one_value', { pixelSpacingMm: [0.1] }, /pixelSpacingMm/],
  ['sex_number', { patientSex: 1 }, /'patientSex' must be a string/],
];
for (const [name, value, reason] of BAD_SIDECARS) {
  void test(`sidecar ${name} is a MetadataError`, () => {
    assert.throws(
      () => parseSidecar(value, 'x.png.json'),
      (e: unknown) => e instanceof MetadataError && reason.test(e.message),
    );
  });
}
