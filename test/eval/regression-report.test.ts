import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  aggregateFolds,
  buildRegressionReport,
  niceTicks,
  regressionMetrics,
  renderRegressionReportHtml,
  writeRegressionReport,
  type RegressionSample,
} from '../../src/eval/index.js';

// synthetic_linear_40: reference 6..240 months, prediction = reference + a deterministic wobble
const SAMPLES: RegressionSample[] = Array.from({ length: 40 }, (_, i) => {
  const reference = 6 + i * 6;
  return { predicted: reference + ((i * 7) % 11) - 5, reference, sex: i % 2 === 0 ? 'F' : 'M', id: `case-${i}.png` };
});

void test('the report holds the same numbers as the metrics and renders three SVG plots', () => {
  const report = buildRegressionReport(SAMPLES, {
    title: 'Bone age <dev>',
    unit: 'months',
    facts: { model: 'tiny & test' },
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });
  const html = renderRegressionReportHtml(report);
  assert.equal(report.metrics.overall.mae, regressionMetrics(SAMPLES.map((s) => s.predicted), SAMPLES.map((s) => s.reference)).mae);
  assert.equal((html.match(/<svg /g) ?? []).length, 3);
  assert.equal((html.match(/class="identity"/g) ?? []).length, 1);
  assert.equal((html.match(/class="hline"/g) ?? []).length, 3, 'Bland-Altman mean and two limits');
  assert.equal((html.match(/class="bar"/g) ?? []).length, report.metrics.byAgeBand.length);
  assert.equal((html.match(/<circle /g) ?? []).length, 2 * 40 + 2 * 2, 'two scatter plots plus two legend dots each');
  assert.ok(html.includes('Bone age &lt;dev&gt;'), 'title escaped');
  assert.ok(html.includes('tiny &amp; test'));
  assert.ok(!/<script(?! type="application\/json")/.test(html), 'no executable script');
  assert.ok(!/(src|href)="http/.test(html), 'self-contained');
  const embedded = /<script type="application\/json" id="report-data">(.*)<\/script>/s.exec(html)?.[1];
  assert.ok(embedded);
  assert.deepEqual(JSON.parse(embedded), JSON.parse(JSON.stringify(report)));
  assert.ok(html.includes(report.metrics.overall.mae.toFixed(2)));
});

void test('writeRegressionReport writes HTML and JSON, with fold aggregates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-report-'));
  try {
    const folds = aggregateFolds([{ overall: { mae: 5 } }, { overall: { mae: 7 } }]);
    const report = buildRegressionReport(SAMPLES, { title: 't', unit: 'months', folds });
    const { htmlPath, jsonPath } = writeRegressionReport(dir, report);
    const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { folds: Record<string, { mean: number }> };
    assert.equal(json.folds['overall.mae']?.mean, 6);
    assert.match(readFileSync(htmlPath, 'utf8'), /Cross-validation/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a regression report shows the task\'s tables and images (escaped), keeps image bytes out of its JSON, writes them beside the HTML, and refuses an image name that leaves the folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-report-'));
  try {
    const tables = [{ title: 'Where the maps fall <here>', columns: ['map', 'share'], rows: [['last', '20%']], note: 'on 2 films' }];
    const images = [{ file: 'saliency-1.png', caption: 'film <1>', bytes: Uint8Array.from([7, 8, 9]) }];
    const report = buildRegressionReport(SAMPLES, { title: 't', unit: 'months', tables, images });
    const html = renderRegressionReportHtml(report);
    assert.ok(html.includes('Where the maps fall &lt;here&gt;') && html.includes('<td>20%</td>'), 'the table');
    assert.ok(html.includes('<img src="saliency-1.png" alt="film &lt;1&gt;">'), 'the image by its relative name');
    const { jsonPath } = writeRegressionReport(dir, report, 'report', images);
    assert.deepEqual((JSON.parse(readFileSync(jsonPath, 'utf8')) as { images: unknown }).images, [{ file: 'saliency-1.png', caption: 'film <1>' }]);
    assert.deepEqual([...readFileSync(join(dir, 'saliency-1.png'))], [7, 8, 9]);
    assert.throws(() => buildRegressionReport(SAMPLES, { title: 't', unit: 'months', images: [{ file: '../x.png', caption: '', bytes: new Uint8Array() }] }), /plain file name/);
    assert.throws(() => buildRegressionReport(SAMPLES, { title: 't', unit: 'months', tables: [{ title: 'x', columns: ['a', 'b'], rows: [['1']] }] }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('niceTicks covers the range with 1/2/5 steps', () => {
  assert.deepEqual(niceTicks(0, 228), [0, 50, 100, 150, 200, 250]);
  assert.deepEqual(niceTicks(-12.3, 7.9, 4), [-20, -10, 0, 10]);
  assert.deepEqual(niceTicks(-12.3, 7.9), [-15, -10, -5, 0, 5, 10]);
});

void test('published results sit beside the model\'s own within-k shares, — where a publication gives no figure', () => {
  const report = buildRegressionReport(SAMPLES, {
    title: 't',
    unit: 'months',
    data: 'dev split, 40 images',
    withinThresholds: [6, 12],
    published: [{ label: 'Paper A <2017>', citation: 'A et al. J 2017;1:2', data: '100 films', mae: 4.25, within: { '12': 0.9039 } }],
  });
  const html = renderRegressionReportHtml(report);
  const table = /<h2>Beside published results<\/h2>[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
  const own = report.metrics.overall;
  assert.ok(table.includes(`<tr><th>this model</th><td>dev split, 40 images</td><td>40</td><td>${own.mae.toFixed(2)}</td><td>${((own.within[0]?.share ?? 0) * 100).toFixed(1)}%</td>`), table);
  assert.ok(table.includes('<tr><th>Paper A &lt;2017&gt;</th><td>100 films</td><td>—</td><td>4.25</td><td>—</td><td>90.4%</td></tr>'), table);
  assert.ok(html.includes('A et al. J 2017;1:2'));
  // months in whole half-years are also given in years, as published tables of age estimates state them
  assert.ok(table.includes('<th>≤ 6 months (0.5 y)</th><th>≤ 12 months (1 y)</th>'), table);
  const days = renderRegressionReportHtml(buildRegressionReport(SAMPLES, { title: 't', unit: 'days', withinThresholds: [6] }));
  assert.ok(days.includes('<th>≤ 6 days</th>'), 'another unit keeps its own heading');
  assert.ok(!renderRegressionReportHtml(buildRegressionReport(SAMPLES, { title: 't', unit: 'months' })).includes('Beside published results'));
});
