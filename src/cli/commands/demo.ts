import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { formatRecord, inspectFile } from './inspect.js';
import { writePreview } from './preview.js';

/**
 * `physis demo`: what `npm run main` runs until a trained model ships — inspects and previews the sample
 * radiograph in samples/ and says where the preview went.
 */
export const demoCommand: Command = {
  name: 'demo',
  summary: 'inspect and preview the shipped sample radiograph (the default main job)',
  usage: [
    'usage: physis demo [--out-dir DIR] [--json]',
    '',
    'Reads samples/hand-0.png, prints its metadata and writes the model-input preview to DIR (default out/).',
    '',
    'example:',
    '  $ physis demo',
    '  ok …/samples/hand-0.png: png, 592x910, MONOCHROME2, range [0, 255]',
    '  preview (what a model sees, 512x512): out/hand-0.preview.png',
  ].join('\n'),
  options: { 'out-dir': { type: 'string' } },
  allowPositionals: false,
  async run(args, out) {
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
