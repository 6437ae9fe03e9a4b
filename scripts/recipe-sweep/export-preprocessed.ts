/**
 * Export a labelled bone-age folder, preprocessed exactly as the trainer's loader does (foreground crop, percentile
 * normalisation, letterbox), as one uint8 array [n, size, size] plus the rows as JSON, for the GPU recipe sweep
 * (sweep.py). Run from the repository root:
 *   node --import tsx scripts/recipe-sweep/export-preprocessed.ts ../shared/data/rsna-hand/labels.csv 320 .sweep
 * The output holds images derived from the data set: keep it out of the repository (.git/info/exclude).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { handBoneAge } from '../../src/tasks/index.js';

const { readBoneAgeLabels, preprocessHandImage } = handBoneAge;

const [csv, sizeArg, outDir] = process.argv.slice(2);
if (csv === undefined || sizeArg === undefined || outDir === undefined) {
  process.stderr.write('usage: export-preprocessed.ts <labels.csv> <size> <out dir>\n');
  process.exit(2);
}
const size = Number(sizeArg);
const rows = readBoneAgeLabels(csv);
const pixels = new Uint8Array(rows.length * size * size);
for (const [i, row] of rows.entries()) {
  const { image } = await preprocessHandImage(row.path, { preprocessing: { size }, cache: false });
  for (let k = 0; k < image.data.length; k++) pixels[i * size * size + k] = Math.max(0, Math.min(255, Math.round((image.data[k] ?? 0) * 255)));
}
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `images${size}.u8`), pixels);
writeFileSync(join(outDir, 'meta.json'), JSON.stringify(rows.map((r) => ({ file: r.file, sex: r.sex, boneAgeMonths: r.boneAgeMonths, split: r.split }))));
process.stdout.write(`${rows.length} images, ${size} px -> ${outDir}\n`);
