import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  aggregateFolds,
  buildOrdinalReport,
  MetricInputError,
  MISSING_GROUP,
  ordinalMetrics,
  renderOrdinalReportHtml,
  writeOrdinalReport,
  type OrdinalReport,
  type OrdinalSample,
} from '../../src/eval/index.js';

const CLASSES = ['c0', 'c1', 'c2', 'c3'];

function sample(
  id: string,
  predictedClass: number,
  referenceClass: number,
  predictedValue: number,
  referenceValue: number,
  view?: string,
): OrdinalSample {
  return {
    id,
    predictedClass,
    referenceClass,
    predictedValue,
    referenceValue,
    groups: view === undefined ? {} : { view },
  };
}

// six_cases_4_classes: class diffs 0,1,0,1,0,2; value errors −0.1, +0.7, 0, +0.5, 0, −2.5; class c3 is never predicted.
const SIX = [
  sample('a', 0, 0, 0.4, 0.5, 'AP'),
  sample('b', 1, 0, 1.2, 0.5, 'AP'),
  sample('c', 1, 1, 1.5, 1.5, 'LAT'),
  sample('d', 2, 1, 2.0, 1.5, 'LAT'),
  sample('e', 2, 2, 2.5, 2.5, 'AP'),
  sample('f', 1, 3, 1.0, 3.5, 'LAT'),
];

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);
}

void test('ordinal metrics match a hand-computed example', () => {
  const m = ordinalMetrics(SIX, CLASSES);
  assert.equal(m.n, 6);
  close(m.accuracy, 3 / 6, 'accuracy');
  close(m.correctedAccuracy, 5 / 6, 'corrected accuracy ±1');
  close(m.mae, 3.8 / 6, 'MAE');
  close(m.bias, -1.4 / 6, 'bias');
  close(m.classMae, 4 / 6, 'class MAE');
  assert.deepEqual(m.confusion, [
    [1, 1, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 1, 0],
    [0, 1, 0, 0],
  ]);
  const expected = [
    { label: 'c0', precision: 1, recall: 1 / 2, support: 2 },
    { label: 'c1', precision: 1 / 3, recall: 1 / 2, support: 2 },
    { label: 'c2', precision: 1 / 2, recall: 1, support: 1 },
    { label: 'c3', precision: 0, recall: 0, support: 1 }, // never predicted: precision 0 (zero_division=0)
  ];
  expected.forEach((e, i) => {
    const c = m.perClass[i];
    assert.ok(c);
    assert.equal(c.label, e.label);
    close(c.precision, e.precision, `${e.label} precision`);
    close(c.recall, e.recall, `${e.label} recall`);
    assert.equal(c.support, e.support);
  });
  close(m.macroF1, (2 / 3 + 0.4 + 2 / 3 + 0) / 4, 'macro F1');
});

void test('the tolerance sets what the corrected accuracy forgives', () => {
  const cases: [number, number][] = [
    [0, 3 / 6],
    [1, 5 / 6],
    [2, 1],
  ];
  for (const [tolerance, share] of cases)
    close(ordinalMetrics(SIX, CLASSES, tolerance).correctedAccuracy, share, `tolerance ${tolerance}`);
});

void test('the report slices by each value of a grouping key, keeping samples without the key', () => {
  const withMissing = [...SIX, sample('g', 3, 3, 3.4, 3.5)];
  const report = buildOrdinalReport(withMissing, {
    title: 't',
    unit: 'months',
    classNames: CLASSES,
    groupBy: ['view'],
  });
  assert.deepEqual(
    report.byGroup.map((g) => [g.label, g.metrics.n]),
    [
      [`view=${MISSING_GROUP}`, 1],
      ['view=AP', 3],
      ['view=LAT', 3],
    ],
  );
  const ap = report.byGroup.find((g) => g.value === 'AP')?.metrics;
  const lat = report.byGroup.find((g) => g.value === 'LAT')?.metrics;
  assert.ok(ap && lat);
  close(ap.accuracy, 2 / 3, 'AP accuracy');
  close(ap.correctedAccuracy, 1, 'AP corrected accuracy');
  close(ap.mae, 0.8 / 3, 'AP MAE');
  close(lat.accuracy, 1 / 3, 'LAT accuracy');
  close(lat.correctedAccuracy, 2 / 3, 'LAT corrected accuracy');
  close(lat.mae, 1, 'LAT MAE');
  assert.deepEqual(lat.confusion, [
    [0, 0, 0, 0],
    [0, 1, 1, 0],
    [0, 0, 0, 0],
    [0, 1, 0, 0],
  ]);
  assert.equal(report.overall.n, 7);
});

void test('fold aggregates line up groups by their label', () => {
  const a = buildOrdinalReport(SIX, { title: 't', unit: 'months', classNames: CLASSES, groupBy: ['view'] });
  const b = buildOrdinalReport(SIX.slice(0, 5), {
    title: 't',
    unit: 'months',
    classNames: CLASSES,
    groupBy: ['view'],
  });
  const folds = aggregateFolds([a, b].map((r) => ({ overall: r.overall, byGroup: r.byGroup })));
  close(folds['byGroup.view=AP.metrics.accuracy']?.mean ?? Number.NaN, 2 / 3, 'AP accuracy over folds');
  close(
    folds['overall.correctedAccuracy']?.mean ?? Number.NaN,
    (5 / 6 + 1) / 2,
    'corrected accuracy over folds',
  );
});

void test('bad input raises MetricInputError', () => {
  const o = { title: 't', unit: 'months', classNames: CLASSES };
  const bad: [string, () => unknown][] = [
    ['no samples', () => buildOrdinalReport([], o)],
    ['predicted class out of range', () => ordinalMetrics([sample('x', 4, 0, 1, 1)], CLASSES)],
    ['reference class negative', () => ordinalMetrics([sample('x', 0, -1, 1, 1)], CLASSES)],
    ['class not an integer', () => ordinalMetrics([sample('x', 1.5, 0, 1, 1)], CLASSES)],
    ['NaN value', () => ordinalMetrics([sample('x', 0, 0, Number.NaN, 1)], CLASSES)],
    ['infinite reference', () => ordinalMetrics([sample('x', 0, 0, 1, Number.POSITIVE_INFINITY)], CLASSES)],
    ['negative tolerance', () => ordinalMetrics(SIX, CLASSES, -1)],
    ['fractional tolerance', () => ordinalMetrics(SIX, CLASSES, 0.5)],
    ['no classes', () => ordinalMetrics(SIX, [])],
    [
      'image outside the folder',
      () =>
        buildOrdinalReport(SIX, {
          ...o,
          images: [{ file: '../x.png', caption: '', bytes: new Uint8Array() }],
        }),
    ],
  ];
  for (const [what, f] of bad) assert.throws(f, MetricInputError, what);
});

function fullReport(): OrdinalReport {
  const folds = aggregateFolds([
    { overall: { accuracy: 0.5, correctedAccuracy: 0.8 } },
    { overall: { accuracy: 0.7, correctedAccuracy: 0.9 } },
  ]);
  return buildOrdinalReport(SIX, {
    title: 'Ordinal <dev> & co',
    unit: 'months',
    classNames: CLASSES,
    groupBy: ['view'],
    facts: { model: 'tiny & test' },
    data: 'six synthetic cases',
    folds,
    notes: ['Trained on <simulated> films, not clinical.'],
    published: [
      {
        label: 'Someone et al. 2020',
        citation: 'Journal 1(2), 2020',
        data: 'their own 100 films',
        group: { view: 'AP' },
        accuracy: 0.61,
        correctedAccuracy: 0.9,
        correctedAccuracySd: 0.02,
        mae: null,
      },
    ],
    images: [{ file: 'saliency-a.png', caption: 'case a <hot>', bytes: Uint8Array.from([1, 2, 3]) }],
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });
}

void test('the HTML has the tables, a confusion heat map per group, the scatter and the images, all escaped', () => {
  const report = fullReport();
  const html = renderOrdinalReportHtml(report);
  assert.ok(html.includes('<title>Ordinal &lt;dev&gt; &amp; co</title>'), 'title escaped');
  assert.ok(html.includes('Trained on &lt;simulated&gt; films'), 'note escaped');
  assert.ok(html.includes('tiny &amp; test'));
  assert.equal((html.match(/<svg /g) ?? []).length, 1 + 2 + 1, 'overall + two groups confusion, one scatter');
  assert.equal((html.match(/<svg [^>]*class="confusion"/g) ?? []).length, 3);
  assert.equal((html.match(/class="cell"/g) ?? []).length, 3 * 16);
  assert.equal((html.match(/class="identity"/g) ?? []).length, 1);
  assert.ok(html.includes('c3 → c1: 1 (100.0% of row)'), 'cell holds its count and row share');
  for (const cls of ['summary', 'folds', 'published'])
    assert.equal((html.match(new RegExp(`<table class="${cls}"`, 'g')) ?? []).length, 1, cls);
  assert.equal((html.match(/<table class="per-class"/g) ?? []).length, 3);
  assert.ok(html.includes('83.3%'), 'overall corrected accuracy 5/6');
  assert.ok(html.includes('90.0% ± 2.0%'), 'published corrected accuracy with its SD');
  assert.ok(html.includes('83.3% ± 7.1%'), "this model's corrected accuracy with the SD over folds");
  assert.ok(html.includes('<img src="saliency-a.png" alt="case a &lt;hot&gt;">'));
  assert.ok(!/<script(?! type="application\/json")/.test(html), 'no executable script');
  assert.ok(!/(src|href)="http/.test(html), 'self-contained');
  const embedded = /<script type="application\/json" id="report-data">(.*)<\/script>/s.exec(html)?.[1];
  assert.ok(embedded);
  assert.deepEqual(JSON.parse(embedded), JSON.parse(JSON.stringify(report)));
});

void test('writeOrdinalReport writes the HTML, the JSON without image bytes, and the images', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'physis-ordinal-')), 'nested');
  try {
    const report = fullReport();
    const { htmlPath, jsonPath } = writeOrdinalReport(dir, report, [
      { file: 'saliency-a.png', caption: 'case a', bytes: Uint8Array.from([1, 2, 3]) },
    ]);
    assert.equal(htmlPath, join(dir, 'report.html'));
    assert.ok(existsSync(htmlPath));
    const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as OrdinalReport;
    assert.deepEqual(json.images, [{ file: 'saliency-a.png', caption: 'case a <hot>' }]);
    assert.equal(json.overall.accuracy, 0.5);
    assert.deepEqual([...readFileSync(join(dir, 'saliency-a.png'))], [1, 2, 3]);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
