import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { intOption, stringOption, UsageError, type Command } from '../command.js';
import { encodeGrayPng, escapeForTerminal, isSameFile, readRadiograph } from '../../radiograph/index.js';
import { preprocess, type PreprocessResult } from '../../preprocess/index.js';

/** Options the preview command passes to preprocessing. */
export interface PreviewSettings {
  readonly size: number;
  readonly crop: boolean;
  readonly clahe: boolean;
  readonly window?: { center: number; width: number };
}

/**
 * Preprocess a file as the model will see it and write it as an 8-bit PNG.
 * Refuses, before reading anything, an output that is the input itself (same path after resolving `..` and
 * symlinks, or a hard link): `physis preview f.png -o f.png` used to replace the film with its preview.
 * @param file - the radiograph
 * @param outPath - PNG to write (folders are created)
 * @param settings - size, crop, CLAHE, window override
 * @throws UsageError when `outPath` is the same file as `file`
 */
export async function writePreview(
  file: string,
  outPath: string,
  settings: PreviewSettings,
): Promise<PreprocessResult> {
  if (isSameFile(file, outPath)) {
    throw new UsageError(
      `-o ${escapeForTerminal(outPath)} is the input file itself and would be overwritten; give another output path`,
    );
  }
  const radiograph = await readRadiograph(file);
  const result = preprocess(radiograph, {
    size: settings.size,
    crop: settings.crop,
    clahe: settings.clahe,
    ...(settings.window ? { display: { window: settings.window } } : {}),
  });
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, encodeGrayPng(result.image.width, result.image.height, result.image.data));
  return result;
}

function parseWindow(raw: string | undefined): { center: number; width: number } | undefined {
  if (raw === undefined) return undefined;
  const [c, w] = raw.split(',').map(Number);
  if (c === undefined || w === undefined || !Number.isFinite(c) || !(w > 0)) {
    throw new UsageError(`--window must be CENTER,WIDTH with WIDTH > 0, got '${raw}'`);
  }
  return { center: c, width: w };
}

/** `physis preview`: the image as the model sees it (VOI, inversion, crop, laterality, normalisation, resize). */
export const previewCommand: Command = {
  name: 'preview',
  summary: 'write the image as the model will see it to a PNG',
  usage: [
    'usage: physis preview <file> -o <out.png> [--size N] [--no-crop] [--clahe] [--window C,W] [--json]',
    '',
    'Applies VOI (the file window, or --window), MONOCHROME1 inversion, foreground crop, laterality',
    'mirroring to left, percentile normalisation, optional CLAHE and a letterboxed resize to N×N (default 512).',
    'An output that is the input file itself (same path, a symlink or a hard link to it) is refused (exit 2).',
    '',
    'example:',
    '  $ physis preview samples/hand-0.png -o out/hand-0.png --size 256',
    '  wrote out/hand-0.png (256x256, crop 446x773 at 81,137)',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o' },
    size: { type: 'string' },
    'no-crop': { type: 'boolean' },
    clahe: { type: 'boolean' },
    window: { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const [file, ...extra] = args.positionals;
    if (file === undefined || extra.length > 0) throw new UsageError('give exactly one input file');
    const outPath = stringOption(args, 'out', true);
    const size = intOption(args, 'size', 512, 16, 4096);
    const window = parseWindow(stringOption(args, 'window'));
    const result = await writePreview(file, outPath, {
      size,
      crop: args.values['no-crop'] !== true,
      clahe: args.values['clahe'] === true,
      ...(window ? { window } : {}),
    });
    const c = result.crop;
    out.result(
      { file, out: outPath, size, crop: c, flipped: result.flipped, letterbox: result.letterbox },
      `wrote ${escapeForTerminal(outPath)} (${size}x${size}, crop ${c.width}x${c.height} at ${c.x},${c.y}${result.flipped ? ', mirrored to left' : ''})`,
    );
    return 0;
  },
};
