/**
 * Does the knee network look at the physes and the ossification centres? The share of each film's Grad-CAM energy
 * inside their masks against the share of the input the masks cover, and how often the map's peak lies on them (the
 * pointing game of Zhang et al., IJCV 2018). Only films with masks (phantoms) are measured.
 *
 * Why the physes: the radiographic maturity of the knee is read from the distal femoral and proximal tibial physes and
 * epiphyses (Pyle & Hoerr 1969; Roche, Wainer & Thissen 1975); the published knee system showed saliency maps there.
 */
import { encodeRgbaPng, gradCam, maskInInput, overlayHeatmap, saliencyInMask, summariseSaliencyInMask, type SaliencyInMask, type SaliencyInMaskSummary } from '../../explain/index.js';
import type { ZooModel } from '../../models/index.js';
import { preprocess, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import { tensor, tidy } from '../../torch/index.js';
import type { ReportImage } from '../../train/index.js';
import { kneeExtraInputs } from './config.js';

/** A knee film with its masks (physes, and ossification centres where known) and the inputs its map is computed with. */
export interface KneeMaskedFilm {
  readonly id: string;
  readonly path: string;
  readonly maskPaths: readonly string[];
  readonly sex: 'M' | 'F';
  readonly chronologicalAgeMonths: number;
  readonly laterality?: 'L' | 'R';
}

/**
 * Grad-CAM of the bone-age output on each film, measured against its masks, with a few overlays for the report.
 * @param model - the network
 * @param films - films with masks
 * @param preprocessing - as the card records it
 * @param examples - overlays to return
 */
export async function measureKneeSaliency(
  model: ZooModel,
  films: readonly KneeMaskedFilm[],
  preprocessing: PreprocessOptions & { readonly size: number },
  examples = 3,
): Promise<{ summary: SaliencyInMaskSummary | null; images: ReportImage[] }> {
  const rows: SaliencyInMask[] = [];
  const images: ReportImage[] = [];
  for (const film of films) {
    const read = await readRadiograph(film.path);
    const radiograph = film.laterality === undefined ? read : { ...read, metadata: { ...read.metadata, laterality: film.laterality, lateralitySource: 'sidecar' as const } };
    const pre = preprocess(radiograph, { ...preprocessing, lateralityTarget: 'L' });
    const size = pre.image.width;
    const masks = await Promise.all(film.maskPaths.map((p) => readRadiograph(p)));
    const mask = maskInInput(masks.map((m) => ({ width: m.columns, height: m.rows, data: m.pixels })), pre);
    const extra = kneeExtraInputs(film.sex, film.chronologicalAgeMonths);
    const region = { x: pre.letterbox.offsetX, y: pre.letterbox.offsetY, width: pre.letterbox.contentWidth, height: pre.letterbox.contentHeight };
    const map = tidy(() => gradCam(model, tensor(pre.image.data, [1, 1, size, size]), { extra: tensor(extra, [1, 2]), region }));
    if (!map.data.some((x) => x > 0) || !mask.some((x) => x > 0)) continue;
    const row = saliencyInMask(map, { width: size, height: size, data: mask });
    rows.push(row);
    if (images.length < examples) {
      images.push({
        file: `saliency-knee-${images.length + 1}.png`,
        caption:
          `${film.id}: Grad-CAM of the bone-age output; ${(row.energyShare * 100).toFixed(0)}% of the map's energy on the physes and ossification centres, ` +
          `which cover ${(row.areaShare * 100).toFixed(0)}% of the input${row.pointingHit ? '; peak on them' : ''}`,
        bytes: encodeRgbaPng(overlayHeatmap(pre.image, map), size, size),
      });
    }
  }
  return { summary: rows.length === 0 ? null : summariseSaliencyInMask(rows), images };
}
