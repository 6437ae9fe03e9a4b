import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  readResultObject,
  renderResultImage,
  resultCaption,
  sourceStudyOf,
  writeSecondaryCapture,
  REVIEW_NOTICE,
  SECONDARY_CAPTURE_SOP_CLASS_UID,
  type RgbImage,
} from '../../src/pacs/index.js';
import { getTask } from '../../src/tasks/index.js';
import { RESULT_CASES, HAND_ANSWERED } from './results.js';
import { RAMP_64X48, rampFilmBytes } from './source-film.js';
import { dciodvfyErrors } from './validators.js';

/** A 320 x 240 film: grey ramp, and a saliency blob of value 1 around (240, 180), 0 elsewhere. */
function ramp320x240(): { display: { width: number; height: number; data: Uint8Array }; saliency: { width: number; height: number; data: Float32Array } } {
  const width = 320;
  const height = 240;
  const data = new Uint8Array(width * height);
  const map = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data[y * width + x] = Math.round((x / width) * 200) + 20;
      map[y * width + x] = Math.hypot(x - 240, y - 180) < 30 ? 1 : 0;
    }
  }
  return { display: { width, height, data }, saliency: { width, height, data: map } };
}

const px = (img: RgbImage, x: number, y: number): [number, number, number] => {
  const i = (y * img.width + x) * 3;
  return [img.data[i] as number, img.data[i + 1] as number, img.data[i + 2] as number];
};

void test('result picture: heat colour where the saliency is high, the film unchanged where it is 0, text burned in at the top left', async () => {
  const { display, saliency } = ramp320x240();
  const lines = resultCaption(getTask('hand-bone-age'), HAND_ANSWERED);
  assert.match(lines[0] ?? '', /15\.6 months.*if male/);
  assert.equal(lines[2], REVIEW_NOTICE);
  const img = await renderResultImage({ display, saliency, lines });
  // saliency 1: half film grey, half red (heatColor(1) = 255, 0, 0)
  const [r, g, b] = px(img, 240, 180);
  const grey = display.data[180 * 320 + 240] as number;
  assert.deepEqual([r, g, b], [Math.round(0.5 * grey + 127.5), Math.round(0.5 * grey), Math.round(0.5 * grey)]);
  assert.deepEqual(px(img, 100, 200), [display.data[200 * 320 + 100], display.data[200 * 320 + 100], display.data[200 * 320 + 100]]);
  // the text box: dark background and white glyph pixels in the top rows, none below the box
  let white = 0;
  let dark = 0;
  for (let y = 0; y < 40; y++) {
    for (let x = 0; x < 320; x++) {
      const [pr, pg, pb] = px(img, x, y);
      if (pr > 200 && pg > 200 && pb > 200) white++;
      if (pr === 0 && pg === 0 && pb === 0) dark++;
    }
  }
  assert.ok(white > 100, `white text pixels in the top band: ${white}`);
  assert.ok(dark > 1000, `dark box pixels in the top band: ${dark}`);
});

for (const { name, result } of RESULT_CASES) {
  void test(`SC of ${name}: SC Image Storage, RGB, burned in, derived secondary, same study, new series, references the film; dciodvfy without errors`, async (t) => {
    const film = await rampFilmBytes();
    const source = sourceStudyOf(film);
    const task = getTask(result.task);
    const display = { width: RAMP_64X48.columns, height: RAMP_64X48.rows, data: new Uint8Array(RAMP_64X48.columns * RAMP_64X48.rows).fill(90) };
    const image = await renderResultImage({ display, lines: resultCaption(task, result), fontPx: 10 });
    const bytes = await writeSecondaryCapture({ source, image, derivationDescription: `Grad-CAM of ${result.model?.id ?? '?'} over the film; answer burned in` });
    const read = readResultObject(bytes, name);
    assert.ok(read !== null && read.kind === 'secondary-capture');
    assert.equal(read.sopClassUid, SECONDARY_CAPTURE_SOP_CLASS_UID);
    assert.equal(read.studyInstanceUid, RAMP_64X48.studyInstanceUid);
    assert.notEqual(read.seriesInstanceUid, RAMP_64X48.seriesInstanceUid);
    assert.notEqual(read.sopInstanceUid, RAMP_64X48.sopInstanceUid);
    assert.deepEqual(read.sources, [{ sopClassUid: source.sopClassUid, sopInstanceUid: RAMP_64X48.sopInstanceUid }]);
    assert.deepEqual(read.imageType, ['DERIVED', 'SECONDARY']);
    assert.equal(read.burnedInAnnotation, 'YES');
    assert.equal(read.conversionType, 'WSD');
    assert.equal(read.photometricInterpretation, 'RGB');
    assert.deepEqual([read.columns, read.rows], [RAMP_64X48.columns, RAMP_64X48.rows]);
    const v = dciodvfyErrors(bytes);
    if (v === null) t.diagnostic('dciodvfy not installed (Debian dicom3tools): IOD check skipped');
    else assert.deepEqual(v.errors, [], v.all.join('\n'));
  });
}

void test("SC of a film the gate corrected (turned or mirrored): the film's PatientOrientation is not copied onto the picture; dciodvfy without errors", async (t) => {
  const film = await rampFilmBytes();
  const source = sourceStudyOf(film);
  const display = { width: RAMP_64X48.columns, height: RAMP_64X48.rows, data: new Uint8Array(RAMP_64X48.columns * RAMP_64X48.rows).fill(90) };
  const image = await renderResultImage({ display, lines: resultCaption(getTask(HAND_ANSWERED.task), HAND_ANSWERED), fontPx: 10 });
  const dataset = (corrected: boolean): Promise<Uint8Array> => writeSecondaryCapture({ source, image, corrected, derivationDescription: 'Grad-CAM over the film as analysed (mirrored to a left hand); answer burned in' });
  const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
  // the source's orientation (R\F) is written only when the picture shows the film as stored
  assert.ok(text(await dataset(false)).includes('R\\F'));
  const corrected = await dataset(true);
  assert.ok(!text(corrected).includes('R\\F'));
  const v = dciodvfyErrors(corrected);
  if (v === null) t.diagnostic('dciodvfy not installed (Debian dicom3tools): IOD check skipped');
  else assert.deepEqual(v.errors, [], v.all.join('\n'));
});
