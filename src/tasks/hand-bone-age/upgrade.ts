/**
 * Upgrading a hand-bone-age bundle or composite written by Physis 0.1 (card schema 1, composite schema 1) in place:
 * the OOD statistics and the interval calibration become hashed artifacts, `trainingData.sex` becomes
 * `trainingData.subset.sex`, a sex-specific composite becomes one routed by sex. The weights file is not touched, so
 * the weights sha256 — and every answer — stay the same.
 *
 * Why: schema 1 hashed only the weights; an edited `ood.json` or `interval90Scale` changed clinical answers and still
 * passed `bundle verify`. The OOD file is accepted only if it matches the sha256 the weights file recorded for it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../../torch/index.js';
import { COMPOSITE_FILE, loadBundle, physisVersion, saveBundle, type ArtifactContents, type CardMetric, type ModelCard } from '../../infer/index.js';
import { OodModelError } from '../errors.js';
import { readBoneAgeLabels } from './labels.js';
import { parseOodModel } from './ood.js';
import { INTERVAL_FILE, INTERVAL_ROLE, OOD_FILE, OOD_ROLE, type IntervalCalibrationFile } from './state.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function upgradeMember(dir: string): string {
  const cardPath = join(dir, 'card.json');
  const raw = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown> & { schemaVersion: number };
  if (raw.schemaVersion !== 1) return `${dir}: card schema ${raw.schemaVersion}, nothing to upgrade`;
  const card = raw as unknown as Omit<ModelCard, 'schemaVersion' | 'trainingData'> & {
    trainingData: ModelCard['trainingData'] & { sex?: 'M' | 'F' };
  };
  const weights = readFileSync(join(dir, card.files.weights.path));
  if (sha256(weights) !== card.files.weights.sha256) throw new OodModelError(`${dir}: weights do not match card.json; refusing to upgrade`);
  const artifacts: ArtifactContents[] = [];
  const oodSha = parseSafetensors(weights, dir).metadata['oodSha256'];
  if (oodSha !== undefined) {
    const bytes = readFileSync(join(dir, OOD_FILE));
    if (sha256(bytes) !== oodSha) throw new OodModelError(`${dir}/${OOD_FILE}: sha256 differs from the one the weights file recorded`);
    parseOodModel(bytes.toString('utf8'), join(dir, OOD_FILE));
    artifacts.push({ path: OOD_FILE, role: OOD_ROLE, bytes });
  }
  const metric = (name: string): CardMetric | undefined => card.metrics.find((m) => m.name === name);
  const scale = metric('interval90Scale');
  if (scale !== undefined) {
    const coverage = metric('interval90Coverage');
    if (coverage === undefined) {
      // every 0.1 trainer wrote both; a card with one is hand-edited, and its interval cannot be vouched for
      throw new OodModelError(`${cardPath}: interval90Scale without interval90Coverage; refusing to upgrade an interval whose calibration is unknown`);
    }
    const heldOut = metric('interval90CoverageHeldOut');
    const n = /(\d+) images/.exec(scale.data)?.[1];
    const calibration: IntervalCalibrationFile = {
      format: 'physis-interval',
      version: 1,
      method: 'tta-sd-scaled-split-conformal',
      level: 0.9,
      scale: scale.value,
      floorMonths: 1,
      views: metric('ttaViews')?.value ?? 8,
      coverage: coverage.value,
      ...(heldOut === undefined ? {} : { coverageHeldOut: heldOut.value }),
      n: n === undefined ? 0 : Number(n),
      data: scale.data,
    };
    artifacts.push({ path: INTERVAL_FILE, role: INTERVAL_ROLE, bytes: new TextEncoder().encode(`${JSON.stringify(calibration, null, 2)}\n`) });
  }
  const { sex, ...trainingData } = card.trainingData;
  // schema 1 fields that schema 2 replaces or fills in itself are dropped here
  const { files: _f, createdAt, physisVersion: _p, schemaVersion: _s, trainingData: _t, ...draft } = raw as unknown as ModelCard;
  saveBundle(dir, {
    card: { ...draft, trainingData: { ...trainingData, ...(sex === undefined ? {} : { subset: { sex } }) } },
    weights,
    weightsDType: card.files.weights.dtype,
    artifacts,
    createdAt: new Date(createdAt),
  });
  return `${dir}: card schema 1 -> 2 (${artifacts.map((a) => a.path).join(', ') || 'no artifacts'} hashed; weights unchanged)`;
}

/**
 * Upgrade a hand-bone-age bundle or composite folder in place.
 * @param dir - the folder
 * @returns one line per folder rewritten
 */
export function upgradeHandBundle(dir: string): string {
  const compositePath = join(dir, COMPOSITE_FILE);
  if (!existsSync(compositePath)) {
    const line = upgradeMember(dir);
    loadBundle(dir);
    return line;
  }
  const c = JSON.parse(readFileSync(compositePath, 'utf8')) as {
    schemaVersion: number;
    kind: string;
    members: { path: string; sex?: string; [k: string]: unknown }[];
    interval90?: { halfWidthMonths?: number; [k: string]: unknown };
    [k: string]: unknown;
  };
  const lines = c.members.map((m) => upgradeMember(join(dir, m.path)));
  if (c.schemaVersion === 1) {
    const { halfWidthMonths, ...interval } = c.interval90 ?? {};
    const upgraded = {
      ...c,
      schemaVersion: 2,
      kind: c.kind === 'sex-specific' ? 'routed' : c.kind,
      ...(c.kind === 'sex-specific' ? { routeBy: 'sex' } : {}),
      members: c.members.map(({ sex, ...m }) => ({ ...m, ...(sex === undefined ? {} : { route: sex }) })),
      ...(c.interval90 ? { interval90: { ...interval, halfWidth: halfWidthMonths, unit: 'months' } } : {}),
      physisVersion: physisVersion(),
    };
    const tmp = `${compositePath}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(upgraded, null, 2)}\n`);
    renameSync(tmp, compositePath);
    lines.push(`${dir}: composite schema 1 -> 2`);
  }
  return lines.join('\n');
}

/**
 * Record the training rows of an upgraded bundle from the labels file it was trained on (its `train` and `dev`
 * split rows), so evaluation can warn about overlap.
 * @param dir - an upgraded bundle folder
 * @param labelsCsv - the labels file of the card's command
 */
export function recordHandTrainingRows(dir: string, labelsCsv: string): string {
  const bundle = loadBundle(dir);
  const rows = readBoneAgeLabels(labelsCsv);
  const pick = (split: string): { id: string; sha256: string }[] =>
    rows.filter((r) => r.split === split).map((r) => ({ id: r.file, sha256: sha256(readFileSync(r.path)) }));
  const doc = { format: 'physis-training-rows', version: 1, train: pick('train'), dev: pick('dev') };
  const { schemaVersion: _s, files: _f, createdAt, physisVersion: _p, ...draft } = bundle.card;
  saveBundle(dir, {
    card: draft,
    weights: bundle.weightsBytes,
    weightsDType: bundle.card.files.weights.dtype,
    artifacts: [
      ...[...bundle.artifacts.values()].filter((a) => a.role !== 'training-rows').map((a) => ({ path: a.path, role: a.role, bytes: a.bytes })),
      { path: 'training-rows.json', role: 'training-rows', bytes: new TextEncoder().encode(`${JSON.stringify(doc)}\n`) },
    ],
    createdAt: new Date(createdAt),
  });
  return `${dir}: ${doc.train.length} train and ${doc.dev.length} dev rows of ${labelsCsv} recorded`;
}
