/**
 * Write a knee phantom film as a DICOM DX file (the shared writer of radiograph/phantom, with what an AP knee film
 * says about itself).
 *
 * Why: the knee task pairs knee and hand films by PatientID and StudyDate, reads sex and ages from the Patient
 * module, and the side from ImageLaterality, as it will on real films: BodyPartExamined KNEE (PS3.16 CID 4031);
 * AnatomicRegionSequence SCT 72696002 "Knee region structure"; ViewPosition AP (CID 4010); ImageLaterality L or R
 * (PS3.3 C.8.11.2, a paired body part); PatientOrientation L\F (rows run to the patient's left, columns to the
 * feet, as an AP film is hung facing the patient); ImageComments SIMULATED PHANTOM.
 */
import { encodePhantomDx, uidFrom, type PhantomDxFilmAttributes } from '../../../radiograph/index.js';

/** This generator's implementation class UID (PS3.7 D.3.3.2), a fixed 2.25 UID. */
const IMPLEMENTATION_CLASS_UID = uidFrom('physis knee phantom generator implementation');

/** What every knee phantom's ImageComments says. */
export const SIMULATED_COMMENT = 'SIMULATED PHANTOM';

/** One knee film's attributes: the shared film attributes less what an AP knee fixes. */
export interface KneeDicomFilm extends PhantomDxFilmAttributes {
  readonly laterality: 'L' | 'R';
}

/**
 * Encode one knee film as DICOM Part 10 bytes.
 * @param film - pixels and attributes
 *
 * @example
 * const bytes = await encodeKneePhantomDicom({ ...attributes, laterality: 'R' });
 * // readRadiograph(...).metadata.bodyPartExamined === 'KNEE'
 */
export async function encodeKneePhantomDicom(film: KneeDicomFilm): Promise<Uint8Array> {
  const { laterality, ...rest } = film;
  return encodePhantomDx({
    ...rest,
    bodyPartExamined: 'KNEE',
    anatomicRegion: {
      codeValue: '72696002',
      codingSchemeDesignator: 'SCT',
      codeMeaning: 'Knee region structure',
    },
    viewPosition: 'AP',
    patientOrientation: ['L', 'F'],
    imageLaterality: laterality,
    modelName: 'procedural paediatric knee phantom',
    calibrationDescription: 'magnification at the knee joint',
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
    imageComments: SIMULATED_COMMENT,
  });
}
