import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatRecord, inspectFile } from '../../src/cli/commands/inspect.js';
import { renderResultImage, reportContentOf, resultCaption, sourceStudyOf, writeSecondaryCapture, writeStructuredReport } from '../../src/pacs/index.js';
import { getTask } from '../../src/tasks/index.js';
import { HAND_ANSWERED, SPINE_REFUSED } from './results.js';
import { RAMP_64X48, rampFilmBytes } from './source-film.js';

const dir = mkdtempSync(join(tmpdir(), 'physis-inspect-pacs-'));

void test('physis inspect <sr.dcm>: the findings, units, intervals, algorithm and gate read back equal those written', async () => {
  const source = sourceStudyOf(await rampFilmBytes());
  const content = reportContentOf(getTask('hand-bone-age'), HAND_ANSWERED);
  const file = join(dir, 'hand.sr.dcm');
  writeFileSync(file, await writeStructuredReport({ source, ...content, seriesNumber: 9911 }));
  const record = await inspectFile(file);
  assert.equal(record.status, 'decoded');
  const o = record.resultObject;
  assert.ok(o?.kind === 'structured-report');
  assert.deepEqual(o.findings, content.findings);
  assert.deepEqual(o.algorithm, content.algorithm);
  assert.deepEqual(o.gate, content.gate);
  assert.equal(o.seriesNumber, 9911);
  const text = formatRecord(record);
  assert.match(text, /Bone age estimated from hand radiograph \(Greulich-Pyle\) = 15\.612345678 mo \[90% 0\.5-30\.8\], Patient sex assumed for this estimate \(sex unknown\): Male/);
  assert.match(text, /= 15\.3 mo \[90% 3\.6-27\.0123456789\].*Female/);
  assert.match(text, new RegExp(`algorithm hand-bone-age-r18-test 1\\.2\\.0, weights sha256 ${'ab'.repeat(32)}`));
  assert.match(text, /gate passed \(suitability-gate-test/);
});

void test('physis inspect <sr.dcm> of a refused film: the gate verdict and the reason', async () => {
  const source = sourceStudyOf(await rampFilmBytes());
  const file = join(dir, 'spine-refused.sr.dcm');
  writeFileSync(file, await writeStructuredReport({ source, ...reportContentOf(getTask('spine-view'), SPINE_REFUSED) }));
  const text = formatRecord(await inspectFile(file));
  assert.match(text, /gate refused/);
  assert.match(text, /no result: hand radiograph \(p 0\.99\), not an AP or lateral spine radiograph/);
});

void test('physis inspect <sc.dcm>: decoded RGB picture with its secondary-capture attributes', async () => {
  const source = sourceStudyOf(await rampFilmBytes());
  const display = { width: RAMP_64X48.columns, height: RAMP_64X48.rows, data: new Uint8Array(RAMP_64X48.columns * RAMP_64X48.rows).fill(90) };
  const image = await renderResultImage({ display, lines: resultCaption(getTask('hand-bone-age'), HAND_ANSWERED), fontPx: 10 });
  const file = join(dir, 'hand.sc.dcm');
  writeFileSync(file, await writeSecondaryCapture({ source, image, derivationDescription: 'Grad-CAM over the film; answer burned in' }));
  const record = await inspectFile(file);
  assert.equal(record.status, 'decoded');
  assert.equal(record.resultObject?.kind, 'secondary-capture');
  const text = formatRecord(record);
  assert.match(text, /ImageType DERIVED\\SECONDARY, BurnedInAnnotation YES, ConversionType WSD/);
  assert.match(text, new RegExp(`study ${RAMP_64X48.studyInstanceUid.replace(/\./g, '\\.')}`));
});
