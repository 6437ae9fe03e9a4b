/**
 * The real robustness corpus (../shared/data/dicom, Orthanc's test files): every file decodes or is rejected
 * with a named RadiographError; decoded values match pydicom where pydicom can decode; the MONOCHROME1 CR
 * displays with bone bright. Skips with a message when ../shared is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RadiographError, listFiles, readRadiograph } from '../../src/radiograph/index.js';
import { preprocess } from '../../src/preprocess/index.js';

const DIR = fileURLToPath(new URL('../../../shared/data/dicom', import.meta.url));
const SKIP = existsSync(DIR) ? false : `../shared/data/dicom not found at ${DIR}`;
const PYTHON = '/usr/bin/python3';

void test(
  'every corpus file decodes or is rejected with a named RadiographError',
  { skip: SKIP },
  async (t) => {
    const names = new Map<string, number>();
    for (const file of listFiles(DIR)) {
      try {
        const r = await readRadiograph(file);
        assert.equal(r.pixels.length, r.rows * r.columns, file);
        assert.ok(
          r.pixels.every((v) => Number.isFinite(v)),
          `${file}: non-finite pixel`,
        );
        names.set('decoded', (names.get('decoded') ?? 0) + 1);
      } catch (e) {
        assert.ok(e instanceof RadiographError, `${file}: ${String(e)} is not a RadiographError`);
        assert.notEqual(e.name, 'RadiographError', `${file}: use a specific subclass`);
        assert.ok(e.message.startsWith(file), `${file}: message does not name the file: ${e.message}`);
        names.set(e.name, (names.get(e.name) ?? 0) + 1);
      }
    }
    t.diagnostic(JSON.stringify(Object.fromEntries(names)));
    assert.ok((names.get('decoded') ?? 0) >= 40, 'most of the corpus decodes');
  },
);

void test('the MONOCHROME1 CR (Issue44) displays with bone bright', { skip: SKIP }, async () => {
  const r = await readRadiograph(join(DIR, 'Issue44_Monochrome1-Jpeg.dcm'));
  assert.equal(r.photometric, 'MONOCHROME1');
  const { image } = preprocess(r, { size: 256, crop: false });
  const mean = (x0: number, x1: number, y0: number, y1: number): number => {
    let s = 0;
    let n = 0;
    for (let y = Math.floor(y0 * 256); y < y1 * 256; y++) {
      for (let x = Math.floor(x0 * 256); x < x1 * 256; x++) {
        s += image.data[y * 256 + x] ?? 0;
        n++;
      }
    }
    return s / n;
  };
  // A PA chest: the spine/mediastinum (centre) is dense and must be brighter than the aerated lungs beside it.
  const spine = mean(0.47, 0.53, 0.3, 0.6);
  const lungs = (mean(0.25, 0.35, 0.3, 0.5) + mean(0.65, 0.75, 0.3, 0.5)) / 2;
  assert.ok(spine > lungs + 0.2, `spine ${spine.toFixed(3)} vs lungs ${lungs.toFixed(3)}`);
});

const PARITY_FILES = [
  '2020-08-12-Christopher.dcm',
  'Issue44_Monochrome1-Jpeg.dcm',
  'TransferSyntaxes_1.2.840.10008.1.2.1.99.dcm',
  'TransferSyntaxes_1.2.840.10008.1.2.5.dcm',
  'TransferSyntaxes_1.2.840.10008.1.2.4.90.dcm',
  'TransferSyntaxes_1.2.840.10008.1.2.4.91.dcm',
  'Formats_Rle.dcm',
  'Encodings_ISO_IR13.dcm',
];
const hasPydicom = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pydicom, numpy']).status === 0;

void test(
  'modality values match pydicom (apply_modality_lut) where pydicom decodes',
  { skip: SKIP || (hasPydicom ? false : 'pydicom not available') },
  async () => {
    const out = mkdtempSync(join(tmpdir(), 'physis-parity-'));
    const script = [
      'import sys, numpy as np, pydicom',
      'from pydicom.pixel_data_handlers.util import apply_modality_lut',
      'for src, dst in zip(sys.argv[1::2], sys.argv[2::2]):',
      '    d = pydicom.dcmread(src)',
      '    a = d.pixel_array',
      '    a = a[0] if int(getattr(d, "NumberOfFrames", 1) or 1) > 1 else a',
      '    np.asarray(apply_modality_lut(a, d), dtype=np.float64).tofile(dst)',
    ].join('\n');
    const args = PARITY_FILES.flatMap((f, i) => [join(DIR, f), join(out, `${i}.f64`)]);
    const py = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    for (const [i, f] of PARITY_FILES.entries()) {
      const ref = new Float64Array(new Uint8Array(readFileSync(join(out, `${i}.f64`))).buffer);
      const ours = (await readRadiograph(join(DIR, f))).pixels;
      assert.equal(ours.length, ref.length, f);
      let worst = 0;
      for (let k = 0; k < ref.length; k++)
        worst = Math.max(
          worst,
          Math.abs((ours[k] ?? 0) - (ref[k] ?? 0)) / Math.max(1, Math.abs(ref[k] ?? 0)),
        );
      assert.ok(worst < 1e-6, `${f}: worst relative difference ${worst}`);
    }
  },
);
