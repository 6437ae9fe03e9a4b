import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGrayPng, parseCsvTable } from '../../src/radiograph/index.js';
import { KNEE_EXCLUSION_COLUMNS, writeKneePhantomCohort } from '../../src/tasks/knee-bone-age/phantom/index.js';
import type { PairingCounts } from '../../src/tasks/knee-bone-age/pairing.js';
import { capture } from './capture.js';

/** A hands folder of `n` 4×4 PNGs with RSNA-style labels (bone ages 12–216 months, both sexes). */
function handsFolder(root: string, n: number): string {
  const dir = join(root, 'hands');
  mkdirSync(dir, { recursive: true });
  const png = encodeGrayPng(4, 4, new Float32Array(16).fill(0.5));
  const labels = ['file,rsna_id,boneage_months,sex,split'];
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, `${i}.png`), png);
    labels.push(`${i}.png,${5000 + i},${12 + ((i * 53) % 205)},${i % 2 ? 'F' : 'M'},${i % 4 ? 'train' : 'dev'}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${labels.join('\n')}\n`);
  return dir;
}

const dayOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

void test('physis pair on a phantom cohort: pairs and summary agree with the manifest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'physis-pair-cli-'));
  try {
    const cohortDir = join(root, 'cohort');
    const made = await writeKneePhantomCohort({ handsDir: handsFolder(root, 80), outDir: cohortDir, seed: 3, size: 32, format: 'dicom' });
    const pairsCsv = join(root, 'pairs.csv');
    const human = await capture(['pair', '--manifest', made.manifestCsv, '--out', pairsCsv]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /pairs\.csv: \d+ pairs \(\d+ knee films of \d+ patients, \d+ hand films\); interval median [\d.]+ days, max \d+ days \(window 92 days\)\. Unpaired knees: /);

    // what the manifest says should pair: a knee of an unflagged patient within 92 days of the patient's one hand
    const manifest = parseCsvTable(readFileSync(made.manifestCsv, 'utf8'), made.manifestCsv, ['patient_id']);
    const at = (fields: readonly string[], name: string): string => fields[manifest.columns.get(name) ?? -1] ?? '';
    const handDay = new Map<string, number>();
    const flagged = new Set<string>();
    for (const { fields } of manifest.records) {
      if (at(fields, 'body_part') === 'hand') handDay.set(at(fields, 'patient_id'), dayOf(at(fields, 'study_date')));
      if (KNEE_EXCLUSION_COLUMNS.some((c) => at(fields, c) === '1')) flagged.add(at(fields, 'patient_id'));
    }
    let within = 0;
    let beyond = 0;
    for (const { fields } of manifest.records) {
      const id = at(fields, 'patient_id');
      const hand = handDay.get(id);
      if (at(fields, 'body_part') !== 'knee' || flagged.has(id) || hand === undefined) continue;
      if (Math.abs(dayOf(at(fields, 'study_date')) - hand) <= 92) within++;
      else beyond++;
    }

    const again = await capture(['pair', '--manifest', made.manifestCsv, '--out', pairsCsv]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /OutputExistsError: .*pairs\.csv exists/);

    const json = await capture(['pair', '--manifest', made.manifestCsv, '--out', pairsCsv, '--force', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const counts = JSON.parse(json.stdout) as PairingCounts & { pairsCsv: string };
    assert.equal(counts.pairsCsv, pairsCsv);
    assert.equal(counts.pairs, within);
    assert.ok(beyond > 0 && made.excludedPatients > 0, 'seed 3 has late knees and flagged patients');
    assert.equal(counts.unpairedKneesByCause['beyond-interval'] ?? 0, beyond);
    assert.equal(counts.unpairedKneesByCause['no-hand'], made.kneeOnlyPatients);
    assert.equal(counts.unpairedKnees, beyond + made.kneeOnlyPatients);
    assert.equal(counts.excludedPatients, made.excludedPatients);
    assert.equal(counts.excludedPatients, flagged.size);
    assert.ok((counts.intervalDaysMax ?? 0) <= 92);
    assert.ok(counts.unusedHands >= made.handOnlyPatients);
    assert.ok(human.stdout.includes(`: ${within} pairs (`), human.stdout);
    assert.equal(readFileSync(pairsCsv, 'utf8').trimEnd().split('\n').length, within + 1);

    // a narrower window, no exclusion columns, and usage errors
    const narrow = await capture(['pair', '--manifest', made.manifestCsv, '--out', pairsCsv, '--force', '--json', '--max-interval-days', '30', '--exclude-columns', '']);
    const narrowCounts = JSON.parse(narrow.stdout) as PairingCounts;
    assert.equal(narrowCounts.excludedPatients, 0);
    assert.equal(narrowCounts.maxIntervalDays, 30);
    assert.ok((narrowCounts.intervalDaysMax ?? 0) <= 30);
    const usage = await capture(['pair', '--manifest', made.manifestCsv]);
    assert.notEqual(usage.code, 0);
    assert.match(usage.stderr, /missing --out/);
    const badWindow = await capture(['pair', '--manifest', made.manifestCsv, '--out', pairsCsv, '--max-interval-days', 'soon']);
    assert.match(badWindow.stderr, /--max-interval-days must be an integer/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
