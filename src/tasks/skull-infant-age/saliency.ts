/**
 * Does the network look where the age is? The share of each film's Grad-CAM energy that falls inside the masks of the
 * anatomy that carries the age (sutures and fontanelles), against the share of the image those masks cover, and how
 * often the map's peak lies on them (the pointing game of Zhang et al., IJCV 2018).
 *
 * Why: Lee et al. (Sci Rep 2024) showed Grad-CAM maps on the coronal, sagittal and metopic sutures (AP) and the
 * lambdoid suture (lateral) as evidence that their networks used cranial development. A map can look convincing by
 * eye and still be chance; on phantoms, whose masks are known exactly, the claim can be measured.
 */
import { encodeRgbaPng, gradCam, maskInInput, overlayHeatmap, saliencyInMask, summariseSaliencyInMask, type SaliencyInMask } from '../../explain/index.js';
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
  readonly masks: readonly string[];
}

/** One view's summary. */
export interface SaliencySummary {
  readonly view: SkullView;
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

/**
 * Grad-CAM of the predicted class on each film, measured against its masks, per view, with a few overlays for the report.
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
  const rows = new Map<SkullView, SaliencyInMask[]>();
  const images: ReportImage[] = [];
  const examples = o.examplesPerView ?? 2;
  for (const film of films) {
    const pre = preprocess(await readRadiograph(film.path), preprocessing);
    const size = pre.image.width;
    const mask = maskInInput(await Promise.all(film.masks.map(readMask)), pre);
    const extra = [viewInput(film.view)];
    const heads = tidy(() => model.call(tensor(pre.image.data, [1, 1, size, size]), tensor(extra, [1, 1])).toFloat32Array());
    const k = predictedClass(heads);
    const region = { x: pre.letterbox.offsetX, y: pre.letterbox.offsetY, width: pre.letterbox.contentWidth, height: pre.letterbox.contentHeight };
    const map = tidy(() => gradCam(model, tensor(pre.image.data, [1, 1, size, size]), { extra: tensor(extra, [1, 1]), outputIndex: 1 + k, mode: 'positive', region }));
    if (!map.data.some((x) => x > 0) || !mask.some((x) => x > 0)) continue;
    const row = saliencyInMask(map, { width: size, height: size, data: mask });
    rows.set(film.view, [...(rows.get(film.view) ?? []), row]);
    const shown = images.filter((i) => i.file.includes(`-${film.view}-`)).length;
    if (shown < examples) {
      images.push({
        file: `saliency-${film.view}-${shown + 1}.png`,
        caption:
          `${film.id} (${film.view}): Grad-CAM of the predicted class ${k} months; ${(row.energyShare * 100).toFixed(0)}% of the map's energy on the ` +
          `suture/fontanelle masks, which cover ${(row.areaShare * 100).toFixed(0)}% of the input${row.pointingHit ? '; peak on the masks' : ''}`,
        bytes: encodeRgbaPng(overlayHeatmap(pre.image, map), size, size),
      });
    }
  }
  const summaries = [...rows].map(([view, r]): SaliencySummary => ({ view, ...summariseSaliencyInMask(r) }));
  return { summaries, images };
}
