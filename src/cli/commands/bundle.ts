/**
 * `physis bundle verify <dir>` / `physis bundle add-onnx <dir>`: check a model bundle (card, files, sha256)
 * and give a weights-only bundle (e.g. from `physis train`) its ONNX graph, so predictions run on ONNX
 * Runtime. `physis bundle compose --by sex M=a F=b --out dir`: a composite routed by an input, of bundles trained
 * with `physis train … --subset sex=M|F` (copied into dir/M and dir/F and pinned by composite.json).
 * `physis bundle recalibrate <dir> --data labels.csv`: the task's interval calibrated again on labelled films the
 * bundle did not train on (the work is the task's).
 * `verify` also checks a composite folder (composite.json and every member). Thin: the work is in src/infer.
 *
 * @example
 * $ physis bundle verify runs/hand-bone-age
 * runs/hand-bone-age: hand-bone-age 0.1.0 (resnet18, 1x512x512), weights float32 sha256 3f2a…, ONNX opset 17 sha256 9c1e…: ok
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addOnnxToBundle,
  BUNDLE_FILES,
  COMPOSITE_FILE,
  CompositeMemberError,
  isCompositeDir,
  loadBundle,
  loadComposite,
  saveComposite,
  type CompositeBundle,
  type ModelBundle,
} from '../../infer/index.js';
import { getTask, labelsPath } from '../../tasks/index.js';
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
    artifacts: c.files.artifacts ?? [],
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
    `weights ${w.dtype} sha256 ${w.sha256.slice(0, 12)}…, ${onnx}` +
    `${(c.files.artifacts ?? []).map((a) => `, ${a.role} ${a.path} sha256 ${a.sha256.slice(0, 12)}…`).join('')}: ok`
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
    .map((p) => `${p.path}${p.route ? ` [${c.manifest.routeBy ?? ''} ${p.route}]` : ''} ${p.id} sha256 ${p.weightsSha256.slice(0, 12)}…`)
    .join(', ');
  return `${c.dir}: ${c.manifest.kind} composite ${c.manifest.id} of ${c.members.length} verified members (${members}): ok`;
}

/**
 * Copy a member bundle into the composite folder after checking its card says it was trained on the subset of its
 * slot. Only the bundle's own files travel (card, weights, ONNX graph, artifacts), not its checkpoint or log.
 */
function copyRoutedMember(src: string, routeBy: string, value: string, dest: string): void {
  const b = loadBundle(src);
  const has = b.card.trainingData.subset?.[routeBy];
  if (has !== value) {
    throw new CompositeMemberError(
      `${src}: given as the ${routeBy} ${value} model, but its card says it was trained on ` +
        `${has === undefined ? `every ${routeBy}` : `${routeBy} ${has} only`} ` +
        `(train one with \`physis train ${b.card.task} --subset ${routeBy}=${value}\`)`,
    );
  }
  mkdirSync(dest, { recursive: true });
  const names = [BUNDLE_FILES.card, b.card.files.weights.path, b.card.files.onnx?.path, ...(b.card.files.artifacts ?? []).map((a) => a.path)];
  for (const name of names) if (name !== undefined) copyFileSync(join(src, name), join(dest, name));
  loadBundle(dest);
}

/** `physis bundle`: verify a bundle or composite, add a bundle's ONNX graph, or compose a sex-specific pair. */
export const bundleCommand: Command = {
  name: 'bundle',
  summary: 'verify a model bundle or composite, add its ONNX graph (add-onnx), compose a sex-specific pair, or recalibrate its interval',
  usage: [
    'usage: physis bundle verify <dir> [--json]',
    '       physis bundle add-onnx <dir> [--json]',
    '       physis bundle compose --by <input> <value>=<bundle>… --out <dir> [--id name] [--json]',
    '       physis bundle upgrade <dir> [--training-labels labels.csv] [--json]',
    '       physis bundle recalibrate <dir> --data <labels.csv | dir> [--split name] [--json]',
    '',
    'verify    checks card.json, that every file it names (weights, graph, OOD statistics, calibration, training rows)',
    '          exists and matches its sha256, and that no unlisted model file is present; exits 1 with the reason',
    '          otherwise. A composite folder: every member is verified and must be the one pinned (id and weights sha256)',
    'compose   a composite routed by an input: copies each bundle (trained with `physis train … --subset <input>=<value>`;',
    '          others are refused) into <out>/<value> and writes <out>/composite.json; predict, evaluate and explain take',
    '          <out> as --bundle and choose the member by the film\'s value (unknown: every member, each for its value)',
    'recalibrate  calibrates a bundle\'s 90% interval again, in place, on labelled films it did not train on (a film',
    '          listed in its training rows is refused, judged by content): --data <labels.csv | dir> [--split name]; the',
    '          calibration file, the card\'s interval metrics, the films and command (trainingData.calibration) and the',
    '          patch version change, the weights do not. A member of a composite by sex is calibrated on its sex\'s films',
    'upgrade   rewrites a bundle or composite made by Physis 0.1 (card schema 1) in place: its OOD statistics and interval',
    '          calibration become hashed artifacts; the weights file is not touched. --training-labels records the train',
    '          and dev rows of the labels file it was trained on, so evaluate can flag overlap',
    'add-onnx  exports the bundle model to model.onnx (opset 17, with the Grad-CAM feature map as a second',
    '          output) and records its sha256 in card.json; the weights file is not changed',
    '',
    'example:',
    '  $ physis bundle verify runs/hand-bone-age',
    '  runs/hand-bone-age: hand-bone-age 0.1.0 (resnet18, 1x512x512), weights float32 sha256 3f2a…, no ONNX graph: ok',
    '  $ physis bundle compose --by sex M=runs/boys F=runs/girls --out runs/by-sex',
    '  $ physis bundle recalibrate runs/hand-bone-age --data ../shared/data/rsna-hand-lowres --split dev',
  ].join('\n'),
  options: {
    by: { type: 'string' },
    out: { type: 'string', short: 'o' },
    id: { type: 'string' },
    'training-labels': { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
  },
  allowPositionals: true,
  run(args, out) {
    const [action, dir, ...extra] = args.positionals;
    if (action === 'compose') {
      const routeBy = stringOption(args, 'by', true);
      const slots = [dir, ...extra].filter((x): x is string => x !== undefined).map((x) => {
        const eq = x.indexOf('=');
        if (eq <= 0) throw new UsageError(`compose: expected <value>=<bundle>, got '${x}'`);
        return { value: x.slice(0, eq), src: x.slice(eq + 1) };
      });
      if (slots.length < 2) throw new UsageError('compose needs at least two <value>=<bundle> members');
      const outDir = stringOption(args, 'out', true);
      if (isCompositeDir(outDir) || existsSync(join(outDir, BUNDLE_FILES.card))) {
        throw new UsageError(`${outDir} already holds a bundle or composite; choose a new --out folder`);
      }
      const shapes = slots.map((s) => `${s.src} takes ${loadBundle(s.src).card.input.shape.join('x')}`);
      if (new Set(shapes.map((x) => x.split(' takes ')[1])).size > 1) throw new CompositeMemberError(`members must share the input size: ${shapes.join(', ')}`);
      for (const s of slots) copyRoutedMember(s.src, routeBy, s.value, join(outDir, s.value));
      const cards = slots.map((s) => loadBundle(join(outDir, s.value)).card);
      const first = cards[0] as ModelBundle['card'];
      const c = saveComposite(outDir, {
        kind: 'routed',
        routeBy,
        id: stringOption(args, 'id') ?? `${first.task}-by-${routeBy}`,
        task: first.task,
        members: slots.map((s) => ({ path: s.value, route: s.value })),
        description:
          `Routed by ${routeBy}: ` +
          slots.map((s, i) => `${routeBy} ${s.value} is answered by ${cards[i]?.id ?? '?'} (from ${s.src}; ${cards[i]?.trainingData.summary ?? ''})`).join('; ') +
          `. Each member's metrics and interval are its own card's, measured on dev images of its ${routeBy}.`,
      });
      out.result(compositeSummary(c), compositeHuman(c));
      return Promise.resolve(0);
    }
    if (action === 'upgrade') {
      if (dir === undefined || extra.length > 0) throw new UsageError('give one bundle or composite folder');
      const composite = join(dir, COMPOSITE_FILE);
      const raw = JSON.parse(readFileSync(existsSync(composite) ? composite : join(dir, BUNDLE_FILES.card), 'utf8')) as { task?: unknown };
      const task = getTask(String(raw.task));
      if (task.upgradeBundle === undefined) throw new UsageError(`${task.name} has no older bundle format to upgrade`);
      const lines = [task.upgradeBundle(dir)];
      const labels = stringOption(args, 'training-labels');
      if (labels !== undefined) {
        if (task.recordTrainingRows === undefined) throw new UsageError(`${task.name} cannot record training rows`);
        lines.push(task.recordTrainingRows(dir, labels));
      }
      out.result({ dir, upgraded: lines }, lines.join('\n'));
      return Promise.resolve(0);
    }
    if (action === 'recalibrate') {
      if (dir === undefined || extra.length > 0) throw new UsageError('give one bundle folder');
      if (isCompositeDir(dir)) throw new UsageError(`${dir} is a composite: recalibrate each member folder, whose interval is its own`);
      const task = getTask(loadBundle(dir).card.task);
      if (task.recalibrateInterval === undefined) throw new UsageError(`${task.name} bundles carry no interval to recalibrate`);
      const data = stringOption(args, 'data', true);
      const split = stringOption(args, 'split');
      const command = `physis bundle recalibrate ${dir} --data ${data}${split === undefined ? '' : ` --split ${split}`}`;
      const progress = (done: number, total: number, rate: number, eta: number): void => {
        if (done % 20 === 0 || done === total) out.progress(`${dir}: ${done}/${total} films, ${rate.toFixed(1)} films/s, ${Math.round(eta)} s left`);
      };
      return task.recalibrateInterval(dir, labelsPath(data), { ...(split === undefined ? {} : { split }), command, progress }).then((line) => {
        out.result({ dir, recalibrated: line }, line);
        return 0;
      });
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
    throw new UsageError(`unknown action '${action ?? ''}'; expected 'verify', 'add-onnx', 'compose', 'upgrade' or 'recalibrate'`);
  },
};
