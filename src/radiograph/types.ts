/**
 * The Radiograph: a decoded grayscale image in modality units with its typed clinical metadata.
 * Everything below the model reads images through this one shape (DICOM, PNG and JPEG alike).
 */

/** Patient sex as coded in DICOM (0010,0040): M, F or O (other). */
export type PatientSex = 'M' | 'F' | 'O';

/** Image laterality: L, R, or U (unpaired) / B (both) per PS3.3 C.7.6.1.1 (0020,0062). */
export type Laterality = 'L' | 'R' | 'U' | 'B';

/**
 * Physical pixel size with where it came from. `PixelSpacing` (0028,0030) is in the patient; `ImagerPixelSpacing`
 * (0018,1164) is at the detector face and not corrected for geometric magnification (PS3.3 C.8.11.1.1.1, 10.7.1.3),
 * so the two are never substituted for one another silently: consumers see the source.
 */
export interface PixelSpacing {
  /** Distance between row centres (vertical), mm. */
  readonly rowMm: number;
  /** Distance between column centres (horizontal), mm. */
  readonly columnMm: number;
  readonly source: 'PixelSpacing' | 'ImagerPixelSpacing' | 'sidecar';
}

/** Chronological age in months with the attributes it was derived from. */
export interface ChronologicalAge {
  readonly ageMonths: number;
  /** `dates`: StudyDate − PatientBirthDate; `PatientAge`: the (0010,1010) AS string; `sidecar`: given alongside a PNG/JPEG. */
  readonly source: 'dates' | 'PatientAge' | 'sidecar';
}

/** The metadata Physis's tasks need, typed; `null` where the file does not say. */
export interface RadiographMetadata {
  readonly modality: string | null;
  readonly bodyPartExamined: string | null;
  readonly viewPosition: string | null;
  /** ImageLaterality (0020,0062), else series Laterality (0020,0060); see `lateralitySource`. */
  readonly laterality: Laterality | null;
  readonly lateralitySource: 'ImageLaterality' | 'Laterality' | 'sidecar' | null;
  readonly patientSex: PatientSex | null;
  /** ISO date `YYYY-MM-DD`. */
  readonly patientBirthDate: string | null;
  /** ISO date `YYYY-MM-DD`. */
  readonly studyDate: string | null;
  /** PatientAge (0010,1010) as written, e.g. `010Y`. */
  readonly patientAge: string | null;
  readonly age: ChronologicalAge | null;
  readonly spacing: PixelSpacing | null;
  readonly manufacturer: string | null;
  readonly sopClassUid: string | null;
  readonly sopInstanceUid: string | null;
  readonly seriesInstanceUid: string | null;
  readonly studyInstanceUid: string | null;
}

/** One VOI window (PS3.3 C.11.2.1.2): centre and width in modality units, with its explanation if any. */
export interface VoiWindow {
  readonly center: number;
  readonly width: number;
  readonly explanation: string | null;
}

/** A lookup table as in PS3.3 C.11.1.1 / C.11.2.1.1: first mapped input value, output bits and the entries. */
export interface LookupTable {
  readonly firstMapped: number;
  readonly bitsPerEntry: number;
  readonly data: Uint16Array;
  readonly explanation: string | null;
}

/** VOILUTFunction (0028,1056), PS3.3 C.11.2.1.3. */
export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/**
 * How to map modality values to display values: windows, a VOI LUT, or (none given) the image's own range.
 * Both windows and LUTs may be several; callers choose by index (default the first).
 */
export type Voi =
  | { readonly kind: 'window'; readonly windows: readonly VoiWindow[]; readonly function: VoiLutFunction }
  | { readonly kind: 'lut'; readonly luts: readonly LookupTable[] }
  | { readonly kind: 'range'; readonly min: number; readonly max: number };

/** Photometric interpretation after decoding: colour inputs are reduced to MONOCHROME2 with a warning. */
export type Photometric = 'MONOCHROME1' | 'MONOCHROME2';

/** A decoded radiograph: one grayscale frame in modality units (after the Modality LUT) plus metadata. */
export interface Radiograph {
  /** The file path or label it was read from. */
  readonly source: string;
  readonly format: 'dicom' | 'png' | 'jpeg';
  readonly rows: number;
  readonly columns: number;
  /** Row-major modality values (stored values after bits-stored masking, sign and Modality LUT / rescale). */
  readonly pixels: Float32Array;
  readonly photometric: Photometric;
  /** PhotometricInterpretation (0028,0004) as the file stores it (RGB, PALETTE COLOR…); DICOM only. */
  readonly storedPhotometric?: string;
  readonly voi: Voi;
  readonly metadata: RadiographMetadata;
  /** DICOM transfer syntax UID, or null for PNG/JPEG. */
  readonly transferSyntaxUid: string | null;
  /** Frames in the file; only the first is decoded (with a warning) when there are more. */
  readonly numberOfFrames: number;
  /** Things a person should know: colour reduced to gray, frames dropped, disagreeing ages, … */
  readonly warnings: readonly string[];
}
