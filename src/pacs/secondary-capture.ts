/**
 * The picture of a Physis result for the PACS: the film with its heat map blended in and the answer burned in,
 * written as a Secondary Capture Image (1.2.840.10008.5.1.4.1.1.7) into the film's study.
 *
 * Why: every PACS viewer shows an SC image, also those that cannot render a Structured Report; the picture shows
 * where the model looked (Grad-CAM, Selvaraju et al. 2017) next to what it answered. The text is in the pixels, so
 * the object says so (BurnedInAnnotation YES, PS3.3 C.7.6.1.1.11), and it is a derived secondary image
 * (ImageType DERIVED\SECONDARY, ConversionType WSD: workstation; PS3.3 A.8.1, C.8.6.1) that references the film
 * (SourceImageSequence and ReferencedImageSequence, PS3.3 C.12.4) in the same study, new series.
 */
import { heatColor } from '../explain/index.js';
import { writePart10, type NaturalDataset } from './dcmjs-writer.js';
import { characterSetFor, dicomDateTime, newUid } from './dicom-values.js';
import { PacsObjectError } from './errors.js';
import { patientAndStudyOf, type SourceStudy } from './source-study.js';
import { PHYSIS_MANUFACTURER, type NewInstance } from './structured-report.js';
import { burnInText, type RgbImage } from './text-raster.js';

export type { RgbImage } from './text-raster.js';

/** Secondary Capture Image Storage (PS3.4 B.5; IOD PS3.3 A.8.1). */
export const SECONDARY_CAPTURE_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.7';

/** The line every Physis picture carries. */
export const REVIEW_NOTICE = 'Not for diagnostic use without review by a radiologist';

/** Input of {@link renderResultImage}. */
export interface ResultImageInput {
  /** The film as displayed: 8-bit values (VOI applied, MONOCHROME2), row-major. */
  readonly display: { readonly width: number; readonly height: number; readonly data: Uint8Array };
  /** Saliency in [0, 1] on the film's grid; absent for a refused film (no map). */
  readonly saliency?: { readonly width: number; readonly height: number; readonly data: Float32Array };
  /** Text to burn in: the answer, the model and its hash, the review notice (see {@link resultCaption}). */
  readonly lines: readonly string[];
  /** Opacity of the heat colour at saliency 1 (default 0.5, as the overlays of src/explain). */
  readonly alpha?: number;
  /** Font size in pixels (default 1/40 of the width, at least 10). */
  readonly fontPx?: number;
}

/**
 * Compose the result picture: the film in grey, the heat colour blended in proportion to the saliency, the text in
 * a dark box at the top left.
 * Why this blend: opacity proportional to the map keeps the film visible where the model did not look (as
 * src/explain's overlays; colour scale `heatColor`, red most salient).
 * @param o - film, saliency, text lines, opacity and font size
 */
export async function renderResultImage(o: ResultImageInput): Promise<RgbImage> {
  const { width, height, data } = o.display;
  if (data.length !== width * height) throw new PacsObjectError('result image', `display has ${data.length} values, expected ${width}x${height}`);
  const map = o.saliency;
  if (map !== undefined && (map.width !== width || map.height !== height)) {
    throw new PacsObjectError('result image', `saliency ${map.width}x${map.height} does not match the film ${width}x${height}`);
  }
  const alpha = o.alpha ?? 0.5;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const g = data[i] as number;
    const m = map === undefined ? 0 : Math.min(1, Math.max(0, map.data[i] as number));
    const a = alpha * m;
    const c = a === 0 ? null : heatColor(m);
    for (let k = 0; k < 3; k++) rgb[i * 3 + k] = c === null ? g : Math.round((1 - a) * g + a * (c[k] as number));
  }
  return burnInText({ width, height, data: rgb }, o.lines, o.fontPx ?? Math.max(10, Math.round(width / 40)));
}

/** Input of {@link writeSecondaryCapture}. */
export interface SecondaryCaptureInput extends NewInstance {
  /** The analysed film's study and identity ({@link sourceStudyOf}). */
  readonly source: SourceStudy;
  /** The picture ({@link renderResultImage}). */
  readonly image: RgbImage;
  /** What the picture is, for DerivationDescription, e.g. `Grad-CAM of hand-bone-age-r18 over the film; answer burned in`. */
  readonly derivationDescription: string;
  /** SeriesDescription (default `Physis result image`). */
  readonly seriesDescription?: string;
  /**
   * The picture shows the film after corrections that may have turned or mirrored it (the gate's): the film's
   * PatientOrientation would then mislabel it, so it is written empty (type 2C, PS3.3 C.7.6.1.1.1).
   */
  readonly corrected?: boolean;
}

/**
 * Write the result picture as a Secondary Capture Image (PS3.3 A.8.1): RGB 8-bit, BurnedInAnnotation YES, ImageType
 * DERIVED\SECONDARY, ConversionType WSD, referencing the film; same study, new series and UIDs; Part 10 bytes.
 *
 * @example
 * const image = await renderResultImage({ display, saliency, lines: resultCaption(task, result) });
 * const sc = await writeSecondaryCapture({ source: sourceStudyOf(filmBytes), image, derivationDescription: 'Grad-CAM' });
 * @param o - the film's study, the picture, its description, and optionally the new instance's UIDs, numbers and time
 */
export async function writeSecondaryCapture(o: SecondaryCaptureInput): Promise<Uint8Array> {
  return writePart10(secondaryCaptureDataset(o));
}

/**
 * The data set of a result picture (naturalized), for writers and tests.
 * @param o - see {@link writeSecondaryCapture}
 */
export function secondaryCaptureDataset(o: SecondaryCaptureInput): NaturalDataset {
  const { image, source: s } = o;
  if (image.data.length !== image.width * image.height * 3) {
    throw new PacsObjectError('secondary capture', `RGB has ${image.data.length} bytes, expected ${image.width}x${image.height}x3`);
  }
  const at = dicomDateTime(o.at ?? new Date());
  const reference = [{ ReferencedSOPClassUID: s.sopClassUid, ReferencedSOPInstanceUID: s.sopInstanceUid }];
  // Pixel Data of odd length is padded to even (PS3.5 7.1.1); dcmjs writes the buffer as given
  const pixels = new Uint8Array(image.data.length + (image.data.length % 2));
  pixels.set(image.data);
  const text = { derivation: o.derivationDescription, series: o.seriesDescription, s };
  return {
    ...characterSetFor(text),
    SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS_UID,
    SOPInstanceUID: o.sopInstanceUid ?? newUid(),
    InstanceCreationDate: at.date,
    InstanceCreationTime: at.time,
    ImageType: ['DERIVED', 'SECONDARY'],
    ...patientAndStudyOf(s),
    Modality: 'OT',
    SeriesInstanceUID: o.seriesInstanceUid ?? newUid(),
    SeriesNumber: String(o.seriesNumber ?? 9902),
    // type 2C for a paired body part (PS3.3 C.7.3.1): the film's side, empty when unknown
    Laterality: s.laterality ?? '',
    SeriesDescription: (o.seriesDescription ?? 'Physis result image').slice(0, 64),
    Manufacturer: PHYSIS_MANUFACTURER,
    ...(o.softwareVersion === undefined ? {} : { SoftwareVersions: o.softwareVersion.slice(0, 64) }),
    ConversionType: 'WSD',
    DateOfSecondaryCapture: at.date,
    TimeOfSecondaryCapture: at.time,
    InstanceNumber: String(o.instanceNumber ?? 1),
    PatientOrientation: s.patientOrientation === null || o.corrected === true ? '' : [...s.patientOrientation],
    ContentDate: at.date,
    ContentTime: at.time,
    DerivationDescription: o.derivationDescription.slice(0, 1024),
    SourceImageSequence: reference,
    ReferencedImageSequence: reference,
    BurnedInAnnotation: 'YES',
    LossyImageCompression: '00',
    SamplesPerPixel: 3,
    PhotometricInterpretation: 'RGB',
    PlanarConfiguration: 0,
    Rows: image.height,
    Columns: image.width,
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: pixels.buffer,
    // dcmjs' dictionary gives PixelData as "OB or OW"; 8-bit samples are OB (PS3.5 A.2)
    _vrMap: { PixelData: 'OB' },
  };
}
