/**
 * `physis bundle verify <dir>` / `physis bundle add-onnx <dir>`: check a model bundle (card, files, sha256)
 * and give a weights-only bundle (e.g. from `physis train`) its ONNX graph, so predictions run on ONNX
 * Runtime. Thin: the work is in src/infer.
 *
 * @example
 * $ physis bundle verify runs/hand-bone-age
 * runs/hand-bone-age: hand-bone-age 0.1.0 (resnet18, 1x512x512), weights float32 sha256 3f2a…, ONNX opset 17 sha256 9c1e…: ok
 */
import { addOnnxToBundle, loadBundle, type ModelBundle } from '../../infer/index.js';
import { UsageError, type Command } from '../command.js';

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

/** `physis bundle`: verify a bundle, or add its ONNX graph. */
export const bundleCommand: Command = {
  name: 'bundle',
  summary: 'verify a model bundle, or add its ONNX graph (add-onnx)',
  usage: [
    'usage: physis bundle verify <dir> [--json]',
    '       physis bundle add-onnx <dir> [--json]',
    '',
    'verify    checks card.json, that every file it names exists and matches its sha256, and that no unlisted',
    '          model file is present; exits 1 with the reason otherwise',
    'add-onnx  exports the bundle model to model.onnx (opset 17, with the Grad-CAM feature map as a second',
    '          output) and records its sha256 in card.json; the weights file is not changed',
    '',
    'example:',
    '  $ physis bundle verify runs/hand-bone-age',
    '  runs/hand-bone-age: hand-bone-age 0.1.0 (resnet18, 1x512x512), weights float32 sha256 3f2a…, no ONNX graph: ok',
  ].join('\n'),
  options: {},
  allowPositionals: true,
  run(args, out) {
    const [action, dir, ...extra] = args.positionals;
    if (dir === undefined || extra.length > 0)
      throw new UsageError('give an action and one bundle directory');
    if (action === 'verify') {
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
    throw new UsageError(`unknown action '${action ?? ''}'; expected 'verify' or 'add-onnx'`);
  },
};
