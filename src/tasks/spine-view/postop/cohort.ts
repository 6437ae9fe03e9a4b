/**
 * Write a semi-synthetic AP spine-view cohort: every real AASCE film as `ap_preop`, and from each the same film with
 * a simulated posterior spinal fusion (`ap_postop_fusion`) and with simulated dual growing rods
 * (`ap_postop_growing_rod`); optionally the AP spine films of the anatomy set as `ap_preop` too.
 *
 * Why: the spine-view classifier (Spine Deformity 2024;12(6):1607) needs post-operative films, and none are public.
 * Each real film contributes its pre-operative original and BOTH simulated post-operative versions (by default):
 * the three films of one source differ only by the metal, so the class evidence a model can learn is the metal
 * itself, not the patient's anatomy or exposure; every film of one `patient_key` (AASCE keys group the films that
 * may be one patient) carries that key, and rows are written grouped by key, so a split by key keeps a patient's
 * originals and simulations on one side (otherwise a model is tested on the twin of a training film). `postop:
 * 'one'` instead draws one of the two simulations per film (fewer near-duplicates, half the post-op films).
 * File names are opaque (a hash of seed, source and class): nothing in a name or on a film marks its class.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  csvField,
  encodeGrayPng,
  encodeMaskPng,
  mixPhantomSeed,
  parseCsvTable,
  PhantomRandom,
  readRadiograph,
  type Radiograph,
} from '../../../radiograph/index.js';
import { SpineCohortExistsError, SpineFolderError, SpinePostopOptionsError } from './errors.js';
import { aasceLandmarks, repairMissingL5 } from './landmarks.js';
import type { PostopKind } from './plan.js';
import type { SpineFilm } from './render.js';
import { simulatePostop } from './simulate.js';

/** Version of the generator, written into COHORT.md. */
export const SPINE_POSTOP_GENERATOR_VERSION = '1.0.0';

/** The classes this cohort holds (3 of the paper's 10; see COHORT.md for what is missing). */
export const SPINE_VIEW_COHORT_CLASSES = Object.freeze(['ap_preop', 'ap_postop_fusion', 'ap_postop_growing_rod'] as const);

/** One class of the cohort. */
export type SpineViewCohortClass = (typeof SPINE_VIEW_COHORT_CLASSES)[number];

/** The header of `labels.csv`, exactly. */
export const SPINE_VIEW_LABELS_HEADER = 'file,class,patient_key,view,stage,simulated,source';

/**
 * Anatomy-set spine films left out after looking at every one (thumbnails of all 200, full size where in doubt):
 * a collage of unrelated images, and a film with a burned-in Cobb-measurement overlay whose long bright vertical
 * line would teach `ap_preop` that a rod-like line means pre-operative.
 */
export const EXCLUDED_ANATOMY_FILMS: ReadonlySet<string> = new Set([
  'images/spine-AP-2b567a1a.png',
  'images/spine-AP-a716bfc9.png',
]);

/** What cohort to write. */
export interface SpineViewCohortOptions {
  /** AASCE folder with labels.csv (`file,patient_key,…,landmarks_norm`) and its images. */
  readonly aasceDir: string;
  /** Anatomy folder (labels.csv `file,anatomy,view,modality,source`); its spine AP films join as ap_preop. */
  readonly anatomyDir?: string;
  /** Folder to write; refused (SpineCohortExistsError) if it exists and is not empty, unless `force`. */
  readonly outDir: string;
  readonly seed: number;
  /** 'both' (default): each AASCE film gives a fusion and a growing-rod film; 'one': a seeded draw of one. */
  readonly postop?: 'both' | 'one';
  /** Use only the first N AASCE films (default: all). */
  readonly maxFilms?: number;
  readonly force?: boolean;
}

/** What was written. */
export interface SpineViewCohortResult {
  readonly labelsCsv: string;
  readonly films: number;
  readonly patients: number;
  readonly byClass: Readonly<Record<SpineViewCohortClass, number>>;
  readonly simulated: number;
  readonly aasceFilms: number;
  readonly anatomyFilms: number;
  readonly anatomyExcluded: number;
}

/** One real source film. */
interface SourceFilm {
  readonly file: string;
  readonly path: string;
  readonly patientKey: string;
  readonly origin: 'aasce' | 'anatomy';
  readonly landmarks: readonly number[] | null;
}

async function readTable(path: string, required: readonly string[]): Promise<{ rows: Map<string, string>[] }> {
  if (!existsSync(path)) throw new SpineFolderError(`${path} not found; expected a labels.csv with ${required.join(', ')}`);
  let table;
  try {
    table = parseCsvTable(await readFile(path, 'utf8'), path, required);
  } catch (e) {
    throw new SpineFolderError(e instanceof Error ? e.message : String(e));
  }
  const rows = table.records.map((rec) => {
    const m = new Map<string, string>();
    for (const [name, i] of table.columns) m.set(name, (rec.fields[i] ?? '').trim());
    m.set('#line', String(rec.line));
    return m;
  });
  return { rows };
}

async function readAasce(dir: string, maxFilms: number | undefined): Promise<SourceFilm[]> {
  const path = join(dir, 'labels.csv');
  const { rows } = await readTable(path, ['file', 'patient_key', 'landmarks_norm']);
  const out: SourceFilm[] = [];
  for (const row of rows) {
    if (maxFilms !== undefined && out.length >= maxFilms) break;
    const file = row.get('file') ?? '';
    const at = `${path}:${row.get('#line') ?? '?'}`;
    if (!existsSync(join(dir, file))) throw new SpineFolderError(`${at}: ${file} not found`);
    const landmarks = (row.get('landmarks_norm') ?? '').split(',').map(Number);
    if (landmarks.length !== 136 || !landmarks.every(Number.isFinite))
      throw new SpineFolderError(`${at}: landmarks_norm must hold 136 numbers, has ${landmarks.length}`);
    const patientKey = row.get('patient_key') || basename(file, '.png');
    out.push({ file, path: join(dir, file), patientKey, origin: 'aasce', landmarks });
  }
  if (out.length === 0) throw new SpineFolderError(`${path} lists no films`);
  return out;
}

/** The patient of an anatomy-set film: the source folder and leading case number (`Scol/N36`), else the file. */
function anatomyPatientKey(file: string, source: string): string {
  const m = /data\/([^/]+)\/\s*([Nn]\d+)/.exec(source);
  return m ? `anatomy-${m[1] ?? ''}-${(m[2] ?? '').toUpperCase()}` : `anatomy-${basename(file, '.png')}`;
}

async function readAnatomy(dir: string): Promise<{ films: SourceFilm[]; excluded: number }> {
  const path = join(dir, 'labels.csv');
  const { rows } = await readTable(path, ['file', 'anatomy', 'view', 'modality', 'source']);
  const films: SourceFilm[] = [];
  let excluded = 0;
  for (const row of rows) {
    if (row.get('anatomy') !== 'spine' || row.get('view') !== 'AP' || row.get('modality') !== 'radiograph') continue;
    const file = row.get('file') ?? '';
    if (EXCLUDED_ANATOMY_FILMS.has(file)) {
      excluded++;
      continue;
    }
    if (!existsSync(join(dir, file))) throw new SpineFolderError(`${path}:${row.get('#line') ?? '?'}: ${file} not found`);
    films.push({ file, path: join(dir, file), patientKey: anatomyPatientKey(file, row.get('source') ?? ''), origin: 'anatomy', landmarks: null });
  }
  return { films, excluded };
}

/** A read film as bone-bright [0, 1] (MONOCHROME1 inverted; the PNG's own full scale as 1). */
function toFilm(r: Radiograph): SpineFilm {
  const max = r.voi.kind === 'range' && r.voi.max > 0 ? r.voi.max : 255;
  const pixels = new Float32Array(r.pixels.length);
  for (let k = 0; k < pixels.length; k++) {
    const v = (r.pixels[k] ?? 0) / max;
    pixels[k] = r.photometric === 'MONOCHROME1' ? 1 - v : v;
  }
  return { width: r.columns, height: r.rows, pixels };
}

/** A seed from the cohort seed and a text (so a film's simulation does not depend on which films precede it). */
function textSeed(seed: number, text: string): number {
  let h = mixPhantomSeed(seed);
  for (let i = 0; i < text.length; i++) h = mixPhantomSeed(h, text.charCodeAt(i));
  return h;
}

/** An opaque, deterministic film name. */
function filmName(seed: number, source: string, cls: SpineViewCohortClass): string {
  const h = textSeed(mixPhantomSeed(seed, SPINE_VIEW_COHORT_CLASSES.indexOf(cls)), source);
  const h2 = mixPhantomSeed(h, 0x9e);
  return `films/${h.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}.png`;
}

/** Refuse a used folder unless forced; with force, clear only what a cohort writes. */
async function prepareOutDir(outDir: string, force: boolean): Promise<void> {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    if (!force) throw new SpineCohortExistsError(`${outDir} exists and is not empty; pass force to overwrite the cohort`);
    for (const name of ['films', 'masks', 'labels.csv', 'instrumentation.jsonl', 'COHORT.md'])
      await rm(join(outDir, name), { recursive: true, force: true });
  }
  await mkdir(join(outDir, 'films'), { recursive: true });
  await mkdir(join(outDir, 'masks'), { recursive: true });
}

const STAGE: Readonly<Record<SpineViewCohortClass, string>> = { ap_preop: 'preop', ap_postop_fusion: 'postop', ap_postop_growing_rod: 'postop' };
const KIND_CLASS: Readonly<Record<PostopKind, SpineViewCohortClass>> = { fusion: 'ap_postop_fusion', 'growing-rod': 'ap_postop_growing_rod' };

/**
 * Write the cohort.
 * @param o - AASCE and anatomy folders, output folder, seed, post-op policy
 * @param onProgress - called after each source film with (films done, source films in all)
 *
 * @example
 * const r = await writeSpineViewCohort({ aasceDir: '../shared/data/aasce-spine', outDir: 'runs/spine-cohort', seed: 1 });
 * // r.byClass -> { ap_preop: 481, ap_postop_fusion: 481, ap_postop_growing_rod: 481 }; labels at runs/spine-cohort/labels.csv
 */
export async function writeSpineViewCohort(
  o: SpineViewCohortOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<SpineViewCohortResult> {
  if (!Number.isFinite(o.seed)) throw new SpinePostopOptionsError(`seed ${o.seed} is not a finite number`);
  if (o.maxFilms !== undefined && !(Number.isInteger(o.maxFilms) && o.maxFilms >= 1))
    throw new SpinePostopOptionsError(`maxFilms ${o.maxFilms} must be a positive integer`);
  const postop = o.postop ?? 'both';
  if (postop !== 'both' && postop !== 'one') throw new SpinePostopOptionsError(`postop must be 'both' or 'one', got '${String(postop)}'`);
  const aasce = await readAasce(o.aasceDir, o.maxFilms);
  const anatomy = o.anatomyDir === undefined ? { films: [], excluded: 0 } : await readAnatomy(o.anatomyDir);
  await prepareOutDir(o.outDir, o.force === true);
  // group by patient key, in order of first appearance, so a key's films are contiguous in labels.csv
  const groups = new Map<string, SourceFilm[]>();
  for (const f of [...aasce, ...anatomy.films]) groups.set(f.patientKey, [...(groups.get(f.patientKey) ?? []), f]);
  const total = aasce.length + anatomy.films.length;
  const rows: string[] = [SPINE_VIEW_LABELS_HEADER];
  const jsonl: string[] = [];
  const byClass: Record<SpineViewCohortClass, number> = { ap_preop: 0, ap_postop_fusion: 0, ap_postop_growing_rod: 0 };
  let done = 0;
  let simulated = 0;
  for (const [key, films] of groups) {
    for (const f of films) {
      const source = `${f.origin === 'aasce' ? 'aasce-spine' : 'anatomy'}/${f.file}`;
      const film = toFilm(await readRadiograph(f.path));
      const write = async (cls: SpineViewCohortClass, pixels: Float32Array, isSimulated: boolean): Promise<string> => {
        const file = filmName(o.seed, source, cls);
        // 8-bit like the sources
        await writeFile(join(o.outDir, file), encodeGrayPng(film.width, film.height, pixels, 8));
        rows.push([file, cls, csvField(key), 'AP', STAGE[cls], isSimulated ? '1' : '0', csvField(source)].join(','));
        byClass[cls]++;
        return file;
      };
      await write('ap_preop', film.pixels, false);
      if (f.landmarks) {
        const { landmarks, repaired } = repairMissingL5(aasceLandmarks(f.landmarks, film.width, film.height));
        const filmSeed = textSeed(o.seed, source);
        const kinds: PostopKind[] =
          postop === 'both' ? ['fusion', 'growing-rod'] : [new PhantomRandom(mixPhantomSeed(filmSeed, 0x1)).float() < 0.5 ? 'fusion' : 'growing-rod'];
        for (const kind of kinds) {
          const sim = simulatePostop(film, landmarks, { kind, seed: filmSeed });
          const file = await write(KIND_CLASS[kind], sim.image.pixels, true);
          const mask = file.replace(/^films\//, 'masks/').replace(/\.png$/, '_metal.png');
          await writeFile(join(o.outDir, mask), encodeMaskPng(sim.metalMask, film.width, film.height));
          const ins = sim.instrumentation;
          jsonl.push(
            JSON.stringify({
              file,
              mask,
              source,
              kind,
              landmarksRepaired: repaired ? 'L5 extrapolated from L3-L4' : '',
              levels: ins.levels,
              anchors: ins.screws.map((s) => `${s.level}${s.side === 'left' ? 'l' : 'r'}:${s.type}:${s.diameterMm}x${s.lengthMm}`),
              rodDiameterMm: ins.rods[0]?.diameterMm,
              crossLinks: ins.crossLinks.length,
              tandemConnectors: ins.rods.reduce((n, r) => n + r.connectors.length, 0),
              alloy: ins.alloy,
              mmPerPx: Number(ins.mmPerPx.toFixed(3)),
              curves: ins.curves.map((c) => ({ region: c.region, cobbDeg: Number(c.cobbDeg.toFixed(1)), upperEnd: c.upperEnd, lowerEnd: c.lowerEnd })),
              composite: Object.fromEntries(Object.entries(sim.composite).map(([k, v]) => [k, Number(v.toFixed(4))])),
            }),
          );
          simulated++;
        }
      }
      done++;
      onProgress?.(done, total);
    }
  }
  const labelsCsv = join(o.outDir, 'labels.csv');
  await writeFile(labelsCsv, `${rows.join('\n')}\n`);
  await writeFile(join(o.outDir, 'instrumentation.jsonl'), jsonl.length ? `${jsonl.join('\n')}\n` : '');
  const result: SpineViewCohortResult = {
    labelsCsv,
    films: rows.length - 1,
    patients: groups.size,
    byClass,
    simulated,
    aasceFilms: aasce.length,
    anatomyFilms: anatomy.films.length,
    anatomyExcluded: anatomy.excluded,
  };
  await writeFile(join(o.outDir, 'COHORT.md'), cohortReadme(o, postop, result));
  return result;
}

function cohortReadme(o: SpineViewCohortOptions, postop: 'both' | 'one', r: SpineViewCohortResult): string {
  return `# Spine-view AP cohort (semi-synthetic)

Written by Physis \`writeSpineViewCohort\` v${SPINE_POSTOP_GENERATOR_VERSION}, seed ${o.seed}, post-op per film: ${postop}.

## What is real and what is simulated
- **Real**: every \`ap_preop\` film (simulated = 0): ${r.aasceFilms} AASCE 2019 AP films of adolescents with idiopathic
  scoliosis${r.anatomyFilms > 0 ? ` and ${r.anatomyFilms} AP spine films of the anatomy set (${r.anatomyExcluded} left out: a collage and a film with a burned-in measurement overlay)` : ''}.
- **Simulated**: every \`ap_postop_fusion\` and \`ap_postop_growing_rod\` film (simulated = 1). Each is a real AASCE
  pre-operative film (column \`source\`) with metal added: pedicle screws, rods and cross-links of a posterior spinal
  fusion, or the proximal and distal foundations, rods and tandem connectors of dual growing rods. The bone is
  NOT moved: a real fusion straightens the spine, these films keep the pre-operative curve under the rods.
- Growing rods are used in early-onset scoliosis (children of about 2–10 years); here they are drawn on adolescent
  spines, which a real growing-rod film would not show.
- Metal is composited in the film's own intensity domain (Beer–Lambert), blurred to the film's edge sharpness,
  with a faint glare halo and the film's noise. \`masks/*_metal.png\` marks the metal; \`instrumentation.jsonl\`
  lists levels, anchors, rods and compositing parameters per simulated film.
- No text, marker or file name carries the class; file names are opaque hashes.

## Counts
| class | films | stage | simulated |
|---|---|---|---|
| ap_preop | ${r.byClass.ap_preop} | preop | 0 |
| ap_postop_fusion | ${r.byClass.ap_postop_fusion} | postop | 1 |
| ap_postop_growing_rod | ${r.byClass.ap_postop_growing_rod} | postop | 1 |

${r.films} films of ${r.patients} patient keys. Split by \`patient_key\`: a key's original and simulated films are
near-duplicates of each other and must stay on one side of any split.

## What the 10-class scheme of the paper still lacks
The paper (Spine Deformity 2024;12(6):1607, doi 10.1007/s43390-024-00933-9) sorts films into 10 categories: two
pre-operative and three post-operative categories, each for AP and lateral views. This cohort has 3 of them, and
only approximately:
- **No lateral films at all** (5 of the 10 categories): no public lateral pediatric spine set was found.
- **The pre-operative subcategories are not separated**: every real film is \`ap_preop\`.
- **Only two post-operative categories, both simulated**; the third post-operative category has no examples.
- No real post-operative film exists here to check the simulation against; a model trained on this cohort must be
  validated on real post-operative films before any use.
- Domain shortcut to watch: the anatomy-set films (a different source, 256 px) are all \`ap_preop\`.
`;
}
