import { readdirSync, writeFileSync } from 'node:fs';
import { readRadiograph } from './src/radiograph/index.js';
import { suitability } from './src/tasks/index.js';
const [gateDir, labels, outPath] = process.argv.slice(2) as [string, string, string];
const rows: { c: string; s: string; path: string }[] = suitability.readSuitabilityLabels(labels).map((r) => ({ c: r.category, s: r.split ?? '', path: r.path }));
for (const f of readdirSync('../shared/data/dicom')) if (f.endsWith('.dcm')) rows.push({ c: 'corpus', s: f, path: `../shared/data/dicom/${f}` });
for (const f of readdirSync('../shared/data/hands-unlabeled')) if (f.endsWith('.png')) rows.push({ c: 'hands-unlabeled', s: f, path: `../shared/data/hands-unlabeled/${f}` });
rows.push({ c: 'hands-unlabeled', s: 'sample', path: 'samples/hand-0.png' });
const g = await suitability.openGate(gateDir);
const out: string[] = [];
for (const r of rows) {
  let film;
  try { film = await readRadiograph(r.path); } catch { continue; }
  const im = suitability.gateInput(suitability.gateDisplay(film, g.size), g.size).image;
  const o = await g.runner.run(im.data, 1, g.size, [[]]);
  out.push(JSON.stringify({ c: r.c, s: r.s, m: film.metadata.modality, p: Array.from(o.pooled[0] as Float32Array, (v) => +v.toFixed(5)), l: Array.from(o.heads[0]?.[0] as Float32Array, (v) => +v.toFixed(4)) }));
}
writeFileSync(outPath, out.join('\n'));
