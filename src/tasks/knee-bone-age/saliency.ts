/**
 * Does the knee network look at the physes? The share of each film's Grad-CAM energy inside the physis mask against
 * the share of the input the mask covers, and how often the map's peak lies on it (the pointing game of Zhang et al.,
 * IJCV 2018). Only films with a physis mask (phantoms) are measured.
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

/** A knee film with its physis mask and the inputs its map is computed with. */
export interface KneeMaskedFilm {
  readonly id: string;
  readonly path: string;
  readonly physisMaskPath: string;
  readonly sex: 'M' | 'F';
  readonly chronologicalAgeMonths: number;
  readonly laterality?: 'L' | 'R';
}

/**
 * Grad-CAM of the bone-age output on each film, measured against its physis mask, with a few overlays for the report.
 * @param model - the network
 * @param films - films with physis masks
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
    const maskFilm = await readRadiograph(film.physisMaskPath);
    const mask = maskInInput([{ width: maskFilm.columns, height: maskFilm.rows, data: maskFilm.pixels }], pre);
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
          `${film.id}: Grad-CAM of the bone-age output; ${(row.energyShare * 100).toFixed(0)}% of the map's energy on the physis mask, ` +
          `which covers ${(row.areaShare * 100).toFixed(0)}% of the input${row.pointingHit ? '; peak on the physes' : ''}`,
        bytes: encodeRgbaPng(overlayHeatmap(pre.image, map), size, size),
      });
    }
  }
  return { summary: rows.length === 0 ? null : summariseSaliencyInMask(rows), images };
}
