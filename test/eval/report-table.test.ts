import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOrdinalReport, checkReportTable, renderOrdinalReportHtml, reportTablesHtml, type ReportTable } from '../../src/eval/index.js';

const table: ReportTable = { title: 'Saliency <masks>', columns: ['view', 'share'], rows: [['AP', '12.5%'], ['LATERAL & co', '3.0%']], note: 'on 2 films' };

void test('a report table is refused when a row does not match its columns, and renders escaped', () => {
  assert.throws(() => checkReportTable({ title: 't', columns: ['a', 'b'], rows: [['1', '2'], ['3']] }), /report table 't': row 2 has 1 cells for 2 columns/);
  assert.throws(() => checkReportTable({ title: 't', columns: [], rows: [] }), /has no columns/);
  const html = reportTablesHtml([table]);
  assert.match(html, /<h2>Saliency &lt;masks&gt;<\/h2>/);
  assert.match(html, /<tr><th>LATERAL &amp; co<\/th><td>3\.0%<\/td><\/tr>/);
  assert.match(html, /<p class="note">on 2 films<\/p>/);
  assert.equal(reportTablesHtml([]), '');
});

void test('the ordinal report keeps its tables in the JSON and shows them on the page; a bad table is refused when the report is built', () => {
  const samples = [0, 1, 2].map((k) => ({ id: `f${k}`, predictedClass: k, referenceClass: k, predictedValue: k + 0.5, referenceValue: k + 0.4, groups: {} }));
  const report = buildOrdinalReport(samples, { title: 'r', unit: 'months', classNames: ['0', '1', '2'], tables: [table], createdAt: new Date(0) });
  assert.deepEqual(report.tables, [table]);
  assert.match(renderOrdinalReportHtml(report), /<h2>Saliency &lt;masks&gt;<\/h2>/);
  assert.equal(buildOrdinalReport(samples, { title: 'r', unit: 'months', classNames: ['0', '1', '2'] }).tables, undefined);
  assert.throws(() => buildOrdinalReport(samples, { title: 'r', unit: 'months', classNames: ['0', '1', '2'], tables: [{ title: 'x', columns: ['a'], rows: [['1', '2']] }] }), /row 1 has 2 cells for 1 columns/);
});
