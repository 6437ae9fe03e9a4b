import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readRadiograph } from '../../../src/radiograph/index.js';
import {
  CohortExistsError,
  IDEAL_ACQUISITION,
  PHANTOM_LABELS_HEADER,
  STRUCTURE_BITS,
  drawInfantTraits,
  infantAnatomy,
  renderSkullPhantom,
  renderSkullPhantomWith,
  writeSkullPhantomCohort,
  type Acquisition,
  type InfantTraits,
  type PhantomView,
  type SkullPhantomDetail,
} from '../../../src/tasks/skull-infant-age/phantom/index.js';
import { encodePhantomDicom } from '../../../src/tasks/skull-infant-age/phantom/dicom-writer.js';

const VIEWS: readonly PhantomView[] = ['AP', 'LATERAL'];

/** labels.csv as rows keyed by column (the generator writes no quoted fields). */
const readLabels = (path: string): { rows: Map<string, string>[] } => {
  const [header = '', ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  return { rows: lines.map((line) => new Map(line.split(',').map((v, i) => [names[i] ?? '', v]))) };
};
/** One infant whose anterior fontanelle is still open at 12 months (as ≈ 60–65 % are; Duc & Largo 1986). */
const OPEN_AF_TRAITS: InfantTraits = {
  ...drawInfantTraits(11),
  anteriorFontanelleBirthMm: 24,
  anteriorFontanelleClosureMonths: 16,
};
const AGES_MONTHS = [0.5, 3, 6, 9, 11.5];

const count = (a: Uint8Array, pred: (v: number) => boolean = (v) => v !== 0): number => {
  let n = 0;
  for (const v of a) if (pred(v)) n++;
  return n;
};
const labelArea = (f: SkullPhantomDetail, bit: number): number => count(f.labels, (v) => (v & bit) !== 0);
/** Columns in which any pixel is brighter than air: the head's projected width. */
const headWidthPx = (f: SkullPhantomDetail): number => {
  let n = 0;
  for (let col = 0; col < f.width; col++) {
    for (let row = 0; row < f.height; row++) {
      if ((f.attenuation[row * f.width + col] ?? 0) > 0.3) {
        n++;
        break;
      }
    }
  }
  return n;
};
const isIncreasing = (xs: readonly number[]): boolean =>
  xs.every((x, i) => i === 0 || x > (xs[i - 1] ?? Infinity));
const isDecreasing = (xs: readonly number[]): boolean =>
  xs.every((x, i) => i === 0 || x < (xs[i - 1] ?? -Infinity));

void test('renderSkullPhantom: same options give the same film; another seed another film', () => {
  const o = { ageMonths: 4.2, view: 'AP', sex: 'F', seed: 17, size: 96 } as const;
  const a = renderSkullPhantom(o);
  const b = renderSkullPhantom(o);
  assert.deepEqual(a.pixels, b.pixels);
  assert.deepEqual(a.masks.sutures, b.masks.sutures);
  assert.deepEqual(a.masks.fontanelles, b.masks.fontanelles);
  assert.deepEqual(a.masks.calvarium, b.masks.calvarium);
  assert.deepEqual(a.anatomy, b.anatomy);
  const c = renderSkullPhantom({ ...o, seed: 18 });
  assert.notDeepEqual(a.pixels, c.pixels);
  assert.equal(a.width, 96);
  assert.equal(a.pixels.length, 96 * 96);
  assert.ok(a.pixels.every((v) => v >= 0 && v <= 4095));
  assert.ok(Math.abs(a.pixelSpacingMm * 96 - 230) < 1e-9);
});

void test('drawInfantTraits: deterministic; metopic fusion complete by 9 months in every infant (Vu et al. 2001)', () => {
  assert.deepEqual(drawInfantTraits(5), drawInfantTraits(5));
  assert.notDeepEqual(drawInfantTraits(5), drawInfantTraits(6));
  for (let seed = 0; seed < 200; seed++) {
    const t = drawInfantTraits(seed);
    assert.ok(t.metopicFusionEndMonths <= 9 && t.metopicFusionStartMonths >= 2.5, `seed ${seed}`);
    assert.ok(t.metopicFusionEndMonths > t.metopicFusionStartMonths);
    assert.ok(t.posteriorFontanelleClosureMonths <= 3);
  }
});

void test('infantAnatomy: WHO medians at z = 0 (boys 34.5 → 46.1 cm, girls 33.9 → 44.9 cm), growth monotone', () => {
  const median: InfantTraits = { ...drawInfantTraits(1), headCircumferenceZ: 0 };
  assert.ok(Math.abs(infantAnatomy(0, 'M', median).headCircumferenceCm - 34.5) < 1e-9);
  assert.ok(Math.abs(infantAnatomy(12, 'M', median).headCircumferenceCm - 46.1) < 1e-9);
  assert.ok(Math.abs(infantAnatomy(0, 'F', median).headCircumferenceCm - 33.9) < 1e-9);
  assert.ok(Math.abs(infantAnatomy(12, 'F', median).headCircumferenceCm - 44.9) < 1e-9);
  const series = AGES_MONTHS.map((age) => infantAnatomy(age, 'M', OPEN_AF_TRAITS));
  for (const key of [
    'headCircumferenceCm',
    'headLengthMm',
    'calvarialThicknessMm',
    'boneDensity',
    'faceHeightMm',
  ] as const)
    assert.ok(isIncreasing(series.map((a) => a[key])), key);
  for (const key of [
    'anteriorFontanelleMm',
    'sagittalSutureMm',
    'coronalSutureMm',
    'lambdoidSutureMm',
  ] as const)
    assert.ok(isDecreasing(series.map((a) => a[key])), key);
  // the face grows faster than the vault (Farkas 1994)
  const ratio = series.map((a) => a.faceHeightMm / a.headLengthMm);
  assert.ok(isIncreasing(ratio));
});

for (const view of VIEWS) {
  void test(`${view}: with traits and acquisition fixed, head widens, fontanelle shrinks, calvarium thickens and densifies with age`, () => {
    const films = AGES_MONTHS.map((ageMonths) =>
      renderSkullPhantomWith(
        { ageMonths, view, sex: 'M', seed: 3, size: 128, traits: OPEN_AF_TRAITS },
        IDEAL_ACQUISITION,
      ),
    );
    // width in whole pixels may stall between 9 and 11.5 months (≈ 1 mm of growth); the skull's area may not
    const widths = films.map(headWidthPx);
    assert.ok(
      widths.every((w, i) => i === 0 || w >= (widths[i - 1] ?? Infinity)),
      `head width px ${widths.join(' ')}`,
    );
    assert.ok(
      (widths[widths.length - 1] ?? 0) > (widths[0] ?? Infinity) * 1.15,
      `head width px ${widths.join(' ')}`,
    );
    const skullArea = films.map((f) => count(new Uint8Array(f.calvarium.map((v) => (v > 0 ? 1 : 0)))));
    assert.ok(isIncreasing(skullArea), `skull area px ${skullArea.join(' ')}`);
    const af = films.map((f) => count(f.masks.fontanelles));
    assert.ok(isDecreasing(af), `fontanelle mask px ${af.join(' ')}`);
    assert.ok((af[af.length - 1] ?? 0) > 0, 'still open at 11.5 months (closure at 16 months)');
    // mean calvarial attenuation over the pixels it covers: thicker and denser bone
    const calvarium = films.map((f) => {
      let sum = 0;
      let n = 0;
      for (const v of f.calvarium) {
        if (!(v > 0)) continue;
        sum += v;
        n++;
      }
      return sum / n;
    });
    assert.ok(isIncreasing(calvarium), `calvarium ${calvarium.map((v) => v.toFixed(3)).join(' ')}`);
    // and the film is brighter inside the head
    const meanHead = films.map((f) => {
      let sum = 0;
      let n = 0;
      f.attenuation.forEach((v, k) => {
        if (!(v > 0.3)) return;
        sum += f.pixels[k] ?? 0;
        n++;
      });
      return sum / n;
    });
    assert.ok(isIncreasing(meanHead), `mean head intensity ${meanHead.map((v) => v.toFixed(0)).join(' ')}`);
  });
}

void test('AP: the metopic suture is seen at 1 month and fused by 11 months, whatever the infant', () => {
  for (let seed = 0; seed < 6; seed++) {
    const traits = drawInfantTraits(100 + seed);
    const at = (ageMonths: number): number =>
      labelArea(
        renderSkullPhantomWith(
          { ageMonths, view: 'AP', sex: 'F', seed, size: 128, traits },
          IDEAL_ACQUISITION,
        ),
        STRUCTURE_BITS.metopic,
      );
    assert.ok(at(1) > 10, `seed ${seed}: metopic at 1 month ${at(1)} px`);
    assert.equal(at(11), 0, `seed ${seed}: metopic at 11 months`);
  }
  const young = renderSkullPhantomWith(
    { ageMonths: 1, view: 'AP', sex: 'F', seed: 1, size: 128, traits: OPEN_AF_TRAITS },
    IDEAL_ACQUISITION,
  );
  const old = renderSkullPhantomWith(
    { ageMonths: 11, view: 'AP', sex: 'F', seed: 1, size: 128, traits: OPEN_AF_TRAITS },
    IDEAL_ACQUISITION,
  );
  assert.equal(young.anatomy.metopicOpen, 1);
  assert.equal(old.anatomy.metopicOpen, 0);
  // the posterior fontanelle is gone by 3 months
  assert.ok(labelArea(young, STRUCTURE_BITS.posteriorFontanelle) > 0);
  assert.equal(labelArea(old, STRUCTURE_BITS.posteriorFontanelle), 0);
});

/** A positioned but noise-free exposure: the masks must follow rotation, translation and head turn. */
const TILTED: Acquisition = {
  ...IDEAL_ACQUISITION,
  inPlaneRotationDeg: 10,
  translationMm: [9, -6],
  yawDeg: 3,
  pitchDeg: -4,
  magnification: 1.15,
};

for (const view of VIEWS) {
  void test(`${view}: masks lie inside the head, and suture pixels are darker than the bone beside them (noise-free, positioned)`, () => {
    const size = 192;
    const f = renderSkullPhantomWith(
      { ageMonths: 2, view, sex: 'F', seed: 9, size, traits: OPEN_AF_TRAITS },
      TILTED,
    );
    const { sutures, fontanelles } = f.masks;
    assert.ok(count(sutures) > 100, `suture px ${count(sutures)}`);
    assert.ok(count(fontanelles) > 5, `fontanelle px ${count(fontanelles)}`);
    for (let k = 0; k < sutures.length; k++) {
      if (sutures[k] || fontanelles[k])
        assert.ok((f.attenuation[k] ?? 0) > 0.5, `mask pixel ${k} outside the head`);
    }
    // each suture pixel against the non-mask calvarium pixels within 3 px
    let darker = 0;
    let compared = 0;
    let diffSum = 0;
    for (let row = 3; row < size - 3; row++) {
      for (let col = 3; col < size - 3; col++) {
        const k = row * size + col;
        if (!sutures[k]) continue;
        let sum = 0;
        let n = 0;
        for (let dr = -3; dr <= 3; dr++)
          for (let dc = -3; dc <= 3; dc++) {
            const j = k + dr * size + dc;
            if (sutures[j] || fontanelles[j] || !((f.calvarium[j] ?? 0) > 0)) continue;
            sum += f.pixels[j] ?? 0;
            n++;
          }
        if (n < 6) continue;
        compared++;
        const d = (f.pixels[k] ?? 0) - sum / n;
        diffSum += d;
        if (d < 0) darker++;
      }
    }
    assert.ok(compared > 50, `compared ${compared}`);
    assert.ok(diffSum / compared < 0, `mean suture − neighbour ${(diffSum / compared).toFixed(1)}`);
    assert.ok(darker / compared > 0.6, `darker fraction ${(darker / compared).toFixed(2)}`);
  });
}

for (const view of VIEWS) {
  void test(`${view}: the calvarium mask is the vault's bright rim along the head's outline (noise-free, positioned)`, () => {
    const size = 160;
    const f = renderSkullPhantomWith({ ageMonths: 6, view, sex: 'M', seed: 9, size, traits: OPEN_AF_TRAITS }, TILTED);
    const rim = f.masks.calvarium;
    assert.ok(count(rim) > 200, `calvarium px ${count(rim)}`);
    // rim pixels carry the most vault bone: at least twice a face-on ray's path, so their vault share is the largest
    let rimVault = 0;
    let faceVault = 0;
    let rimPx = 0;
    let facePx = 0;
    for (let k = 0; k < rim.length; k++) {
      const v = f.calvarium[k] ?? 0;
      if (rim[k]) {
        assert.ok(v > 0, `calvarium pixel ${k} has no vault bone`);
        rimVault += v;
        rimPx++;
      } else if (v > 0) {
        faceVault += v;
        facePx++;
      }
    }
    assert.ok(rimVault / rimPx > 2 * (faceVault / facePx), `vault per px: rim ${(rimVault / rimPx).toFixed(3)}, face-on ${(faceVault / facePx).toFixed(3)}`);
    // a band along the outline: each row that crosses the head has rim pixels at both of its ends, and the film is
    // brighter there than 3 px further out (scalp, air): the mask sits on the film's bone edge, whatever the rotation,
    // shift and head turn
    let rows = 0;
    let bothEnds = 0;
    let brighter = 0;
    for (let row = 0; row < size; row++) {
      const vault: number[] = [];
      for (let col = 0; col < size; col++) if ((f.calvarium[row * size + col] ?? 0) > 0) vault.push(col);
      const first = vault[0] ?? 0;
      const last = vault[vault.length - 1] ?? 0;
      if (vault.length < 20 || first < 3 || last > size - 4) continue;
      rows++;
      const at = (col: number): number => f.pixels[row * size + col] ?? 0;
      if (rim[row * size + first + 1] && rim[row * size + last - 1]) bothEnds++;
      if (at(first + 1) > at(first - 3) && at(last - 1) > at(last + 3)) brighter++;
    }
    assert.ok(rows > 40 && bothEnds / rows > 0.8, `${bothEnds} of ${rows} rows have the rim at both ends`);
    assert.ok(brighter / rows > 0.8, `${brighter} of ${rows} rows brighter on the rim than outside it`);
  });
}

void test('random acquisition: masks are empty under the collimator shutters, and the image varies between seeds', () => {
  let shuttered = 0;
  for (let seed = 0; seed < 8; seed++) {
    const f = renderSkullPhantom({
      ageMonths: 5,
      view: seed % 2 ? 'AP' : 'LATERAL',
      sex: 'M',
      seed,
      size: 64,
    });
    const shutter = Math.round(0.97 * 4095);
    f.pixels.forEach((v, k) => {
      if (v === shutter) {
        shuttered++;
        assert.equal(f.masks.sutures[k], 0);
        assert.equal(f.masks.fontanelles[k], 0);
        assert.equal(f.masks.calvarium[k], 0);
      }
    });
  }
  assert.ok(shuttered > 0, 'some films are collimated');
});

void test('encodePhantomDicom: readRadiograph reads back pixels, view, dates and age', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-phantom-dcm-'));
  try {
    const film = renderSkullPhantom({ ageMonths: 3, view: 'LATERAL', sex: 'F', seed: 4, size: 48 });
    const bytes = await encodePhantomDicom({
      pixels: film.pixels,
      rows: film.height,
      columns: film.width,
      imagerPixelSpacingMm: film.pixelSpacingMm,
      magnification: 1.1,
      view: 'LATERAL',
      patientId: 'SKP0001',
      sex: 'F',
      birthDate: '20200101',
      studyDate: '20200401',
      ageDays: 91,
      studyInstanceUid: '2.25.1',
      seriesInstanceUid: '2.25.2',
      sopInstanceUid: '2.25.3',
      seriesNumber: 2,
      instanceNumber: 1,
      derivation: 'test',
    });
    const path = join(dir, 'lat.dcm');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, bytes));
    const r = await readRadiograph(path);
    assert.deepEqual(Array.from(r.pixels), Array.from(film.pixels));
    assert.equal(r.photometric, 'MONOCHROME2');
    assert.equal(r.metadata.viewPosition, 'LL');
    assert.equal(r.metadata.modality, 'DX');
    assert.equal(r.metadata.bodyPartExamined, 'SKULL');
    assert.equal(r.metadata.patientSex, 'F');
    assert.equal(r.metadata.patientBirthDate, '2020-01-01');
    assert.equal(r.metadata.studyDate, '2020-04-01');
    assert.equal(r.metadata.age?.source, 'dates');
    assert.ok(Math.abs((r.metadata.age?.ageMonths ?? 0) - 91 / (365.2425 / 12)) < 1e-9);
    assert.equal(r.metadata.sopClassUid, '1.2.840.10008.5.1.4.1.1.1.1');
    assert.equal(r.metadata.spacing?.source, 'PixelSpacing');
    assert.deepEqual(r.warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('writeSkullPhantomCohort: PNG and DICOM cohorts of 4 infants, splits by infant, refuses to overwrite', async () => {
  const root = mkdtempSync(join(tmpdir(), 'physis-phantom-cohort-'));
  try {
    const pngDir = join(root, 'png');
    const dcmDir = join(root, 'dcm');
    const progress: number[] = [];
    const png = await writeSkullPhantomCohort(
      { outDir: pngDir, infants: 4, seed: 7, size: 64, format: 'png' },
      (done) => progress.push(done),
    );
    const dcm = await writeSkullPhantomCohort({
      outDir: dcmDir,
      infants: 4,
      seed: 7,
      size: 64,
      format: 'dicom',
    });
    assert.equal(png.infants, 4);
    assert.equal(png.films, dcm.films);
    assert.ok(png.films >= 8 && png.films <= 24 && png.films % 2 === 0);
    assert.deepEqual(
      progress,
      Array.from({ length: png.films }, (_, i) => i + 1),
    );

    const text = readFileSync(png.labelsCsv, 'utf8');
    assert.equal(text.split('\n')[0], PHANTOM_LABELS_HEADER);
    const table = readLabels(png.labelsCsv);
    assert.equal(table.rows.length, png.films);
    const dcmTable = readLabels(dcm.labelsCsv);
    const splitOf = new Map<string, string>();
    const viewsOfVisit = new Map<string, string[]>();
    for (const [i, row] of table.rows.entries()) {
      const file = row.get('file') ?? '';
      const patient = row.get('patient_id') ?? '';
      const split = row.get('split') ?? '';
      assert.match(file, /^films\/SKP\d{4}_V[123]_(AP|LAT)\.png$/);
      assert.ok(['train', 'dev', 'test'].includes(split));
      assert.ok(['M', 'F'].includes(row.get('sex') ?? ''));
      assert.equal(row.get('view'), file.endsWith('_AP.png') ? 'AP' : 'LATERAL');
      const age = Number(row.get('age_months'));
      assert.ok(age >= 0 && age < 12, `age ${age}`);
      assert.match(row.get('age_months') ?? '', /^\d+\.\d{3}$/);
      assert.equal(splitOf.get(patient) ?? split, split, `infant ${patient} on both sides of the split`);
      splitOf.set(patient, split);
      const visit = file.replace(/_(AP|LAT)\.png$/, '');
      viewsOfVisit.set(visit, [...(viewsOfVisit.get(visit) ?? []), row.get('view') ?? '']);
      for (const key of ['suture_mask', 'fontanelle_mask', 'calvarium_mask']) {
        const mask = PNG.sync.read(readFileSync(join(pngDir, row.get(key) ?? '')));
        assert.equal(mask.width, 64);
        for (let p = 0; p < mask.data.length; p += 4) assert.ok(mask.data[p] === 0 || mask.data[p] === 255);
      }
      // the DICOM cohort of the same seed holds the same films and ages
      const dRow = dcmTable.rows[i];
      assert.equal(dRow?.get('age_months'), row.get('age_months'));
      const dFile = join(dcmDir, dRow?.get('file') ?? '');
      if (i < 4) {
        const [fromPng, fromDcm] = await Promise.all([
          readRadiograph(join(pngDir, file)),
          readRadiograph(dFile),
        ]);
        const pngStored = Array.from(fromPng.pixels, (v) => Math.round((v * 4095) / 65535));
        assert.deepEqual(Array.from(fromDcm.pixels), pngStored);
        assert.equal(fromDcm.metadata.viewPosition, row.get('view') === 'AP' ? 'AP' : 'LL');
        assert.ok(fromDcm.metadata.patientBirthDate && fromDcm.metadata.studyDate);
        assert.equal(fromDcm.metadata.age?.ageMonths.toFixed(3), row.get('age_months'));
        assert.equal(fromDcm.metadata.patientSex, row.get('sex'));
      }
    }
    assert.equal(splitOf.size, 4);
    assert.ok(new Set(splitOf.values()).size === 3, 'train, dev and test each hold an infant');
    for (const views of viewsOfVisit.values()) assert.deepEqual(views.sort(), ['AP', 'LATERAL']);
    assert.ok(readFileSync(join(pngDir, 'README.md'), 'utf8').includes('not clinical films'));

    await assert.rejects(
      writeSkullPhantomCohort({ outDir: pngDir, infants: 2, seed: 1, size: 32, format: 'png' }),
      CohortExistsError,
    );
    const again = await writeSkullPhantomCohort({
      outDir: pngDir,
      infants: 2,
      seed: 1,
      size: 32,
      format: 'png',
      force: true,
    });
    assert.equal(again.infants, 2);
    assert.ok(existsSync(again.labelsCsv));

    // label noise changes the recorded ages, not the infants
    const noisy = await writeSkullPhantomCohort({
      outDir: join(root, 'noisy'),
      infants: 4,
      seed: 7,
      size: 32,
      format: 'png',
      labelNoiseSdDays: 20,
    });
    const noisyRows = readLabels(noisy.labelsCsv).rows;
    assert.equal(noisyRows.length, table.rows.length);
    assert.deepEqual(
      noisyRows.map((r) => r.get('file')),
      table.rows.map((r) => r.get('file')),
    );
    assert.ok(noisyRows.some((r, i) => r.get('age_months') !== table.rows[i]?.get('age_months')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
