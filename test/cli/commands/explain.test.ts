import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyBoneAgeBundle, writeBlobPng } from '../../infer/fixtures/tiny-bone-age.js';
import { capture, jsonLines } from '../capture.js';

void test('explain refuses an -o that is the input film itself (usage error, film untouched); another -o gets the heat map', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-explain-'));
  try {
    const bundle = tinyBoneAgeBundle(join(dir, 'bundle'), { id: 'tiny', seed: 1, biasMonths: 60 });
    const film = writeBlobPng(join(dir, 'blob_48x64.png'));
    const before = readFileSync(film);
    for (const o of [film, join(dir, '.', 'blob_48x64.png')]) {
      const r = await capture(['explain', '--no-gate', film, '--bundle', bundle.dir, '--sex', 'F', '-o', o]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /^physis: UsageError: -o .*blob_48x64\.png is the input film itself; choose another output/,
      );
    }
    assert.ok(readFileSync(film).equals(before), 'the film is untouched');
    const heat = join(dir, 'heat.png');
    const ok = await capture(['explain', '--no-gate', film, '--bundle', bundle.dir, '--sex', 'F', '-o', heat, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(jsonLines(ok.stdout)[0]?.heatmap, heat);
    assert.equal(readFileSync(heat).subarray(1, 4).toString(), 'PNG');
    // hand bone age explains with HiResCAM two stages before the last feature map (ResNet layer2: 4 × 4 at 32 px, where
    // the last is 1 × 1), and the method says which map
    assert.equal(jsonLines(ok.stdout)[0]?.heatmapMethod, 'HiResCAM of the bone age on the 4×4 feature map');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
