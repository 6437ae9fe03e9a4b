/**
 * Does the network look where the age is? The share of each film's Grad-CAM energy that falls inside masks, against
 * the share of the image those masks cover, and how often the map's peak lies on them (the pointing game of Zhang et
 * al., IJCV 2018), for three mask sets and two depths of the network.
 *
 * Why: Lee et al. (Sci Rep 2024) showed Grad-CAM maps on the coronal, sagittal and metopic sutures (AP) and the
 * lambdoid suture (lateral) as evidence that their networks used cranial development. A map can look convincing by
 * eye and still be chance; on phantoms, whose masks are known exactly, the claim can be measured.
 *
 * Mask sets: the sutures and fontanelles (the anatomy the paper names); the calvarium's rim (the vault seen edge-on
 * along the head's outline), because in the phantoms the vault's thickness, density and the head's size carry the
 * age too and a map on the outline is then evidence of that signal, not of nothing; and their union.
 *
 * Stages: the last feature map is coarse (stride 32: 5×5 for a 160-px ResNet input), too coarse to resolve a
 * suture a few pixels wide, so each film is also mapped one stage earlier (ResNet's layer3: stride 16, 10×10), as
 * Selvaraju et al. (ICCV 2017) allow for any convolutional layer. Architectures that cannot be cut at a stage
 * (`ZooModel.featureStages` 0) are measured at the last map only.
 */
import { encodeRgbaPng, gradCam, maskInInput, overlayHeatmap, saliencyInMask, stageBeforeLast, summariseSaliencyInMask, type SaliencyInMask, type SaliencyMap } from '../../explain/index.js';
import type { ZooModel } from '../../models/index.js';
import { preprocess, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import { tensor, tidy } from '../../torch/index.js';
import type { ReportImage } from '../../train/index.js';
import type { SkullView } from './config.js';
import { predictedClass } from './predict.js';
import { viewInput } from './sample.js';

/** A film with its masks. */
export interface MaskedFilm {
  readonly id: string;
  readonly path: string;
  readonly view: SkullView;
  /** Masks of the sutures and fontanelles (their union is scored). */
  readonly masks: readonly string[];
  /** Mask of the calvarium's rim, when the labels have one. */
  readonly calvariumMask?: string;
}

/** The mask sets scored: sutures and fontanelles, the calvarium's rim, and their union. */
export const SKULL_SALIENCY_MASK_SETS = ['sutures+fontanelles', 'calvarium', 'union'] as const;
export type SkullSaliencyMaskSet = (typeof SKULL_SALIENCY_MASK_SETS)[number];

/** Which map: the last feature map, or the stage before it (ResNet: layer3). */
export type SkullSaliencyStage = 'last' | 'last-1';

/** One view's summary for one mask set and one stage. */
export interface SaliencySummary {
  readonly view: SkullView;
  readonly masks: SkullSaliencyMaskSet;
  readonly stage: SkullSaliencyStage;
  /** The feature map's size [h, w] (of the first film scored). */
  readonly featureSize: readonly [number, number];
  readonly n: number;
  readonly meanEnergyShare: number;
  readonly meanAreaShare: number;
  readonly meanEnrichment: number;
  readonly pointingHitRate: number;
}

async function readMask(path: string): Promise<{ width: number; height: number; data: Float32Array }> {
  const r = await readRadiograph(path);
  return { width: r.columns, height: r.rows, data: r.pixels };
}

interface Candidate {
  readonly film: MaskedFilm;
  readonly stage: SkullSaliencyStage;
  readonly k: number;
  readonly rows: ReadonlyMap<SkullSaliencyMaskSet, SaliencyInMask>;
  readonly bytes: Uint8Array;
  readonly featureSize: readonly [number, number];
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/**
 * Grad-CAM of the predicted class on each film at the last stage and the one before it, measured against its masks,
 * per view, mask set and stage, with a few overlays per view for the report. The overlays show, per view, the stage
 * whose maps are more enriched on the sutures and fontanelles (the measurement decides which picture is the better
 * evidence, not the look of it).
 * @param model - the network (eval mode is set for each map)
 * @param films - films with masks
 * @param preprocessing - as the card records it
 * @param o - how many overlays per view to return
 */
export async function measureSaliency(
  model: ZooModel,
  films: readonly MaskedFilm[],
  preprocessing: PreprocessOptions & { readonly size: number },
  o: { examplesPerView?: number } = {},
): Promise<{ summaries: SaliencySummary[]; images: ReportImage[] }> {
  // the stage before the last by the rule predict's heat maps use (explain's stageBeforeLast), not a copy of it
  const before = stageBeforeLast(model, 1);
  const stages: readonly { stage: SkullSaliencyStage; at?: number }[] =
    before === undefined ? [{ stage: 'last' }] : [{ stage: 'last' }, { stage: 'last-1', at: before }];
  const rows = new Map<string, { view: SkullView; masks: SkullSaliencyMaskSet; stage: SkullSaliencyStage; featureSize: readonly [number, number]; rows: SaliencyInMask[] }>();
  const candidates: Candidate[] = [];
  const examples = o.examplesPerView ?? 2;
  for (const film of films) {
    const pre = preprocess(await readRadiograph(film.path), preprocessing);
    const size = pre.image.width;
    const anatomy = film.masks.length === 0 ? null : maskInInput(await Promise.all(film.masks.map(readMask)), pre);
    const calvarium = film.calvariumMask === undefined ? null : maskInInput([await readMask(film.calvariumMask)], pre);
    const sets: [SkullSaliencyMaskSet, Uint8Array | null][] = [
      ['sutures+fontanelles', anatomy],
      ['calvarium', calvarium],
      ['union', anatomy === null || calvarium === null ? null : anatomy.map((v, i) => (v !== 0 || calvarium[i] !== 0 ? 1 : 0))],
    ];
    const extra = [viewInput(film.view)];
    const heads = tidy(() => model.call(tensor(pre.image.data, [1, 1, size, size]), tensor(extra, [1, 1])).toFloat32Array());
    const k = predictedClass(heads);
    const region = { x: pre.letterbox.offsetX, y: pre.letterbox.offsetY, width: pre.letterbox.contentWidth, height: pre.letterbox.contentHeight };
    const shown = candidates.filter((c) => c.film.view === film.view && c.stage === 'last').length;
    for (const s of stages) {
      const map: SaliencyMap = tidy(() =>
        gradCam(model, tensor(pre.image.data, [1, 1, size, size]), {
          extra: tensor(extra, [1, 1]),
          outputIndex: 1 + k,
          mode: 'positive',
          region,
          ...(s.at === undefined ? {} : { stage: s.at }),
        }),
      );
      if (!map.data.some((x) => x > 0)) continue;
      const scored = new Map<SkullSaliencyMaskSet, SaliencyInMask>();
      for (const [set, mask] of sets) {
        if (mask === null || !mask.some((x) => x > 0)) continue;
        const row = saliencyInMask(map, { width: size, height: size, data: mask });
        scored.set(set, row);
        const key = `${film.view}|${set}|${s.stage}`;
        const acc = rows.get(key) ?? { view: film.view, masks: set, stage: s.stage, featureSize: map.featureSize, rows: [] };
        acc.rows.push(row);
        rows.set(key, acc);
      }
      if (shown < examples && scored.size > 0) {
        candidates.push({ film, stage: s.stage, k, rows: scored, bytes: encodeRgbaPng(overlayHeatmap(pre.image, map), size, size), featureSize: map.featureSize });
      }
    }
  }
  const summaries = [...rows.values()].map((r): SaliencySummary => ({ view: r.view, masks: r.masks, stage: r.stage, featureSize: r.featureSize, ...summariseSaliencyInMask(r.rows) }));
  return { summaries, images: exampleImages(candidates, summaries) };
}

/** Per view, the overlays of the stage with the higher mean enrichment on the sutures and fontanelles. */
function exampleImages(candidates: readonly Candidate[], summaries: readonly SaliencySummary[]): ReportImage[] {
  const images: ReportImage[] = [];
  const views = [...new Set(candidates.map((c) => c.film.view))];
  for (const view of views) {
    const enrichment = (stage: SkullSaliencyStage): number =>
      summaries.find((s) => s.view === view && s.stage === stage && s.masks === 'sutures+fontanelles')?.meanEnrichment ?? Number.NEGATIVE_INFINITY;
    const stage: SkullSaliencyStage = enrichment('last-1') > enrichment('last') ? 'last-1' : 'last';
    const chosen = candidates.filter((c) => c.film.view === view && c.stage === stage);
    chosen.forEach((c, i) => {
      const part = (set: SkullSaliencyMaskSet, words: string): string => {
        const r = c.rows.get(set);
        return r === undefined ? '' : `; ${pct(r.energyShare)} on the ${words} (${pct(r.areaShare)} of the input)${r.pointingHit ? ', peak there' : ''}`;
      };
      images.push({
        file: `saliency-${view}-${i + 1}.png`,
        caption:
          `${c.film.id} (${view}): Grad-CAM of the predicted class ${c.k} months at the ${stage === 'last' ? 'last' : 'second-to-last'} stage ` +
          `(${c.featureSize[0]}×${c.featureSize[1]} feature map, the stage whose maps are more enriched on the sutures and fontanelles for this view)` +
          `${part('sutures+fontanelles', 'suture/fontanelle masks')}${part('calvarium', "calvarium's rim")}`,
        bytes: c.bytes,
      });
    });
  }
  return images;
}
