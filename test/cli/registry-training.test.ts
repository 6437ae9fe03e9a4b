import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const ENTRY = `import { main } from ${JSON.stringify(resolve('src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...argv], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const SHARED = resolve('../shared/data/rsna-hand');

// The registry round trip on real hands: ingest (gate, the shipped hand model), a reviewer's correction and rejection,
// the export for training, and a model trained from it — the correction is its label, the rejected film is not in it.
void test(
  'registry round trip: ingest real hands, review, export --for-training, train from the export',
  { skip: existsSync(join(SHARED, 'labels.csv')) ? false : `no ${SHARED} (../shared absent)` },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-train-'));
    const archive = join(dir, 'archive');
    mkdirSync(archive);
    const rows = readFileSync(join(SHARED, 'labels.csv'), 'utf8').trim().split('\n').slice(1, 21);
    const manifest = ['file,sex'];
    for (const line of rows) {
      const [file, , , sex] = line.split(',');
      const name = (file ?? '').split('/').pop() as string;
      copyFileSync(join(SHARED, file as string), join(archive, name));
      manifest.push(`${name},${sex}`);
    }
    writeFileSync(join(archive, 'manifest.csv'), `${manifest.join('\n')}\n`);
    const url = `sqlite:${join(dir, 'r.db')}`;
    // the archive by its absolute path: the registry keeps paths as given, so the export names files anyone can open
    const ingested = run(['ingest', archive, '--registry', url, '--key-file', join(dir, 'deid.key'), '--manifest', join(archive, 'manifest.csv'), '--tasks', 'hand-bone-age']);
    assert.equal(ingested.code, 0, ingested.stderr);
    const stored = Number(/(\d+) stored/.exec(ingested.stdout + ingested.stderr)?.[1]);
    assert.ok(stored >= 15, `${stored} hands stored`);
    assert.equal(run(['registry', 'review', '--registry', url, '--instance', '1', '--label', '150', '--reviewer', 'dr-test']).code, 0);
    assert.equal(run(['registry', 'review', '--registry', url, '--instance', '2', '--reject', '--reviewer', 'dr-test']).code, 0);
    const exported = run(['registry', 'export', '--registry', url, '--for-training', 'hand-bone-age']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /left out: 1 rejected by a reviewer/);
    writeFileSync(join(dir, 'labels.csv'), exported.stdout);
    const lines = exported.stdout.trim().split('\n');
    assert.equal(lines[0], 'file,patient_id,boneage_months,sex');
    // a stored film the model refused (e.g. its feature check) has no result, so no label to export
    const refusedByModel = (ingested.stdout + ingested.stderr).split('\n').filter((l) => /hand-bone-age: refused \(/.test(l)).length;
    if (refusedByModel > 0) assert.match(exported.stderr, new RegExp(`${refusedByModel} no hand-bone-age result`));
    assert.equal(lines.length - 1, stored - 1 - refusedByModel, `every stored hand the model answered but the rejected one; export said: ${exported.stderr}`);
    assert.match(lines[1] ?? '', /,150,[MF]$/, 'the reviewer\'s correction is the label');
    const trained = run(['train', 'hand-bone-age', '--data', join(dir, 'labels.csv'), '--size', '32', '--epochs', '1', '--batch', '4', '--threads', '1', '--out', join(dir, 'run')]);
    assert.equal(trained.code, 0, trained.stderr);
    assert.ok(existsSync(join(dir, 'run', 'card.json')));
  },
);
