/**
 * `physis predict <files… | --manifest list.csv> --bundle <dir>`: bone age for each radiograph as a JSON
 * line (or a human line), with where the sex came from, the model id and weight hash, the difference
 * from chronological age and its Greulich-Pyle SDS when the DICOM gives the age, and optionally a
 * Grad-CAM heat map per image.
 *
 * Sex is never defaulted: `--sex`, then the manifest's `sex` column, then DICOM PatientSex; when none
 * is known both predictions are returned with `sexSource: "unknown"`.
 *
 * @example
 * $ physis predict samples/hand-0.png spine.png --bundle /tmp/run128 --sex F --heatmap heat/
 * samples/hand-0.png: bone age 99.6 months (8.3 y), sex F from cli [90% 48.2-151.0]; heat map heat/hand-0.heat.png
 * spine.png: rejected: not like the training hand radiographs: feature Mahalanobis distance 23.5 > threshold 19.1 (1.1 × the 99.5th percentile of 846 training hands)
 * (the feature check rejects only about 6% of AASCE spine films with that model: see src/tasks/hand-bone-age/ood.ts)
 * (a 128-px ResNet-18 trained 8 epochs, dev MAE 27.2 months; the numbers are that model's, not the default's)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { encodeRgbaPng, gradCam, overlayHeatmap, type SaliencyMap } from '../../explain/index.js';
import type { ModelBundle } from '../../infer/index.js';
import type { ZooModel } from '../../models/index.js';
import { preprocess } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import {
  boneAgeSds,
  checkHand,
  type OodModel,
  parseManifest,
  requireSex,
  resolveSex,
  sexInput,
  type BoneAgeSds,
  type Sex,
  type SexSource,
} from '../../tasks/index.js';
import { tensor, tidy } from '../../torch/index.js';
import { intervalOf, loadBoneAgeBundleModel, loadBundleOodModel, pooledFeatures, predictTta, type TtaPrediction } from '../../train/index.js';
import { stringOption, UsageError, type Command } from '../command.js';

/** The analysis of one radiograph. */
export interface BoneAgeAnalysis {
  readonly file: string;
  /** Present when sex is known. */
  readonly boneAgeMonths?: number;
  /** Present when sex is unknown: one prediction per sex. */
  readonly boneAgeMonthsBySex?: { readonly M: number; readonly F: number };
  /** 90% interval (TTA spread scaled by the card's dev calibration); per sex when sex is unknown. */
  readonly interval90?: { readonly lowMonths: number; readonly highMonths: number };
  readonly interval90BySex?: { readonly M: { lowMonths: number; highMonths: number }; readonly F: { lowMonths: number; highMonths: number } };
  /** Set instead of an age when the image is not like the training hands. */
  readonly rejected?: { readonly reason: string };
  /** Why there is no interval (the bundle has no calibration). */
  readonly interval90Missing?: string;
  readonly sex: Sex | null;
  readonly sexSource: SexSource;
  readonly sexConflict?: string;
  readonly model: { readonly id: string; readonly version: string; readonly weightsSha256: string };
  readonly chronologicalAgeMonths?: number;
  readonly chronologicalAgeSource?: string;
  readonly greulichPyle?: BoneAgeSds;
  readonly heatmap?: string;
}

/**
 * Predict (and optionally explain) one radiograph with a loaded bone-age model.
 * @param model - the network
 * @param bundle - its bundle (card for size and provenance)
 * @param file - the radiograph
 * @param o - sex sources and heat-map output path
 */
export async function analyseRadiograph(
  model: ZooModel,
  bundle: ModelBundle,
  file: string,
  o: { cliSex?: Sex | null; manifestSex?: string; heatmapPath?: string; ood?: OodModel | null },
): Promise<BoneAgeAnalysis> {
  const size = bundle.card.input.shape[1] as number;
  const radiograph = await readRadiograph(file);
  const pre = preprocess(radiograph, { size });
  const { image } = pre;
  const resolved = resolveSex({ cli: o.cliSex ?? null, manifest: o.manifestSex ?? null, dicom: radiograph.metadata.patientSex });
  const modelInfo = { id: bundle.card.id, version: bundle.card.version, weightsSha256: bundle.card.files.weights.sha256 };
  if (o.ood) {
    // one no-grad forward of the un-augmented input, before (and so instead of) the TTA views when rejected
    const [features] = pooledFeatures(model, image.data, size);
    const verdict = checkHand(o.ood, features ?? new Float32Array(0), { width: radiograph.columns, height: radiograph.rows });
    if (verdict.rejected) {
      return {
        file,
        rejected: { reason: verdict.reason ?? 'not a hand radiograph' },
        sex: resolved.sex,
        sexSource: resolved.sexSource,
        model: modelInfo,
      };
    }
  }
  const sexes: Sex[] = resolved.sex === null ? ['M', 'F'] : [resolved.sex];
  const metric = (name: string): number | undefined => bundle.card.metrics.find((m) => m.name === name)?.value;
  const scale = metric('interval90Scale');
  const views = scale === undefined ? 1 : (metric('ttaViews') ?? 8);
  const gray = { width: size, height: size, data: image.data };
  const tta: TtaPrediction[] = sexes.map((s) => predictTta(model, gray, sexInput(s), views));
  const preds = tta.map((t) => t.meanMonths);
  const intervals = scale === undefined ? null : tta.map((t) => intervalOf(t, { scale }));
  let heatmap: string | undefined;
  if (o.heatmapPath !== undefined) {
    const maps: SaliencyMap[] = sexes.map((s) =>
      tidy(() => gradCam(model, tensor(image.data, [1, 1, size, size]), { extra: tensor([sexInput(s)], [1, 1]) })),
    );
    // unknown sex: the mean of both sexes' maps, so the picture does not pretend to know
    const data = new Float32Array(size * size);
    for (const m of maps) for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) + (m.data[i] as number) / maps.length;
    writeFileSync(o.heatmapPath, encodeRgbaPng(overlayHeatmap(image, { width: size, height: size, data }), size, size));
    heatmap = o.heatmapPath;
  }
  const age = radiograph.metadata.age;
  const boneAge = resolved.sex === null ? undefined : (preds[0] as number);
  return {
    file,
    ...(boneAge === undefined ? { boneAgeMonthsBySex: { M: preds[0] as number, F: preds[1] as number } } : { boneAgeMonths: boneAge }),
    ...(intervals === null
      ? { interval90Missing: `${bundle.card.id} has no interval calibration (interval90Scale) in its card` }
      : boneAge === undefined
        ? { interval90BySex: { M: intervals[0] as { lowMonths: number; highMonths: number }, F: intervals[1] as { lowMonths: number; highMonths: number } } }
        : { interval90: intervals[0] as { lowMonths: number; highMonths: number } }),
    sex: resolved.sex,
    sexSource: resolved.sexSource,
    ...(resolved.conflict ? { sexConflict: resolved.conflict } : {}),
    model: modelInfo,
    ...(age ? { chronologicalAgeMonths: age.ageMonths, chronologicalAgeSource: age.source } : {}),
    ...(age && boneAge !== undefined && resolved.sex !== null ? { greulichPyle: boneAgeSds(boneAge, age.ageMonths, resolved.sex) } : {}),
    ...(heatmap ? { heatmap } : {}),
  };
}

function human(a: BoneAgeAnalysis): string {
  if (a.rejected) return `${a.file}: rejected: ${a.rejected.reason}`;
  const range = (iv: { lowMonths: number; highMonths: number } | undefined): string =>
    iv ? ` [90% ${iv.lowMonths.toFixed(1)}-${iv.highMonths.toFixed(1)}]` : '';
  const bySex = a.boneAgeMonthsBySex;
  const age =
    a.boneAgeMonths !== undefined
      ? `bone age ${a.boneAgeMonths.toFixed(1)} months (${(a.boneAgeMonths / 12).toFixed(1)} y), sex ${a.sex} from ${a.sexSource}`
      : `bone age ${bySex?.M.toFixed(1)} months${range(a.interval90BySex?.M)} if male, ` +
        `${bySex?.F.toFixed(1)} months${range(a.interval90BySex?.F)} if female (sex unknown)`;
  const iv = range(a.interval90);
  const sds = a.greulichPyle?.sds == null ? '' : `, ${a.greulichPyle.differenceMonths.toFixed(1)} months from chronological age, SDS ${a.greulichPyle.sds.toFixed(2)}`;
  return `${a.file}: ${age}${iv}${sds}${a.heatmap ? `; heat map ${a.heatmap}` : ''}`;
}

/** The `physis predict` command (see the module comment for an example). */
export const predictCommand: Command = {
  name: 'predict',
  summary: 'bone age of hand radiographs with a model bundle (JSON lines with --json)',
  usage: [
    'usage: physis predict <files… | --manifest list.csv> --bundle <dir> [--sex M|F] [--heatmap dir] [--json]',
    '',
    'A manifest is a CSV with a `file` column (relative to the CSV) and optionally `sex`.',
    'Sex comes from --sex, else the manifest, else DICOM PatientSex; unknown -> both predictions.',
    '',
    'example:',
    '  $ physis predict samples/hand-0.png --bundle hand-bone-age-bundle --sex F --heatmap heat/',
  ].join('\n'),
  options: {
    bundle: { type: 'string' },
    manifest: { type: 'string' },
    sex: { type: 'string' },
    heatmap: { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const bundleDir = stringOption(args, 'bundle', true);
    const rawSex = stringOption(args, 'sex');
    const cliSex = rawSex === undefined ? null : requireSex(rawSex, '--sex');
    const manifest = stringOption(args, 'manifest');
    const entries: { path: string; sex: string }[] = manifest
      ? parseManifest(readFileSync(manifest, 'utf8'), manifest).map((e) => ({ path: e.path, sex: e.sex }))
      : args.positionals.map((p) => ({ path: p, sex: '' }));
    if (entries.length === 0) throw new UsageError('give radiograph files or --manifest');
    const heatDir = stringOption(args, 'heatmap');
    if (heatDir !== undefined) mkdirSync(heatDir, { recursive: true });
    const { model, bundle } = loadBoneAgeBundleModel(bundleDir);
    if (bundle.card.task !== 'hand-bone-age') throw new UsageError(`${bundleDir}: task '${bundle.card.task}' is not hand-bone-age`);
    const ood = loadBundleOodModel(bundle);
    if (ood === null) out.warn(`${bundleDir} has no OOD model (ood.json); inputs are not checked for being hand radiographs`);
    try {
      for (const e of entries) {
        const a = await analyseRadiograph(model, bundle, e.path, {
          cliSex,
          manifestSex: e.sex,
          ood,
          ...(heatDir === undefined ? {} : { heatmapPath: join(heatDir, `${basename(e.path, extname(e.path))}.heat.png`) }),
        });
        out.result(a, human(a));
      }
    } finally {
      model.dispose();
    }
    return 0;
  },
};
