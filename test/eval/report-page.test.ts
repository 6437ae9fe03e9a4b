/**
 * The frame every HTML report shares: escaped title and notes, the facts table, and the embedded JSON that no string
 * can break out of.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { factsTable, reportPageEnd, reportPageStart } from '../../src/eval/index.js';

void test('the page start escapes the title and the lead notes', () => {
  const html = reportPageStart('MAE <dev> & more', ['simulated "phantom" films']);
  assert.match(html, /^<!DOCTYPE html>\n/);
  assert.ok(html.includes('<title>MAE &lt;dev&gt; &amp; more</title>'));
  assert.ok(html.includes('<h1>MAE &lt;dev&gt; &amp; more</h1>'));
  assert.ok(html.includes('<p class="lead">simulated &quot;phantom&quot; films</p>'));
  assert.ok(!reportPageStart('t').includes('class="lead"'), 'no notes, no lead paragraph');
});

void test('the facts table has one row per fact, and nothing when there are none', () => {
  assert.equal(factsTable({}), '');
  assert.equal(factsTable({ model: 'a<b', data: 'dev' }), '<table><tr><th>model</th><td>a&lt;b</td></tr><tr><th>data</th><td>dev</td></tr></table>');
});

void test('the embedded JSON parses back to the report and cannot close its script block', () => {
  const report = { title: '</script><script>alert(1)</script>', n: 3 };
  const html = reportPageEnd(report);
  assert.equal(html.match(/<\/script>/g)?.length, 1, 'only the block\'s own closing tag');
  const json = /<script type="application\/json" id="report-data">(.*)<\/script>/.exec(html)?.[1] ?? '';
  assert.deepEqual(JSON.parse(json), report);
  assert.match(html, /<\/body><\/html>\n$/);
});
