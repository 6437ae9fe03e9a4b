import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeGrayPng, readRadiograph } from '../../../src/radiograph/index.js';
import {
  IDEAL_KNEE_ACQUISITION,
  KNEE_EXCLUSION_COLUMNS,
  KNEE_MANIFEST_HEADER,
  KneeCohortExistsError,
  KneePhantomOptionsError,
  KNEE_STRUCTURE_BITS,
  drawKneeTraits,
  encodeKneePhantomDicom,
  kneeAnatomy,
  renderKneePhantom,
  renderKneePhantomWith,
  writeKneePhantomCohort,
  type KneeTraits,
} from '../../../src/tasks/knee-bone-age/phantom/index.js';

const SEXES = ['F', 'M'] as const;
const count = (a: Uint8Array): number => a.reduce((n, v) => n + (v ? 1 : 0), 0);
/** A median child: every trait at its centre. */
const MEDIAN_TRAITS: KneeTraits = {
  ...drawKneeTraits(1),
  sizeZ: 0,
  epiphysisRatioOffset: 0,
  fibulaAppearShiftMonths: 0,
  patellaAppearShiftMonths: 0,
  tubercleAppearShiftMonths: 0,
  fusionShiftMonths: 0,
};

/** manifest.csv as rows keyed by column (the generator writes no quoted fields). */
const readManifest = (path: string): Map<string, string>[] => {
  const [header = '', ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  return lines.map((line) => new Map(line.split(',').map((v, i) => [names[i] ?? '', v])));
};
const dayOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

void test('kneeAnatomy: the epiphysis/metaphysis width ratio rises with skeletal age, in every child and both sexes', () => {
  const ages = [0, 12, 36, 72, 120, 156, 180];
  for (let seed = 0; seed < 20; seed++) {
    const traits = drawKneeTraits(seed);
    for (const sex of SEXES) {
      const series = ages.map((age) => kneeAnatomy(age, sex, traits));
      for (const key of ['femurEpiphysisRatio', 'tibiaEpiphysisRatio', 'femurMetaphysisWidthMm'] as const)
        assert.ok(
          series.every((a, i) => i === 0 || a[key] > (series[i - 1]?.[key] ?? Infinity)),
          `seed ${seed} ${sex} ${key}: ${series.map((a) => a[key].toFixed(3)).join(' ')}`,
        );
      // as wide as the metaphysis (or capping it) before fusion (RWT), whatever the child's offset
      const last = series[series.length - 1]?.femurEpiphysisRatio ?? 0;
      assert.ok(last >= 0.94, `seed ${seed} ${sex}: ratio ${last.toFixed(3)} at 180 months`);
    }
  }
});

void test('kneeAnatomy: physes open at 60 months and fused at 210 months; fibular head and patella absent in infancy, present at 8 years', () => {
  for (let seed = 0; seed < 40; seed++) {
    const traits = drawKneeTraits(seed);
    for (const sex of SEXES) {
      const at = (age: number): ReturnType<typeof kneeAnatomy> => kneeAnatomy(age, sex, traits);
      const young = at(60);
      const old = at(210);
      const infant = at(12);
      const school = at(96);
      const tag = `seed ${seed} ${sex}`;
      assert.ok(young.physisWidthMm > 1.5, tag);
      for (const key of ['femurFusion', 'tibiaFusion', 'fibulaFusion'] as const) {
        assert.equal(young[key], 0, `${tag} ${key} at 60 months`);
        assert.equal(old[key], 1, `${tag} ${key} at 210 months`);
      }
      assert.equal(old.physisWidthMm, 0, tag);
      assert.equal(infant.fibulaHeadSize, 0, tag);
      assert.equal(infant.patellaSize, 0, tag);
      assert.ok(school.fibulaHeadSize > 0.3 && school.patellaSize > 0.3, tag);
    }
  }
  // girls mature earlier: at the same skeletal age in months the maturity scale is the same only for girls
  const girl = kneeAnatomy(180, 'F', MEDIAN_TRAITS);
  const boy = kneeAnatomy(180, 'M', MEDIAN_TRAITS);
  assert.ok(
    girl.femurFusion > boy.femurFusion,
    'a 15-year skeletal age is nearer fusion in a girl (Pyle & Hoerr)',
  );
  assert.ok(boy.femurMetaphysisWidthMm > girl.femurMetaphysisWidthMm, 'boys have larger knees at 15 years');
});

void test('renderKneePhantom: deterministic by seed; another seed another film; options are checked', () => {
  const o = { skeletalAgeMonths: 100, sex: 'F', laterality: 'L', seed: 17, size: 64 } as const;
  const a = renderKneePhantom(o);
  const b = renderKneePhantom(o);
  assert.deepEqual(a.pixels, b.pixels);
  assert.deepEqual(a.masks.physes, b.masks.physes);
  assert.deepEqual(a.anatomy, b.anatomy);
  assert.notDeepEqual(a.pixels, renderKneePhantom({ ...o, seed: 18 }).pixels);
  assert.equal(a.pixels.length, 64 * 64);
  assert.ok(a.pixels.every((v) => v <= 4095));
  for (const bad of [{ skeletalAgeMonths: -1 }, { skeletalAgeMonths: 217 }, { size: 8 }, { laterality: 'X' }])
    assert.throws(() => renderKneePhantom({ ...o, ...bad } as typeof o), KneePhantomOptionsError);
});

void test('renderKneePhantom: a right knee is the mirror image of the left (pixels and masks)', () => {
  const left = renderKneePhantom({ skeletalAgeMonths: 130, sex: 'M', laterality: 'L', seed: 5, size: 48 });
  const right = renderKneePhantom({ skeletalAgeMonths: 130, sex: 'M', laterality: 'R', seed: 5, size: 48 });
  const mirrored = (a: ArrayLike<number>, k: number): number =>
    a[Math.floor(k / 48) * 48 + (47 - (k % 48))] ?? -1;
  for (let k = 0; k < 48 * 48; k++) {
    assert.equal(right.pixels[k], mirrored(left.pixels, k));
    assert.equal(right.masks.physes[k], mirrored(left.masks.physes, k));
    assert.equal(right.masks.ossificationCentres[k], mirrored(left.masks.ossificationCentres, k));
  }
  assert.notDeepEqual(left.pixels, right.pixels, 'the film is not symmetric');
  // the fibula (lateral) is on the viewer's right of a left knee hung facing the patient
  const fibulaColumn = (laterality: 'L' | 'R'): number => {
    const f = renderKneePhantomWith(
      { skeletalAgeMonths: 130, sex: 'M', laterality, seed: 5, size: 48, traits: MEDIAN_TRAITS },
      IDEAL_KNEE_ACQUISITION,
    );
    let sum = 0;
    let n = 0;
    f.labels.forEach((bits, k) => {
      if (!(bits & KNEE_STRUCTURE_BITS.fibularPhysis)) return;
      sum += k % 48;
      n++;
    });
    assert.ok(n > 0, `no fibular physis on the ${laterality} film`);
    return sum / n;
  };
  assert.ok(fibulaColumn('L') > 28, `left fibula at column ${fibulaColumn('L').toFixed(1)}`);
  assert.ok(fibulaColumn('R') < 20, `right fibula at column ${fibulaColumn('R').toFixed(1)}`);
});

void test('noise-free films: masks non-empty and inside the bone; the ossified area grows with age', () => {
  const size = 96;
  const areas: number[] = [];
  for (const age of [12, 48, 96, 150]) {
    const f = renderKneePhantomWith(
      { skeletalAgeMonths: age, sex: 'F', laterality: 'L', seed: 2, size, traits: MEDIAN_TRAITS },
      IDEAL_KNEE_ACQUISITION,
    );
    const { physes, ossificationCentres } = f.masks;
    assert.ok(count(physes) > 20, `physis px ${count(physes)} at ${age}`);
    assert.ok(count(ossificationCentres) > 50, `ossification px at ${age}`);
    ossificationCentres.forEach((v, k) => {
      if (v) assert.ok((f.bone[k] ?? 0) > 0, `ossification mask pixel ${k} crosses no bone at ${age} months`);
    });
    // a physis pixel abuts bone (its metaphysis) within a few pixels in its column; once the epiphysis is as wide
    // as the metaphysis (school age on), it lies between bone on both sides
    const reach = 8;
    let between = 0;
    physes.forEach((v, k) => {
      if (!v) return;
      const row = Math.floor(k / size);
      const col = k % size;
      let above = false;
      let below = false;
      for (let d = 1; d <= reach; d++) {
        if ((f.bone[(row - d) * size + col] ?? 0) > 0) above = true;
        if ((f.bone[(row + d) * size + col] ?? 0) > 0) below = true;
      }
      assert.ok(above || below, `physis pixel (${row}, ${col}) far from bone at ${age} months`);
      if (above && below) between++;
    });
    if (age >= 96)
      assert.ok(between > 0.8 * count(physes), `${between} of ${count(physes)} between bone at ${age}`);
    areas.push(count(ossificationCentres));
  }
  assert.ok(
    areas.every((a, i) => i === 0 || a > (areas[i - 1] ?? Infinity)),
    `ossified px ${areas.join(' ')}`,
  );
});

void test('golden statistics of one noise-free render (an accidental change to the model shows here)', () => {
  const f = renderKneePhantomWith(
    { skeletalAgeMonths: 96, sex: 'M', laterality: 'L', seed: 1, size: 64, traits: MEDIAN_TRAITS },
    IDEAL_KNEE_ACQUISITION,
  );
  let sum = 0;
  for (const v of f.pixels) sum += v;
  const stats = {
    meanPixel: sum / f.pixels.length,
    physisPx: count(f.masks.physes),
    ossificationPx: count(f.masks.ossificationCentres),
    femurWidthMm: f.anatomy['femurMetaphysisWidthMm'] ?? 0,
  };
  // tolerances absorb last-digit differences of Math.exp/pow between platforms, not a change to the model
  const within = { meanPixel: 2, physisPx: 3, ossificationPx: 3, femurWidthMm: 0.01 };
  for (const key of Object.keys(GOLDEN) as (keyof typeof GOLDEN)[])
    assert.ok(
      Math.abs(stats[key] - GOLDEN[key]) <= within[key],
      `${key} ${stats[key]} vs golden ${GOLDEN[key]}; regenerate GOLDEN only on purpose, after looking at the renders`,
    );
});

/** Statistics of the render above (male, 8 years skeletal age, median traits, 64 px, ideal acquisition). */
const GOLDEN = { meanPixel: 1581, physisPx: 174, ossificationPx: 572, femurWidthMm: 54.78 };

void test('encodeKneePhantomDicom: readRadiograph reads back pixels, body part, view, laterality, sex and dates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-knee-dcm-'));
  try {
    const film = renderKneePhantom({ skeletalAgeMonths: 150, sex: 'F', laterality: 'R', seed: 4, size: 40 });
    const bytes = await encodeKneePhantomDicom({
      pixels: film.pixels,
      rows: film.height,
      columns: film.width,
      imagerPixelSpacingMm: film.pixelSpacingMm,
      magnification: 1.1,
      laterality: 'R',
      patientId: 'RSNA1',
      sex: 'F',
      birthDate: '20080101',
      studyDate: '20200601',
      ageDays: 4535,
      studyInstanceUid: '2.25.1',
      seriesInstanceUid: '2.25.2',
      sopInstanceUid: '2.25.3',
      seriesNumber: 1,
      instanceNumber: 1,
      derivation: 'test',
    });
    const path = join(dir, 'knee.dcm');
    await writeFile(path, bytes);
    const r = await readRadiograph(path);
    assert.deepEqual(Array.from(r.pixels), Array.from(film.pixels));
    assert.equal(r.photometric, 'MONOCHROME2');
    assert.equal(r.metadata.modality, 'DX');
    assert.equal(r.metadata.bodyPartExamined, 'KNEE');
    assert.equal(r.metadata.viewPosition, 'AP');
    assert.equal(r.metadata.laterality, 'R');
    assert.equal(r.metadata.patientSex, 'F');
    assert.equal(r.metadata.patientBirthDate, '2008-01-01');
    assert.equal(r.metadata.studyDate, '2020-06-01');
    assert.equal(r.metadata.age?.source, 'dates');
    assert.ok(Buffer.from(bytes).includes('SIMULATED PHANTOM'));
    assert.deepEqual(r.warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A fake RSNA hands folder: `n` tiny PNGs and a labels.csv. */
function fakeHands(root: string, n: number): string {
  const dir = join(root, 'hands');
  mkdirSync(join(dir, 'images'), { recursive: true });
  const lines = ['file,rsna_id,boneage_months,sex,split'];
  for (let i = 0; i < n; i++) {
    writeFileSync(
      join(dir, 'images', `${1000 + i}.png`),
      encodeGrayPng(8, 8, new Float32Array(64).fill(i / n)),
    );
    lines.push(
      `images/${1000 + i}.png,${1000 + i},${12 + ((i * 37) % 205)},${i % 2 ? 'M' : 'F'},${i % 5 ? 'train' : 'dev'}`,
    );
  }
  writeFileSync(join(dir, 'labels.csv'), `${lines.join('\n')}\n`);
  return dir;
}

void test('writeKneePhantomCohort: manifest columns, hands referenced in place, pairs within and beyond 90 days, exclusions, refusal', async () => {
  const root = mkdtempSync(join(tmpdir(), 'physis-knee-cohort-'));
  try {
    const handsDir = fakeHands(root, 120);
    const outDir = join(root, 'cohort');
    const progress: number[] = [];
    const result = await writeKneePhantomCohort(
      { handsDir, outDir, seed: 3, size: 32, format: 'png' },
      (done) => progress.push(done),
    );
    assert.equal(readFileSync(result.manifestCsv, 'utf8').split('\n')[0], KNEE_MANIFEST_HEADER);
    const rows = readManifest(result.manifestCsv);
    const hands = rows.filter((r) => r.get('body_part') === 'hand');
    const knees = rows.filter((r) => r.get('body_part') === 'knee');
    assert.equal(hands.length, 120);
    assert.equal(knees.length, result.kneeFilms);
    assert.deepEqual(
      progress,
      Array.from({ length: knees.length }, (_, i) => i + 1),
    );
    for (const h of hands) {
      assert.equal(h.get('simulated'), '0');
      assert.equal(h.get('laterality'), '');
      assert.equal(h.get('knee_skeletal_age_months'), '');
      assert.match(h.get('film') ?? '', /^\.\.\/hands\/images\/\d+\.png$/);
      assert.ok(existsSync(resolve(outDir, h.get('film') ?? '')));
      assert.ok(Number(h.get('bone_age_months')) >= 12);
    }
    const handOf = new Map(hands.map((h) => [h.get('patient_id') ?? '', h]));
    let within = 0;
    let beyond = 0;
    let kneeOnly = 0;
    for (const k of knees) {
      assert.equal(k.get('simulated'), '1');
      assert.equal(k.get('bone_age_months'), '');
      assert.match(k.get('laterality') ?? '', /^[LR]$/);
      assert.match(k.get('study_date') ?? '', /^\d{4}-\d{2}-\d{2}$/);
      assert.ok(existsSync(join(outDir, k.get('film') ?? '')));
      const stem = (k.get('film') ?? '').replace(/^knees\/|\.png$/g, '');
      assert.ok(existsSync(join(outDir, 'masks', `${stem}_physes.png`)));
      const age = Number(k.get('knee_skeletal_age_months'));
      assert.ok(age >= 0 && age <= 216);
      const h = handOf.get(k.get('patient_id') ?? '');
      if (!h) {
        kneeOnly++;
        assert.equal(k.get('split'), 'train');
        continue;
      }
      assert.equal(k.get('sex'), h.get('sex'));
      assert.equal(k.get('birth_date'), h.get('birth_date'));
      assert.equal(k.get('split'), h.get('split'));
      const gap = Math.abs(dayOf(k.get('study_date') ?? '') - dayOf(h.get('study_date') ?? ''));
      if (gap <= 90) within++;
      else {
        assert.ok(gap >= 100 && gap <= 400, `gap ${gap}`);
        beyond++;
      }
      // the knee's rendered age follows the hand's bone age (discordance SD 6 months + the gap)
      assert.ok(
        Math.abs(age - Number(h.get('bone_age_months'))) < 40 + gap / 30,
        `${age} vs ${h.get('bone_age_months')}`,
      );
    }
    assert.ok(within > 100, `within ${within}`);
    assert.equal(kneeOnly, result.kneeOnlyPatients);
    assert.ok(
      kneeOnly >= 1 && result.handOnlyPatients + result.lateKneePatients + result.twoKneePatients > 0,
    );
    assert.equal(beyond > 0, result.lateKneePatients > 0);
    // chronological ages are plausible: birth before every study, within 0–18 years
    for (const r of rows) {
      const ageDays = dayOf(r.get('study_date') ?? '') - dayOf(r.get('birth_date') ?? '');
      assert.ok(ageDays >= -90 && ageDays <= 18.5 * 365.25, `age ${ageDays} days`);
    }
    // exclusion columns are 0/1, at most one set per patient, the same on all of a patient's rows
    const flagsOf = new Map<string, string>();
    for (const r of rows) {
      const flags = KNEE_EXCLUSION_COLUMNS.map((c) => r.get(c) ?? '');
      assert.ok(flags.every((v) => v === '0' || v === '1'));
      assert.ok(flags.filter((v) => v === '1').length <= 1);
      const id = r.get('patient_id') ?? '';
      assert.equal(flagsOf.get(id) ?? flags.join(''), flags.join(''));
      flagsOf.set(id, flags.join(''));
    }
    assert.ok(readFileSync(join(outDir, 'COHORT.md'), 'utf8').includes('knee films here are simulated'));

    // deterministic per seed; refuses a used folder unless forced
    await assert.rejects(
      writeKneePhantomCohort({ handsDir, outDir, seed: 3, size: 32, format: 'png' }),
      KneeCohortExistsError,
    );
    const again = await writeKneePhantomCohort({
      handsDir,
      outDir,
      seed: 3,
      size: 32,
      format: 'png',
      force: true,
      maxHands: 120,
    });
    assert.equal(again.kneeFilms, result.kneeFilms);
    assert.deepEqual(readManifest(again.manifestCsv), rows);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

void test('writeKneePhantomCohort: DICOM knees carry the manifest dates, sex and side in their headers', async () => {
  const root = mkdtempSync(join(tmpdir(), 'physis-knee-dicom-'));
  try {
    const handsDir = fakeHands(root, 6);
    const outDir = join(root, 'cohort');
    const result = await writeKneePhantomCohort({ handsDir, outDir, seed: 9, size: 32, format: 'dicom' });
    const knees = readManifest(result.manifestCsv).filter((r) => r.get('body_part') === 'knee');
    assert.ok(knees.length >= 6);
    for (const k of knees) {
      const r = await readRadiograph(join(outDir, k.get('film') ?? ''));
      assert.equal(r.metadata.studyDate, k.get('study_date'));
      assert.equal(r.metadata.patientBirthDate, k.get('birth_date'));
      assert.equal(r.metadata.patientSex, k.get('sex'));
      assert.equal(r.metadata.laterality, k.get('laterality'));
      assert.equal(r.metadata.bodyPartExamined, 'KNEE');
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

const RSNA = resolve('../shared/data/rsna-hand');
void test(
  'writeKneePhantomCohort on the first 20 real RSNA hands',
  { skip: existsSync(join(RSNA, 'labels.csv')) ? false : `no RSNA hands at ${RSNA} (optional data)` },
  async () => {
    const root = mkdtempSync(join(tmpdir(), 'physis-knee-rsna-'));
    try {
      const outDir = join(root, 'cohort');
      const result = await writeKneePhantomCohort({
        handsDir: RSNA,
        outDir,
        seed: 1,
        size: 64,
        format: 'dicom',
        maxHands: 20,
      });
      const rows = readManifest(result.manifestCsv);
      assert.equal(rows.filter((r) => r.get('body_part') === 'hand').length, 20);
      for (const r of rows) assert.ok(existsSync(resolve(outDir, r.get('film') ?? '')), r.get('film'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);
