import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { formatProgress } from '../../train/index.js';
import { getTask, skullInfantAge } from '../../tasks/index.js';
import { UsageError, type Command, type ParsedArgs } from '../command.js';
import { gateFromArgs } from '../task-args.js';
import type { Output } from '../output.js';
import { formatRecord, inspectFile } from './inspect.js';
import { writePreview } from './preview.js';

/** `physis demo skull-infant-age`: the whole path on a small phantom cohort (see the task's demo module). */
async function skullDemo(outDir: string, args: ParsedArgs, out: Output): Promise<number> {
  const r = await skullInfantAge.runSkullDemo(outDir, {
    openGate: () => gateFromArgs(args, getTask('skull-infant-age'), 'auto'),
    onNote: (line) => out.warn(line),
    onProgress: (e) => out.progress('done' in e ? `phantoms ${e.done}/${e.total} films` : formatProgress(e)),
  });
  const task = getTask('skull-infant-age');
  const pct = (k: string): string => (r.metrics[k] === undefined ? '?' : `${((r.metrics[k] as number) * 100).toFixed(0)}%`);
  out.result(
    { ...r, films: r.films.map((f) => ({ ...f })) },
    [
      `phantom cohort (simulated, not clinical): ${r.cohort}`,
      `model: ${r.bundle} (dev report with Grad-CAM: ${r.trainReport})`,
      `held-out infants: corrected accuracy (±1 month) AP ${pct('devCorrectedAccuracyAp')}, lateral ${pct('devCorrectedAccuracyLateral')}; report ${r.evaluationReport ?? 'none (every film refused)'}`,
      ...r.films.map((f) => task.format(f)),
      `a demo on ${skullInfantAge.SKULL_DEMO.infants} simulated infants: its numbers show the path works, not how a model does on real films`,
    ].join('\n'),
  );
  return 0;
}

/**
 * `physis demo`: what `npm run main` runs until a trained model ships — inspects and previews the sample
 * radiograph in samples/ and says where the preview went. `physis demo skull-infant-age` runs that task's whole path on
 * simulated films.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'inspect and preview the shipped sample radiograph (the default main job)',
  usage: [
    'usage: physis demo [skull-infant-age [--gate DIR | --no-gate]] [--out-dir DIR] [--json]',
    '',
    'Reads samples/hand-0.png, prints its metadata and writes the model-input preview to DIR (default out/).',
    'With skull-infant-age: writes a small cohort of simulated infant skull films (DICOM) to DIR (default',
    'out/skull-demo, which must be new), trains a small model on it, scores the held-out infants per view and answers',
    'one AP and one lateral film with heat maps (a few minutes on a laptop; simulated films, not clinical). The held-out',
    'films pass the suitability gate first (default models/suitability, which was trained on infant skull phantoms of',
    'another seed).',
    '',
    'example:',
    '  $ physis demo',
    '  ok …/samples/hand-0.png: png, 592x910, MONOCHROME2, range [0, 255]',
    '  preview (what a model sees, 512x512): out/hand-0.preview.png',
  ].join('\n'),
  options: { 'out-dir': { type: 'string' }, gate: { type: 'string' }, 'no-gate': { type: 'boolean' } },
  allowPositionals: true,
  async run(args, out) {
    const [task, ...rest] = args.positionals;
    if (task !== undefined) {
      if (task !== 'skull-infant-age' || rest.length > 0) throw new UsageError(`physis demo takes no argument or skull-infant-age, got '${args.positionals.join(' ')}'`);
      return skullDemo(typeof args.values['out-dir'] === 'string' ? args.values['out-dir'] : 'out/skull-demo', args, out);
    }
    if (args.values['gate'] !== undefined || args.values['no-gate'] === true) throw new UsageError('--gate and --no-gate apply to physis demo skull-infant-age only');
    const sample = fileURLToPath(new URL('../../../samples/hand-0.png', import.meta.url));
    const outDir = typeof args.values['out-dir'] === 'string' ? args.values['out-dir'] : 'out';
    const record = await inspectFile(sample);
    out.result(record, formatRecord(record));
    if (record.status !== 'decoded') return 1;
    const previewPath = join(outDir, 'hand-0.preview.png');
    const result = await writePreview(sample, previewPath, { size: 512, crop: true, clahe: false });
    const c = result.crop;
    out.result(
      { preview: previewPath, size: 512, crop: c, flipped: result.flipped },
      [
        `preview (what a model sees, 512x512): ${previewPath}`,
        `  cropped to the hand: ${c.width}x${c.height} at (${c.x}, ${c.y}); intensities normalised to the 0.5-99.5th percentiles`,
        '  (no trained model ships yet: this is the image a model would be given)',
      ].join('\n'),
    );
    return 0;
  },
};
