/**
 * `physis bundle verify <dir>` / `physis bundle add-onnx <dir>`: check a model bundle (card, files, sha256)
 * and give a weights-only bundle (e.g. from `physis train`) its ONNX graph, so predictions run on ONNX
 * Runtime. `physis bundle compose --male a --female b --out dir`: a sex-specific composite of two bundles
 * trained with `physis train … --sex M|F` (copied into dir/male and dir/female and pinned by composite.json).
 * `verify` also checks a composite folder (composite.json and every member). Thin: the work is in src/infer.
 *
 * @example
 * $ physis bundle verify runs/hand-bone-age
 * runs/hand-bone-age: hand-bone-age 0.1.0 (resnet18, 1x512x512), weights float32 sha256 3f2a…, ONNX opset 17 sha256 9c1e…: ok
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  addOnnxToBundle,
  BUNDLE_FILES,
  CompositeMemberError,
  isCompositeDir,
  loadBundle,
  loadComposite,
  saveComposite,
  type CompositeBundle,
  type ModelBundle,
} from '../../infer/index.js';
import { OOD_FILE } from '../../train/index.js';
import { stringOption, UsageError, type Command } from '../command.js';

function summary(b: ModelBundle): Record<string, unknown> {
  const c = b.card;
  return {
    dir: b.dir,
    id: c.id,
    version: c.version,
    task: c.task,
    architecture: c.architecture.name,
    inputShape: c.input.shape,
    outputs: c.outputs,
    weights: c.files.weights,
    onnx: c.files.onnx ?? null,
    createdAt: c.createdAt,
    physisVersion: c.physisVersion,
  };
}

function human(b: ModelBundle): string {
  const c = b.card;
  const w = c.files.weights;
  const onnx = c.files.onnx
    ? `ONNX opset ${c.files.onnx.opset} sha256 ${c.files.onnx.sha256.slice(0, 12)}…`
    : 'no ONNX graph';
  return (
    `${b.dir}: ${c.id} ${c.version} (${c.architecture.name}, ${c.input.shape.join('x')}), ` +
    `weights ${w.dtype} sha256 ${w.sha256.slice(0, 12)}…, ${onnx}: ok`
  );
}

function compositeSummary(c: CompositeBundle): Record<string, unknown> {
  const m = c.manifest;
  return {
    dir: c.dir,
    id: m.id,
    kind: m.kind,
    task: m.task,
    members: m.members.map((p, i) => ({ ...p, dir: c.members[i]?.dir })),
    metrics: m.metrics,
    ...(m.interval90 ? { interval90: m.interval90 } : {}),
    createdAt: m.createdAt,
  };
}

function compositeHuman(c: CompositeBundle): string {
  const members = c.manifest.members
    .map((p) => `${p.path}${p.sex ? ` [${p.sex}]` : ''} ${p.id} sha256 ${p.weightsSha256.slice(0, 12)}…`)
    .join(', ');
  return `${c.dir}: ${c.manifest.kind} composite ${c.manifest.id} of ${c.members.length} verified members (${members}): ok`;
}

/**
 * Copy one sex's bundle into the composite folder after checking its card says it was trained on that sex.
 * Only the bundle's own files travel (card, weights, ONNX graph, OOD model), not its checkpoint or log.
 */
function copySexMember(src: string, sex: 'M' | 'F', dest: string): void {
  const b = loadBundle(src);
  if (b.card.trainingData.sex !== sex) {
    const has = b.card.trainingData.sex === undefined ? 'both sexes' : `sex ${b.card.trainingData.sex} only`;
    throw new CompositeMemberError(
      `${src}: given as the ${sex === 'M' ? 'male' : 'female'} model, but its card says it was trained on ${has} ` +
        `(train one with \`physis train hand-bone-age --sex ${sex}\`)`,
    );
  }
  mkdirSync(dest, { recursive: true });
  const names = [BUNDLE_FILES.card, b.card.files.weights.path, b.card.files.onnx?.path, OOD_FILE];
  for (const name of names) if (name !== undefined && existsSync(join(src, name))) copyFileSync(join(src, name), join(dest, name));
  loadBundle(dest);
}

/** `physis bundle`: verify a bundle or composite, add a bundle's ONNX graph, or compose a sex-specific pair. */
export const bundleCommand: Command = {
  name: 'bundle',
  summary: 'verify a model bundle or composite, add its ONNX graph (add-onnx), or compose a sex-specific pair',
  usage: [
    'usage: physis bundle verify <dir> [--json]',
    '       physis bundle add-onnx <dir> [--json]',
    '       physis bundle compose --male <bundle> --female <bundle> --out <dir> [--id name] [--json]',
    '',
    'verify    checks card.json, that every file it names exists and matches its sha256, and that no unlisted',
    '          model file is present; exits 1 with the reason otherwise. A composite folder (composite.json):',
    '          every member is verified and must be the one pinned (card id and weights sha256)',
    'compose   a sex-specific composite: copies the two bundles (trained with `physis train … --sex M|F`; others are',
    '          refused) into <out>/male and <out>/female and writes <out>/composite.json; predict, evaluate and explain',
    '          take <out> as --bundle and choose the member by the resolved sex (unknown sex: both answers)',
    'add-onnx  exports the bundle model to model.onnx (opset 17, with the Grad-CAM feature map as a second',
    '          output) and records its sha256 in card.json; the weights file is not changed',
    '',
    'example:',
    '  $ physis bundle verify runs/hand-bone-age',
    '  runs/hand-bone-age: hand-bone-age 0.1.0 (resnet18, 1x512x512), weights float32 sha256 3f2a…, no ONNX graph: ok',
    '  $ physis bundle compose --male runs/boys --female runs/girls --out runs/by-sex',
  ].join('\n'),
  options: {
    male: { type: 'string' },
    female: { type: 'string' },
    out: { type: 'string', short: 'o' },
    id: { type: 'string' },
  },
  allowPositionals: true,
  run(args, out) {
    const [action, dir, ...extra] = args.positionals;
    if (action === 'compose') {
      if (dir !== undefined) throw new UsageError('compose takes --male, --female and --out, not a positional folder');
      const male = stringOption(args, 'male', true);
      const female = stringOption(args, 'female', true);
      const outDir = stringOption(args, 'out', true);
      if (isCompositeDir(outDir) || existsSync(join(outDir, BUNDLE_FILES.card))) {
        throw new UsageError(`${outDir} already holds a bundle or composite; choose a new --out folder`);
      }
      const [ms, fs] = [loadBundle(male).card.input.shape.join('x'), loadBundle(female).card.input.shape.join('x')];
      if (ms !== fs) throw new CompositeMemberError(`${male} takes input ${ms} but ${female} takes ${fs}; a pair must share the input size`);
      copySexMember(male, 'M', join(outDir, 'male'));
      copySexMember(female, 'F', join(outDir, 'female'));
      const m = loadBundle(join(outDir, 'male')).card;
      const f = loadBundle(join(outDir, 'female')).card;
      const c = saveComposite(outDir, {
        kind: 'sex-specific',
        id: stringOption(args, 'id') ?? `${m.task}-by-sex`,
        task: m.task,
        members: [
          { path: 'male', sex: 'M' },
          { path: 'female', sex: 'F' },
        ],
        description:
          `Sex-specific pair: boys are predicted by ${m.id} (from ${male}; ${m.trainingData.summary}), girls by ${f.id} ` +
          `(from ${female}; ${f.trainingData.summary}). Each member's metrics and 90% interval are its own card's, ` +
          `measured on dev images of its sex.`,
      });
      out.result(compositeSummary(c), compositeHuman(c));
      return Promise.resolve(0);
    }
    if (dir === undefined || extra.length > 0)
      throw new UsageError('give an action and one bundle directory');
    if (action === 'verify') {
      if (isCompositeDir(dir)) {
        const c = loadComposite(dir);
        out.result(compositeSummary(c), compositeHuman(c));
        return Promise.resolve(0);
      }
      const b = loadBundle(dir);
      out.result(summary(b), human(b));
      return Promise.resolve(0);
    }
    if (action === 'add-onnx') {
      out.progress(`${dir}: exporting ONNX…`);
      const b = addOnnxToBundle(loadBundle(dir));
      out.result(summary(b), human(b));
      return Promise.resolve(0);
    }
    throw new UsageError(`unknown action '${action ?? ''}'; expected 'verify', 'add-onnx' or 'compose'`);
  },
};
