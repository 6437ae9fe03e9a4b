import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeGrayPng } from '../../../src/radiograph/index.js';
import { LabelsError, OutputExistsError } from '../../../src/tasks/errors.js';
import {
  PAIRS_CSV_HEADER,
  countPairing,
  pairKneesWithHands,
  readFilmManifest,
  readPairsCsv,
  summarisePairing,
  writePairsCsv,
  type PairingResult,
} from '../../../src/tasks/knee-bone-age/pairing.js';
import { encodeKneePhantomDicom, renderKneePhantom, writeKneePhantomCohort } from '../../../src/tasks/knee-bone-age/phantom/index.js';

const HEADER = 'patient_id,film,body_part,study_date,birth_date,sex,bone_age_months,laterality,physeal_trauma,genetic_disorder,skeletal_dysplasia,endocrinopathy,split,simulated';

/** The DICOM knee's header: female, born 2010-05-01, right knee studied 2020-06-15. */
const DICOM_KNEE = { birthDate: '2010-05-01', studyDate: '2020-06-15', sex: 'F', laterality: 'R' } as const;

/** Rows of the test manifest, by what they exercise (`absent/…` files are never written). */
const ROWS = [
  // two knees (L and R, same day) 60 days after one hand: both pair with it
  'shared,hands/shared.png,hand,2020-01-01,2012-01-01,M,120,,0,0,0,0,train,0',
  'shared,knees/shared_L.png,knee,2020-03-01,2012-01-01,M,,L,0,0,0,0,train,0',
  'shared,knees/shared_R.png,knee,2020-03-01,2012-01-01,M,,R,0,0,0,0,train,0',
  // two hands, 120 and 31 days from the knee: the nearer one
  'nearest,hands/nearest_1.png,hand,2019-01-01,2010-01-01,F,100,,0,0,0,0,dev,0',
  'nearest,hands/nearest_2.png,hand,2019-06-01,2010-01-01,F,104,,0,0,0,0,dev,0',
  'nearest,knees/nearest.png,knee,2019-05-01,2010-01-01,F,,L,0,0,0,0,dev,0',
  // two hands 30 days either side of the knee: the earlier one
  'tie,hands/tie_late.png,hand,2019-03-02,2011-01-01,M,90,,0,0,0,0,train,0',
  'tie,hands/tie_early.png,hand,2019-01-01,2011-01-01,M,88,,0,0,0,0,train,0',
  'tie,knees/tie.png,knee,2019-01-31,2011-01-01,M,,R,0,0,0,0,train,0',
  // exactly 92 days: in the window
  'edge,hands/edge.png,hand,2021-01-01,2013-01-01,F,96,,0,0,0,0,test,0',
  'edge,knees/edge.png,knee,2021-04-03,2013-01-01,F,,L,0,0,0,0,test,0',
  // 151 days: beyond
  'late,hands/late.png,hand,2018-01-01,2009-01-01,M,110,,0,0,0,0,train,0',
  'late,knees/late.png,knee,2018-06-01,2009-01-01,M,,R,0,0,0,0,train,0',
  // flagged on one film: the whole patient is out
  'flagged,hands/flagged.png,hand,2018-01-01,2009-01-01,M,110,,0,0,0,0,train,0',
  'flagged,knees/flagged.png,knee,2018-01-10,2009-01-01,M,,R,1,0,0,0,train,0',
  // no birth date anywhere
  'nobirth,hands/nobirth.png,hand,2018-01-01,,F,110,,0,0,0,0,train,0',
  'nobirth,knees/nobirth.png,knee,2018-01-10,,F,,R,0,0,0,0,train,0',
  // the knee's file is missing
  'missing,hands/missing.png,hand,2018-01-01,2009-01-01,F,110,,0,0,0,0,train,0',
  'missing,absent/missing.png,knee,2018-01-10,2009-01-01,F,,R,0,0,0,0,train,0',
  // the only hand's file is missing: the knee has no usable hand
  'losthand,absent/losthand.png,hand,2018-01-01,2009-01-01,F,110,,0,0,0,0,train,0',
  'losthand,knees/losthand.png,knee,2018-01-10,2009-01-01,F,,R,0,0,0,0,train,0',
  // a hand and no knee; a knee and no hand
  'handonly,hands/handonly.png,hand,2018-01-01,2009-01-01,F,110,,0,0,0,0,train,0',
  'kneeonly,knees/kneeonly.png,knee,2018-01-01,2009-01-01,F,,L,0,0,0,0,train,1',
  // a DICOM knee whose date, birth date, sex and side come only from its header
  `dicom,hands/dicom.png,hand,2020-05-01,${DICOM_KNEE.birthDate},F,121,,0,0,0,0,train,0`,
  'dicom,knees/dicom.dcm,knee,,,,,,0,0,0,0,train,1',
];

async function kneeDicomBytes(): Promise<Uint8Array> {
  const film = renderKneePhantom({ skeletalAgeMonths: 120, sex: DICOM_KNEE.sex, laterality: DICOM_KNEE.laterality, seed: 1, size: 32 });
  return encodeKneePhantomDicom({
    pixels: film.pixels,
    rows: film.height,
    columns: film.width,
    imagerPixelSpacingMm: film.pixelSpacingMm,
    magnification: 1.1,
    laterality: DICOM_KNEE.laterality,
    patientId: 'dicom',
    sex: DICOM_KNEE.sex,
    birthDate: DICOM_KNEE.birthDate.replace(/-/g, ''),
    studyDate: DICOM_KNEE.studyDate.replace(/-/g, ''),
    ageDays: 3698,
    studyInstanceUid: '2.25.1',
    seriesInstanceUid: '2.25.2',
    sopInstanceUid: '2.25.3',
    seriesNumber: 1,
    instanceNumber: 1,
    derivation: 'pairing test',
  });
}

/** A folder with every film of ROWS (tiny PNGs, one DICOM knee) and a manifest of `rows`. */
async function cohort(rows: readonly string[] = ROWS): Promise<{ dir: string; manifest: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'physis-pairing-'));
  mkdirSync(join(dir, 'hands'));
  mkdirSync(join(dir, 'knees'));
  const png = encodeGrayPng(4, 4, new Float32Array(16).fill(0.5));
  for (const row of ROWS) {
    const film = row.split(',')[1] ?? '';
    if (film.endsWith('.png') && !film.startsWith('absent/')) writeFileSync(join(dir, film), png);
  }
  writeFileSync(join(dir, 'knees', 'dicom.dcm'), await kneeDicomBytes());
  const manifest = join(dir, 'manifest.csv');
  writeFileSync(manifest, `${[HEADER, ...rows].join('\n')}\n`);
  return { dir, manifest };
}

const pairOf = (r: PairingResult, kneeFilm: string) => r.pairs.find((p) => p.knee.film === kneeFilm);
const unpairedOf = (r: PairingResult, kneeFilm: string) => r.unpairedKnees.find((u) => u.film.film === kneeFilm);

void test('pairKneesWithHands: window, nearest hand, shared hand, and every reason a knee is left out', async () => {
  const { dir, manifest } = await cohort();
  try {
    const films = await readFilmManifest(manifest);
    assert.equal(films.length, ROWS.length);
    const r = pairKneesWithHands(films);
    assert.equal(r.maxIntervalDays, 92);
    assert.deepEqual(
      r.pairs.map((p) => [p.knee.film, p.hand.film, p.intervalDays]),
      [
        ['knees/shared_L.png', 'hands/shared.png', 60],
        ['knees/shared_R.png', 'hands/shared.png', 60],
        ['knees/nearest.png', 'hands/nearest_2.png', -31],
        ['knees/tie.png', 'hands/tie_early.png', 30],
        ['knees/edge.png', 'hands/edge.png', 92],
        ['knees/dicom.dcm', 'hands/dicom.png', 45],
      ],
    );
    const shared = pairOf(r, 'knees/shared_L.png');
    assert.equal(shared?.readingMonths, 120);
    assert.equal(shared?.laterality, 'L');
    assert.equal(shared?.sex, 'M');
    assert.equal(shared?.split, 'train');
    // 2012-01-01 to 2020-03-01: 2982 days
    assert.ok(Math.abs((shared?.chronologicalAgeMonths ?? 0) - 2982 / (365.2425 / 12)) < 1e-9);
    // the DICOM knee: date, sex and side from its header; the pair is simulated because the knee is
    const dicom = pairOf(r, 'knees/dicom.dcm');
    assert.equal(dicom?.knee.studyDate, DICOM_KNEE.studyDate);
    assert.equal(dicom?.knee.birthDate, DICOM_KNEE.birthDate);
    assert.equal(dicom?.sex, 'F');
    assert.equal(dicom?.laterality, 'R');
    assert.equal(dicom?.simulated, true);
    assert.equal(dicom?.readingMonths, 121);

    const unpaired = Object.fromEntries(r.unpairedKnees.map((u) => [u.film.film, u.cause]));
    assert.deepEqual(unpaired, {
      'knees/late.png': 'beyond-interval',
      'knees/nobirth.png': 'no-birth-date',
      'absent/missing.png': 'missing-file',
      'knees/losthand.png': 'no-hand',
      'knees/kneeonly.png': 'no-hand',
    });
    assert.match(unpairedOf(r, 'knees/late.png')?.reason ?? '', /hands\/late\.png is 151 days away \(window 92 days\)/);
    assert.match(unpairedOf(r, 'absent/missing.png')?.reason ?? '', /not found/);
    assert.match(unpairedOf(r, 'knees/losthand.png')?.reason ?? '', /hand film\(s\) are missing or undated/);
    assert.deepEqual(
      r.unusedHands.map((u) => [u.film.film, u.cause]),
      [
        ['hands/nearest_1.png', 'beyond-interval'],
        ['hands/tie_late.png', 'nearer-hand'],
        ['hands/late.png', 'beyond-interval'],
        ['hands/nobirth.png', 'knees-unpaired'],
        ['hands/missing.png', 'knees-unpaired'],
        ['absent/losthand.png', 'missing-file'],
        ['hands/handonly.png', 'no-knee'],
      ],
    );
    assert.deepEqual(r.excluded, [{ patientId: 'flagged', films: 2, reasons: ['physeal_trauma'] }]);

    // a narrower window drops the 92-day knee, reporting the distance
    const narrow = pairKneesWithHands(films, { maxIntervalDays: 91 });
    assert.match(unpairedOf(narrow, 'knees/edge.png')?.reason ?? '', /92 days away \(window 91 days\)/);
    // no exclusion columns: the flagged patient pairs
    const unflagged = pairKneesWithHands(await readFilmManifest(manifest, { exclusionColumns: [] }));
    assert.ok(pairOf(unflagged, 'knees/flagged.png'));
    assert.deepEqual(unflagged.excluded, []);
    assert.throws(() => pairKneesWithHands(films, { maxIntervalDays: -1 }), RangeError);

    const counts = countPairing(r);
    assert.equal(counts.pairs, 6);
    assert.equal(counts.patients, 5);
    assert.equal(counts.handFilms, 5);
    assert.equal(counts.intervalDaysMedian, 52.5);
    assert.equal(counts.intervalDaysMax, 92);
    assert.equal(
      summarisePairing(r),
      '6 pairs (6 knee films of 5 patients, 5 hand films); interval median 52.5 days, max 92 days (window 92 days). ' +
        'Unpaired knees: 5 (no-hand 2, beyond-interval 1, missing-file 1, no-birth-date 1). ' +
        'Unused hands: 7 (beyond-interval 2, knees-unpaired 2, missing-file 1, nearer-hand 1, no-knee 1). ' +
        'Excluded: 1 patient (2 films; physeal_trauma 1).',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('readFilmManifest: a manifest value that contradicts the DICOM header is refused, naming both', async () => {
  const cases = [
    { column: 'study_date', cell: 3, value: '2020-06-16', header: DICOM_KNEE.studyDate },
    { column: 'birth_date', cell: 4, value: '2010-05-02', header: DICOM_KNEE.birthDate },
    { column: 'sex', cell: 5, value: 'M', header: DICOM_KNEE.sex },
    { column: 'laterality', cell: 7, value: 'L', header: DICOM_KNEE.laterality },
  ];
  const last = ROWS.length - 1;
  for (const c of cases) {
    const fields = (ROWS[last] ?? '').split(',');
    fields[c.cell] = c.value;
    const { dir, manifest } = await cohort([...ROWS.slice(0, last), fields.join(',')]);
    try {
      await assert.rejects(readFilmManifest(manifest), (e: Error) => {
        assert.ok(e instanceof LabelsError, e.message);
        assert.ok(e.message.includes(`manifest.csv:${last + 2}`), e.message);
        assert.ok(e.message.includes(`${c.column} '${c.value}'`) && e.message.includes(`'${c.header}'`), e.message);
        assert.ok(e.message.includes('dicom.dcm'), e.message);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // the same values as the header are accepted
  const agreeing = `dicom,knees/dicom.dcm,knee,${DICOM_KNEE.studyDate},${DICOM_KNEE.birthDate},F,,R,0,0,0,0,train,1`;
  const { dir, manifest } = await cohort([...ROWS.slice(0, last), agreeing]);
  try {
    assert.equal((await readFilmManifest(manifest)).length, ROWS.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('readFilmManifest: invalid values are refused with the line and column', async () => {
  const good = 'p,hands/shared.png,hand,2020-01-01,2012-01-01,M,120,,0,0,0,0,train,0';
  const cases: { row: string; message: RegExp }[] = [
    { row: good.replace('2020-01-01', '2021-02-29'), message: /study_date '2021-02-29' must be a date/ },
    { row: good.replace('2012-01-01', '01/01/2012'), message: /birth_date '01\/01\/2012' must be a date/ },
    { row: good.replace(',M,', ',X,'), message: /sex 'X' must be M, F/ },
    { row: good.replace(',hand,', ',foot,'), message: /body_part 'foot' must be hand or knee/ },
    { row: good.replace(',120,', ',241,'), message: /bone_age_months '241' must be a number in \[0, 240\]/ },
    { row: good.replace(',120,', ',ten,'), message: /bone_age_months 'ten'/ },
    { row: good.replace(',120,,', ',120,B,'), message: /laterality 'B' must be L, R/ },
    { row: good.replace(',0,0,0,0,', ',0,2,0,0,'), message: /genetic_disorder '2' must be 1, 0/ },
    { row: good.replace(/,0$/, ',yes'), message: /simulated 'yes'/ },
    { row: good.replace('p,', ','), message: /empty patient_id/ },
  ];
  const { dir, manifest } = await cohort([good]);
  try {
    for (const c of cases) {
      writeFileSync(manifest, `${HEADER}\n${c.row}\n`);
      await assert.rejects(readFilmManifest(manifest), (e: Error) => e instanceof LabelsError && /manifest\.csv:2: /.test(e.message) && c.message.test(e.message), c.row);
    }
    writeFileSync(manifest, `${HEADER}\n${good}\n${good}\n`);
    await assert.rejects(readFilmManifest(manifest), /listed again \(first on line 2\)/);
    writeFileSync(manifest, `${HEADER}\n${good}\n`);
    await assert.rejects(readFilmManifest(manifest, { exclusionColumns: ['prior_surgery'] }), /no exclusion column\(s\) prior_surgery/);
    // a hospital manifest: only the required columns and one other exclusion column
    writeFileSync(manifest, 'patient_id,film,body_part,prior_surgery\np,hands/shared.png,hand,1\n');
    const [film] = await readFilmManifest(manifest, { exclusionColumns: ['prior_surgery'] });
    assert.deepEqual(film?.exclusions, ['prior_surgery']);
    assert.equal(film?.path, resolve(dir, 'hands/shared.png'));
    assert.equal(film?.studyDate, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('writePairsCsv / readPairsCsv: round trip with paths relative to the CSV; refuses to overwrite', async () => {
  const { dir, manifest } = await cohort();
  try {
    const result = pairKneesWithHands(await readFilmManifest(manifest));
    mkdirSync(join(dir, 'out'));
    const pairsCsv = join(dir, 'out', 'pairs.csv');
    await writePairsCsv(pairsCsv, result);
    const text = readFileSync(pairsCsv, 'utf8');
    assert.equal(text.split('\n')[0], PAIRS_CSV_HEADER);
    assert.ok(text.includes('shared,../knees/shared_L.png,../hands/shared.png,60,'));
    const rows = readPairsCsv(pairsCsv);
    assert.equal(rows.length, result.pairs.length);
    for (const [i, row] of rows.entries()) {
      const p = result.pairs[i];
      assert.ok(p);
      assert.equal(row.patientId, p.patientId);
      assert.equal(row.kneePath, p.knee.path);
      assert.equal(row.handPath, p.hand.path);
      assert.equal(row.intervalDays, p.intervalDays);
      assert.ok(Math.abs(row.chronologicalAgeMonths - p.chronologicalAgeMonths) <= 0.005);
      assert.equal(row.sex, p.sex);
      assert.equal(row.laterality, p.laterality);
      assert.equal(row.readingMonths, p.readingMonths);
      assert.equal(row.split, p.split);
      assert.equal(row.simulated, p.simulated);
    }
    await assert.rejects(writePairsCsv(pairsCsv, result), OutputExistsError);
    await writePairsCsv(pairsCsv, { ...result, pairs: result.pairs.slice(0, 1) }, { force: true });
    assert.equal(readPairsCsv(pairsCsv).length, 1);
    writeFileSync(pairsCsv, `${PAIRS_CSV_HEADER}\nx,a.png,b.png,3,100,Q,,,,0\n`);
    assert.throws(() => readPairsCsv(pairsCsv), /pairs\.csv:2: sex 'Q'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const RSNA = resolve('../shared/data/rsna-hand');
void test(
  'pairKneesWithHands on a phantom cohort of 40 real RSNA hands',
  { skip: existsSync(join(RSNA, 'labels.csv')) ? false : `no RSNA hands at ${RSNA} (optional data)` },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'physis-pairing-rsna-'));
    try {
      const made = await writeKneePhantomCohort({ handsDir: RSNA, outDir: join(root, 'cohort'), seed: 1, size: 32, format: 'dicom', maxHands: 40 });
      const result = pairKneesWithHands(await readFilmManifest(made.manifestCsv));
      const c = countPairing(result);
      // every flagged patient of the cohort has one hand film; the rest of their films are knees
      const excludedKnees = result.excluded.reduce((n, e) => n + e.films - 1, 0);
      assert.equal(c.pairs + c.unpairedKnees + excludedKnees, made.kneeFilms);
      assert.equal(c.excludedPatients, made.excludedPatients);
      assert.equal(c.unpairedKneesByCause['no-hand'], made.kneeOnlyPatients);
      assert.equal(c.unpairedKneesByCause['missing-file'], undefined);
      assert.ok(c.pairs >= 30, summarisePairing(result));
      assert.ok((c.intervalDaysMax ?? 99) <= 92);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);

