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
 *
 * `--bundle` may be a composite folder (composite.json, src/infer/composite.ts): a fold ensemble answers with the
 * mean of its members, or a sex-specific pair with the member of the resolved sex (both members when unknown):
 * $ physis bundle compose --male /tmp/boys --female /tmp/girls --out /tmp/pair
 * $ physis predict ../shared/data/rsna-hand/images/1394.png --bundle /tmp/pair --sex M
 * ../shared/data/rsna-hand/images/1394.png: bone age 114.3 months (9.5 y), sex M from cli [90% 42.1-186.6] (hand-bone-age-by-sex: male model hand-bone-age-resnet18-64-M)
 * (two 64-px models trained 1 epoch on 24 images of one sex each, `physis train … --sex M|F --limit 24`)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { encodeRgbaPng, gradCam, overlayHeatmap, type SaliencyMap } from '../../explain/index.js';
import type { CompositeKind, ModelBundle } from '../../infer/index.js';
import { preprocess } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import {
  boneAgeSds,
  checkHand,
  parseManifest,
  requireSex,
  resolveSex,
  sexInput,
  type BoneAgeSds,
  type Sex,
  type SexSource,
} from '../../tasks/index.js';
import { tensor, tidy } from '../../torch/index.js';
import {
  disposeBoneAgeModels,
  ensembleMean,
  featuresAndHead,
  intervalOf,
  openBoneAgeModels,
  predictTtaSexes,
  type BoneAgeMember,
  type BoneAgeModelSet,
} from '../../train/index.js';
import { stringOption, UsageError, type Command } from '../command.js';

/** A 90% interval in months. */
export interface Interval90 {
  readonly lowMonths: number;
  readonly highMonths: number;
}

/** A bundle's identity in an output line. */
export interface ModelProvenance {
  readonly id: string;
  readonly version: string;
  readonly weightsSha256: string;
}

/** One composite member used for an image: its identity, and for an ensemble its own prediction(s). */
export interface MemberProvenance extends ModelProvenance {
  readonly dir: string;
  /** sex-specific: the sex this member predicts. */
  readonly sex?: Sex;
  readonly boneAgeMonths?: number;
  readonly boneAgeMonthsBySex?: { readonly M: number; readonly F: number };
}

/** The analysis of one radiograph. */
export interface BoneAgeAnalysis {
  readonly file: string;
  /** Present when sex is known. */
  readonly boneAgeMonths?: number;
  /** Present when sex is unknown: one prediction per sex. */
  readonly boneAgeMonthsBySex?: { readonly M: number; readonly F: number };
  /** 90% interval (single bundle: TTA spread scaled by the card's dev calibration); per sex when sex is unknown. */
  readonly interval90?: Interval90;
  readonly interval90BySex?: { readonly M: Interval90; readonly F: Interval90 };
  /** Set instead of an age when the image is not like the training hands. */
  readonly rejected?: { readonly reason: string };
  /** Why there is no interval (the bundle has no calibration). */
  readonly interval90Missing?: string;
  /** Composite: how the interval was made (the composite's or the member's rule). */
  readonly interval90Method?: string;
  readonly sex: Sex | null;
  readonly sexSource: SexSource;
  readonly sexConflict?: string;
  /** The bundle (single bundle). */
  readonly model?: ModelProvenance;
  /** The composite (composite folder) and the members that made this prediction. */
  readonly composite?: { readonly id: string; readonly kind: CompositeKind; readonly dir: string };
  readonly members?: readonly MemberProvenance[];
  /** Ensemble: the sample SD of the members' predictions. */
  readonly memberSdMonths?: number;
  readonly memberSdMonthsBySex?: { readonly M: number; readonly F: number };
  readonly chronologicalAgeMonths?: number;
  readonly chronologicalAgeSource?: string;
  readonly greulichPyle?: BoneAgeSds;
  readonly heatmap?: string;
  /** Composite: what the heat map shows (the mean of which members' Grad-CAM maps). */
  readonly heatmapMethod?: string;
}

const provenance = (b: ModelBundle): ModelProvenance => ({ id: b.card.id, version: b.card.version, weightsSha256: b.card.files.weights.sha256 });

/** Which members answer for which sexes: the whole set, or the member of the resolved sex (both when unknown). */
function routes(set: BoneAgeModelSet, sex: Sex | null): { member: BoneAgeMember; sexes: Sex[] }[] {
  const sexes: Sex[] = sex === null ? ['M', 'F'] : [sex];
  if (set.kind !== 'sex-specific') return set.members.map((member) => ({ member, sexes }));
  return sexes.map((s) => {
    const member = set.members.find((m) => m.sex === s);
    if (!member) throw new UsageError(`${set.dir}: no member for sex ${s}`);
    return { member, sexes: [s] };
  });
}

/**
 * Predict (and optionally explain) one radiograph with a bundle or a composite.
 *
 * Single bundle: one forward of the un-augmented image for the OOD check, then test-time augmentation whose
 * backbone forward is shared by both sexes when sex is unknown (the numbers equal a TTA run per sex). The OOD
 * forward is not reused as TTA view 0: a batch of one and the batch of all views differ in the last float bits
 * (measured ~1e-5 months on the shipped model), so it is reused only when the card asks for a single view.
 * Ensemble: every member's one forward serves its OOD check and its prediction; the answer is the members'
 * weighted mean with the composite's interval. Sex-specific: the member of the resolved sex answers (both
 * members when sex is unknown), with its own card's interval.
 * @param set - from `openBoneAgeModels`
 * @param file - the radiograph
 * @param o - sex sources and heat-map output path
 */
export async function analyseRadiograph(
  set: BoneAgeModelSet,
  file: string,
  o: { cliSex?: Sex | null; manifestSex?: string; heatmapPath?: string },
): Promise<BoneAgeAnalysis> {
  const { size } = set;
  const radiograph = await readRadiograph(file);
  const { image, letterbox } = preprocess(radiograph, { size });
  const resolved = resolveSex({ cli: o.cliSex ?? null, manifest: o.manifestSex ?? null, dicom: radiograph.metadata.patientSex });
  const manifest = set.composite?.manifest;
  const used = routes(set, resolved.sex);
  const ident = {
    sex: resolved.sex,
    sexSource: resolved.sexSource,
    ...(resolved.conflict ? { sexConflict: resolved.conflict } : {}),
    ...(manifest === undefined
      ? { model: provenance(set.members[0]?.bundle as ModelBundle) }
      : { composite: { id: manifest.id, kind: manifest.kind, dir: set.dir } }),
  };
  const memberIdent = (u: { member: BoneAgeMember }): MemberProvenance => ({
    ...provenance(u.member.bundle),
    dir: u.member.bundle.dir,
    ...(u.member.sex === undefined ? {} : { sex: u.member.sex }),
  });
  const once = new Map<BoneAgeMember, { pooled: Float32Array; months: number[] }>();
  for (const u of used) {
    const m = u.member;
    if (m.ood === null && set.kind !== 'ensemble') continue;
    const f = featuresAndHead(m.model, image.data, size, u.sexes.map(sexInput));
    once.set(m, f);
    if (m.ood === null) continue;
    const verdict = checkHand(m.ood, f.pooled, { width: radiograph.columns, height: radiograph.rows });
    if (verdict.rejected) {
      const reason = verdict.reason ?? 'not a hand radiograph';
      return {
        file,
        rejected: { reason: manifest === undefined ? reason : `${reason} (OOD check of member ${m.bundle.card.id})` },
        ...ident,
        ...(manifest === undefined ? {} : { members: used.map(memberIdent) }),
      };
    }
  }
  const gray = { width: size, height: size, data: image.data };
  const bySex = new Map<Sex, { months: number; interval: Interval90 | null; sd?: number }>();
  const perMember = new Map<BoneAgeMember, Map<Sex, number>>();
  let missing: string | undefined;
  let method: string | undefined;
  if (set.kind === 'ensemble' && manifest !== undefined) {
    const sexes = used[0]?.sexes ?? [];
    sexes.forEach((s, j) => {
      const values = used.map((u) => once.get(u.member)?.months[j] as number);
      used.forEach((u, i) => perMember.set(u.member, (perMember.get(u.member) ?? new Map<Sex, number>()).set(s, values[i] as number)));
      const { meanMonths, sdMonths } = ensembleMean(values, used.map((u) => u.member.weight));
      const hw = manifest.interval90?.halfWidthMonths;
      bySex.set(s, {
        months: meanMonths,
        sd: sdMonths,
        interval: hw === undefined ? null : { lowMonths: Math.max(0, meanMonths - hw), highMonths: meanMonths + hw },
      });
    });
    if (manifest.interval90 === undefined) missing = `${manifest.id} has no interval90 in composite.json`;
    else method = `${manifest.interval90.method} (out-of-fold coverage ${manifest.interval90.coverage.toFixed(3)}, n = ${manifest.interval90.n})`;
  } else {
    for (const u of used) {
      const card = u.member.bundle.card;
      const metric = (name: string): number | undefined => card.metrics.find((m) => m.name === name)?.value;
      const scale = metric('interval90Scale');
      const views = scale === undefined ? 1 : (metric('ttaViews') ?? 8);
      const first = once.get(u.member);
      // one view: the OOD forward is exactly that view (identity augmentation, batch of one), so reuse it
      const tta =
        views === 1 && first !== undefined
          ? first.months.map((m) => ({ meanMonths: m, sdMonths: 0, valuesMonths: [m] }))
          : predictTtaSexes(u.member.model, gray, u.sexes.map(sexInput), views);
      u.sexes.forEach((s, j) => {
        const t = tta[j];
        if (t) bySex.set(s, { months: t.meanMonths, interval: scale === undefined ? null : intervalOf(t, { scale }) });
      });
      if (scale === undefined) missing = `${card.id} has no interval calibration (interval90Scale) in its card`;
    }
    if (set.kind === 'sex-specific') method = "the member's own interval: its TTA spread scaled by the split-conformal calibration on its dev images (its card)";
  }
  let heatmap: string | undefined;
  let heatmapMethod: string | undefined;
  if (o.heatmapPath !== undefined) {
    // the map is scaled on the film and 0 on the letterbox padding (see gradCam's `region`)
    const region = { x: letterbox.offsetX, y: letterbox.offsetY, width: letterbox.contentWidth, height: letterbox.contentHeight };
    const maps: SaliencyMap[] = used.flatMap((u) =>
      u.sexes.map((s) =>
        tidy(() => gradCam(u.member.model, tensor(image.data, [1, 1, size, size]), { extra: tensor([sexInput(s)], [1, 1]), region })),
      ),
    );
    // unknown sex: the mean of both sexes' maps, so the picture does not pretend to know; composite: of every member used
    const data = new Float32Array(size * size);
    for (const m of maps) for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) + (m.data[i] as number) / maps.length;
    writeFileSync(o.heatmapPath, encodeRgbaPng(overlayHeatmap(image, { width: size, height: size, data }), size, size));
    heatmap = o.heatmapPath;
    if (manifest !== undefined) {
      heatmapMethod = `mean of ${maps.length} Grad-CAM maps (${used.map((u) => `${u.member.bundle.card.id} × ${u.sexes.join('/')}`).join(', ')})`;
    }
  }
  const age = radiograph.metadata.age;
  const known = resolved.sex === null ? undefined : bySex.get(resolved.sex);
  const pair = <T>(f: (v: { months: number; interval: Interval90 | null; sd?: number }) => T): { M: T; F: T } => ({
    M: f(bySex.get('M') as { months: number; interval: Interval90 | null; sd?: number }),
    F: f(bySex.get('F') as { months: number; interval: Interval90 | null; sd?: number }),
  });
  const members =
    manifest === undefined
      ? undefined
      : used.map((u) => {
          const mine = perMember.get(u.member);
          const months = mine === undefined ? {} : known !== undefined ? { boneAgeMonths: mine.get(resolved.sex as Sex) as number } : { boneAgeMonthsBySex: { M: mine.get('M') as number, F: mine.get('F') as number } };
          return { ...memberIdent(u), ...months };
        });
  return {
    file,
    ...(known === undefined ? { boneAgeMonthsBySex: pair((v) => v.months) } : { boneAgeMonths: known.months }),
    ...(missing !== undefined
      ? { interval90Missing: missing }
      : known === undefined
        ? { interval90BySex: pair((v) => v.interval as Interval90) }
        : { interval90: known.interval as Interval90 }),
    ...(method === undefined || missing !== undefined ? {} : { interval90Method: method }),
    ...ident,
    ...(members === undefined ? {} : { members }),
    ...(set.kind !== 'ensemble' ? {} : known === undefined ? { memberSdMonthsBySex: pair((v) => v.sd ?? 0) } : { memberSdMonths: known.sd ?? 0 }),
    ...(age ? { chronologicalAgeMonths: age.ageMonths, chronologicalAgeSource: age.source } : {}),
    ...(age && known !== undefined && resolved.sex !== null ? { greulichPyle: boneAgeSds(known.months, age.ageMonths, resolved.sex) } : {}),
    ...(heatmap ? { heatmap } : {}),
    ...(heatmapMethod ? { heatmapMethod } : {}),
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
  return `${a.file}: ${age}${iv}${sds}${compositeNote(a)}${a.heatmap ? `; heat map ${a.heatmap}` : ''}`;
}

/** The composite and its members in a few words (empty for a single bundle). */
export function compositeNote(a: BoneAgeAnalysis): string {
  if (a.composite === undefined) return '';
  const members = a.members ?? [];
  if (a.composite.kind === 'ensemble') {
    const sd = a.memberSdMonths ?? (a.memberSdMonthsBySex ? Math.max(a.memberSdMonthsBySex.M, a.memberSdMonthsBySex.F) : undefined);
    return ` (ensemble ${a.composite.id}: mean of ${members.length} models${sd === undefined ? '' : `, member SD ${sd.toFixed(1)} months`})`;
  }
  return ` (${a.composite.id}: ${members.map((m) => `${m.sex === 'M' ? 'male' : 'female'} model ${m.id}`).join(', ')})`;
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
    '--bundle may be a composite folder (composite.json): a fold ensemble (mean of its members, members\' spread and',
    'the ensemble interval in the JSON) or a sex-specific pair (the member of the resolved sex; both when unknown).',
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
    const set = openBoneAgeModels(bundleDir);
    for (const m of set.members) {
      if (m.ood === null) out.warn(`${m.bundle.dir} has no OOD model (ood.json); inputs are not checked for being hand radiographs`);
    }
    try {
      for (const e of entries) {
        const a = await analyseRadiograph(set, e.path, {
          cliSex,
          manifestSex: e.sex,
          ...(heatDir === undefined ? {} : { heatmapPath: join(heatDir, `${basename(e.path, extname(e.path))}.heat.png`) }),
        });
        out.result(a, human(a));
      }
    } finally {
      disposeBoneAgeModels(set);
    }
    return 0;
  },
};
