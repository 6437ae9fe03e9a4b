/**
 * The model card: the JSON document that says what a bundle's model is, what it expects and how well it works.
 *
 * Why: a clinical model is only usable with its context — the task, the input it was trained on, the units of
 * its outputs and the data its metrics were measured on (Mitchell et al. 2019, "Model Cards for Model
 * Reporting"; the CLAIM checklist, Mongan et al. 2020, items on data, model and evaluation). The card also
 * records the sha256 of every shipped file so a bundle cannot silently drift from what was validated.
 */
import { ModelCardError } from './errors.js';

/**
 * Current card schema version; bump when a field changes meaning. Version 2 lists every file that changes an
 * answer (`files.artifacts`: OOD statistics, interval calibration, …) with its sha256, and names a training subset
 * by input (`trainingData.subset`, e.g. `{ sex: 'M' }`) instead of version 1's `trainingData.sex`.
 */
export const MODEL_CARD_SCHEMA_VERSION = 2;

/** One model output: its ONNX/predictor name, its unit (e.g. 'months', 'probability', 'logit') and meaning. */
export interface CardOutput {
  readonly name: string;
  readonly unit: string;
  readonly description?: string;
}

/** A scalar input beside the image (e.g. sex, chronological age), concatenated before the head. */
export interface CardExtraInput {
  readonly name: string;
  readonly unit: string;
}

/** A metric with the data it was measured on (never a number without its data set). */
export interface CardMetric {
  readonly name: string;
  readonly value: number;
  readonly unit?: string;
  /** The data the metric was measured on, e.g. 'dev split of labels.csv, 177 images'. */
  readonly data: string;
}

/** A file shipped in the bundle, relative to the bundle directory, with its sha256 (hex). */
export interface CardFile {
  readonly path: string;
  readonly sha256: string;
}

/**
 * A bundle file besides the weights and graph that changes an answer or records what made it (OOD statistics,
 * interval calibration, the list of training rows); `role` says what it is, and the task that reads it looks it
 * up by role.
 */
export interface CardArtifact extends CardFile {
  readonly role: string;
}

/** A model card as stored in card.json. */
export interface ModelCard {
  readonly schemaVersion: number;
  readonly id: string;
  readonly version: string;
  readonly task: string;
  readonly architecture: { readonly name: string; readonly options: Readonly<Record<string, unknown>> };
  readonly input: {
    /** Per-sample shape [channels, height, width]; the batch dimension is dynamic. */
    readonly shape: readonly number[];
    readonly extra?: readonly CardExtraInput[];
    /** Preprocessing options as src/preprocess takes them (VOI, inversion, crop, resize, normalisation). */
    readonly preprocessing: Readonly<Record<string, unknown>>;
  };
  readonly outputs: readonly CardOutput[];
  /**
   * The last convolutional feature map for Grad-CAM/CAM, if exported: the graph output carrying it and the
   * dotted name of the module whose output it is (so the libtorch backend can hook the same tensor).
   */
  readonly featureMap?: { readonly output: string; readonly module: string };
  readonly trainingData: {
    readonly summary: string;
    readonly datasets?: readonly string[];
    /** The command that trains this bundle from scratch (resuming an interrupted run gives the same weights). */
    readonly command?: string;
    /**
     * Set when the model was trained (and its metrics measured) on a subset of the data chosen by an input, e.g.
     * `{ sex: 'M' }` for the male model of a sex-specific pair (Larson et al., Radiology 2018, trained one model per
     * sex); a composite routed by that input refuses a member whose subset does not match its slot, and the model
     * refuses a film whose input is another value.
     */
    readonly subset?: Readonly<Record<string, string>>;
    /**
     * The weights training started from (`physis train --init`), with their sha256: a fine-tuned model's answers
     * depend on them, and the path alone may later name other weights.
     */
    readonly init?: { readonly source: string; readonly weightsSha256: string };
    /** How the shipped weights were chosen: the best dev epoch's, or the mean of several (weight averaging). */
    readonly weights?: string;
    /**
     * Set when the interval was calibrated again after training (`physis bundle recalibrate`): the command and the
     * films, since the interval's coverage holds for films like those.
     */
    readonly calibration?: { readonly command: string; readonly data: string };
  };
  readonly metrics: readonly CardMetric[];
  readonly files: {
    readonly weights: CardFile & { readonly dtype: 'float32' | 'float16' };
    readonly onnx?: CardFile & { readonly opset: number };
    /** Every other file that changes an answer, each hashed (checked by `loadBundle` and `physis bundle verify`). */
    readonly artifacts?: readonly CardArtifact[];
  };
  /** ISO 8601 creation time. */
  readonly createdAt: string;
  readonly physisVersion: string;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

/**
 * Check that a parsed card.json has every required field with the right type, and return it typed.
 * @param value - the parsed JSON
 * @param source - the file it came from, for messages
 */
export function validateModelCard(value: unknown, source = 'card.json'): ModelCard {
  const fail = (field: string, why: string): never => {
    throw new ModelCardError(`${source}: ${field} ${why}`);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : fail(field, 'must be an object');
  const str = (v: unknown, field: string): string =>
    typeof v === 'string' && v.length > 0 ? v : fail(field, 'must be a non-empty string');
  const num = (v: unknown, field: string): number =>
    typeof v === 'number' && Number.isFinite(v) ? v : fail(field, 'must be a finite number');
  const arr = (v: unknown, field: string): unknown[] =>
    Array.isArray(v) ? v : fail(field, 'must be an array');

  const c = obj(value, 'card');
  if (c['schemaVersion'] === 1) {
    throw new ModelCardError(
      `${source}: card schema 1 does not hash the bundle's OOD statistics and interval calibration; ` +
        `upgrade it once with \`physis bundle upgrade <dir>\` (weights unchanged)`,
    );
  }
  if (c['schemaVersion'] !== MODEL_CARD_SCHEMA_VERSION) {
    fail('schemaVersion', `must be ${MODEL_CARD_SCHEMA_VERSION}, got ${JSON.stringify(c['schemaVersion'])}`);
  }
  str(c['id'], 'id');
  str(c['version'], 'version');
  str(c['task'], 'task');
  const a = obj(c['architecture'], 'architecture');
  str(a['name'], 'architecture.name');
  obj(a['options'], 'architecture.options');
  const input = obj(c['input'], 'input');
  const shape = arr(input['shape'], 'input.shape');
  if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    fail(
      'input.shape',
      `must be [channels, height, width] of positive integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (input['extra'] !== undefined) {
    arr(input['extra'], 'input.extra').forEach((e, i) => {
      const x = obj(e, `input.extra[${i}]`);
      str(x['name'], `input.extra[${i}].name`);
      str(x['unit'], `input.extra[${i}].unit`);
    });
  }
  obj(input['preprocessing'], 'input.preprocessing');
  const outputs = arr(c['outputs'], 'outputs');
  if (outputs.length === 0) fail('outputs', 'must name at least one output');
  outputs.forEach((e, i) => {
    const o = obj(e, `outputs[${i}]`);
    str(o['name'], `outputs[${i}].name`);
    str(o['unit'], `outputs[${i}].unit`);
  });
  if (c['featureMap'] !== undefined) {
    const fm = obj(c['featureMap'], 'featureMap');
    str(fm['output'], 'featureMap.output');
    str(fm['module'], 'featureMap.module');
  }
  const td = obj(c['trainingData'], 'trainingData');
  str(td['summary'], 'trainingData.summary');
  if (td['command'] !== undefined) str(td['command'], 'trainingData.command');
  if (td['subset'] !== undefined) {
    for (const [k, v] of Object.entries(obj(td['subset'], 'trainingData.subset'))) str(v, `trainingData.subset.${k}`);
  }
  if (td['init'] !== undefined) {
    const init = obj(td['init'], 'trainingData.init');
    str(init['source'], 'trainingData.init.source');
    if (typeof init['weightsSha256'] !== 'string' || !SHA256_RE.test(init['weightsSha256'])) {
      fail('trainingData.init.weightsSha256', 'must be a sha256 hex digest');
    }
  }
  if (td['weights'] !== undefined) str(td['weights'], 'trainingData.weights');
  if (td['calibration'] !== undefined) {
    const cal = obj(td['calibration'], 'trainingData.calibration');
    str(cal['command'], 'trainingData.calibration.command');
    str(cal['data'], 'trainingData.calibration.data');
  }
  arr(c['metrics'], 'metrics').forEach((e, i) => {
    const m = obj(e, `metrics[${i}]`);
    str(m['name'], `metrics[${i}].name`);
    num(m['value'], `metrics[${i}].value`);
    str(m['data'], `metrics[${i}].data (the data the metric was measured on)`);
  });
  const files = obj(c['files'], 'files');
  const checkFile = (v: unknown, field: string): Record<string, unknown> => {
    const f = obj(v, field);
    const p = str(f['path'], `${field}.path`);
    if (p.includes('/') || p.includes('\\') || p.startsWith('.')) {
      fail(`${field}.path`, `must be a plain file name inside the bundle, got '${p}'`);
    }
    if (typeof f['sha256'] !== 'string' || !SHA256_RE.test(f['sha256'])) {
      fail(`${field}.sha256`, 'must be 64 lowercase hex digits');
    }
    return f;
  };
  const w = checkFile(files['weights'], 'files.weights');
  if (w['dtype'] !== 'float32' && w['dtype'] !== 'float16') {
    fail('files.weights.dtype', `must be 'float32' or 'float16', got ${JSON.stringify(w['dtype'])}`);
  }
  if (files['artifacts'] !== undefined) {
    const seen = new Set<string>([String(w['path'])]);
    arr(files['artifacts'], 'files.artifacts').forEach((e, i) => {
      const a = checkFile(e, `files.artifacts[${i}]`);
      str(a['role'], `files.artifacts[${i}].role`);
      if (seen.has(String(a['path']))) fail(`files.artifacts[${i}].path`, `'${String(a['path'])}' is listed twice`);
      seen.add(String(a['path']));
    });
  }
  if (files['onnx'] !== undefined) {
    const o = checkFile(files['onnx'], 'files.onnx');
    const opset = num(o['opset'], 'files.onnx.opset');
    if (!Number.isInteger(opset) || opset < 13)
      fail('files.onnx.opset', `must be an integer >= 13, got ${opset}`);
  }
  if (Number.isNaN(Date.parse(str(c['createdAt'], 'createdAt'))))
    fail('createdAt', 'must be an ISO 8601 date');
  str(c['physisVersion'], 'physisVersion');
  return value as ModelCard;
}
