/**
 * Measured OOD rates of a trained bundle on ../shared (issue 5): AASCE spines rejected, RSNA dev hands and
 * the unlabeled real hands of other film sizes passing. Needs a trained bundle whose card lists its ood.json (role ood):
 * Measures the shipped default bundle (models/hand-bone-age), or the one named by `PHYSIS_OOD_BUNDLE=/path/to/bundle`;
 * skips without ../shared.
 * About 670 forwards (177 dev + 481 spines + 10 + 1); under a minute at 128 px on two cores. This is the model's
 * own second line: the suitability gate refuses non-hands first (its tests measure that).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { preprocess } from '../../src/preprocess/index.js';
import { readRadiograph } from '../../src/radiograph/index.js';
import { disposeModelSet, openModelSet } from '../../src/infer/index.js';
import { cardPreprocessing, HAND_BONE_AGE_TASK } from '../../src/tasks/index.js';
import { checkHand, readBoneAgeLabels } from '../../src/tasks/hand-bone-age/index.js';
import { pooledFeatures } from '../../src/train/index.js';

const SHARED = resolve('../shared/data');
const BUNDLE = process.env['PHYSIS_OOD_BUNDLE'] ?? (existsSync('models/hand-bone-age/card.json') ? 'models/hand-bone-age' : undefined);
const skip =
  BUNDLE === undefined
    ? 'no models/hand-bone-age bundle: set PHYSIS_OOD_BUNDLE to a trained hand-bone-age bundle to measure its OOD rates'
    : ['rsna-hand', 'aasce-spine', 'hands-unlabeled'].every((d) => existsSync(join(SHARED, d)))
      ? false
      : `no ${SHARED}/{rsna-hand,aasce-spine,hands-unlabeled} (../shared absent)`;

void test(
  'OOD on real films: ≥ 50% of AASCE spines rejected by the features alone, ≥ 98% of RSNA dev hands and the unlabeled hands pass',
  { skip },
  async (t) => {
    const set = openModelSet(BUNDLE as string, { task: HAND_BONE_AGE_TASK.name });
    try {
      const member = set.members[0];
      assert.ok(member && set.members.length === 1, `${BUNDLE} is one bundle`);
      const { model, bundle } = member;
      const ood = HAND_BONE_AGE_TASK.openMember(member).ood;
      assert.ok(ood, `${BUNDLE} has no ood.json`);
      const size = bundle.card.input.shape[1] as number;
      const preprocessing = cardPreprocessing(member);
      const passRate = async (paths: readonly string[]): Promise<number> => {
        let pass = 0;
        for (let i = 0; i < paths.length; i += 16) {
          const chunk = paths.slice(i, i + 16);
          const data = new Float32Array(chunk.length * size * size);
          const films: { width: number; height: number }[] = [];
          for (const [k, p] of chunk.entries()) {
            const radiograph = await readRadiograph(p);
            films.push({ width: radiograph.columns, height: radiograph.rows });
            data.set(preprocess(radiograph, preprocessing).image.data, k * size * size);
          }
          pass += pooledFeatures(model, data, size).filter((f, k) => !checkHand(ood, f, films[k] as { width: number; height: number }).rejected).length;
        }
        return pass / paths.length;
      };
      const rows = readBoneAgeLabels(join(SHARED, 'rsna-hand', 'labels.csv'));
      const dev = await passRate(rows.filter((r) => r.split === 'dev').map((r) => r.path));
      const spineFiles = readFileSync(join(SHARED, 'aasce-spine', 'labels.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => join(SHARED, 'aasce-spine', l.split(',')[0] ?? ''));
      const spineRejected = 1 - (await passRate(spineFiles));
      const unlabeled = await passRate(
        Array.from({ length: 10 }, (_, i) => join(SHARED, 'hands-unlabeled', `${i}.png`)),
      );
      const sample = await passRate([resolve('samples/hand-0.png')]);
      t.diagnostic(
        `${BUNDLE} (threshold ${ood.threshold.toFixed(2)}): dev hands pass ${(dev * 100).toFixed(1)}%, AASCE spines rejected ` +
          `${(spineRejected * 100).toFixed(1)}% of ${spineFiles.length}, unlabeled hands pass ${(unlabeled * 100).toFixed(0)}%, samples/hand-0.png ${sample === 1 ? 'passes' : 'rejected'}`,
      );
      assert.ok(dev >= 0.98, `dev pass rate ${dev}`);
      assert.ok(unlabeled >= 0.9, `unlabeled hands pass rate ${unlabeled}`);
      assert.equal(sample, 1, 'samples/hand-0.png passes');
      // the suitability gate refuses spines before this check; a model trained on squares has no film-shape range, so
      // this is the second line's own rate, measured by the features alone: 89.2% with the 30-epoch half-width model,
      // 75.1% with the 50-epoch one, 52.4% with the full-width GPU model, whose dev hands reach distance 34.6
      // (threshold 34.1) while the spines' median is 34.9 (wider features fit hands better and separate spines less),
      // 52.2% with the shipped model, the GPU model's weights averaged
      assert.ok(spineRejected >= 0.5, `spine rejection rate ${spineRejected}`);
    } finally {
      disposeModelSet(set);
    }
  },
);
