/**
 * Write a skull phantom film as a DICOM DX file (the shared writer of radiograph/phantom, with what a skull film
 * says about itself).
 *
 * Why: the infant-age pipeline reads ages from PatientBirthDate and StudyDate and the view from ViewPosition, as
 * it will on real films: ViewPosition AP, or LL for left lateral (a defined term of CID 4010 / PS3.3 C.8.11.5.1.1);
 * BodyPartExamined SKULL; AnatomicRegionSequence SCT 89546000 "Bone structure of cranium"; ImageLaterality U (an
 * unpaired body part, PS3.3 C.8.11.2).
 */
import { encodePhantomDx, uidFrom, type PhantomDxFilmAttributes } from '../../../radiograph/index.js';

/** This generator's implementation class UID (PS3.7 D.3.3.2), a fixed 2.25 UID. */
const IMPLEMENTATION_CLASS_UID = uidFrom('physis skull phantom generator implementation');

/** One skull film's attributes: the shared film attributes less what the view and body part fix. */
export interface PhantomDicomFilm extends PhantomDxFilmAttributes {
  readonly view: 'AP' | 'LATERAL';
}

/**
 * Encode one skull film as DICOM Part 10 bytes.
 * @param film - pixels and attributes
 */
export async function encodePhantomDicom(film: PhantomDicomFilm): Promise<Uint8Array> {
  const { view, ...rest } = film;
  const lateral = view === 'LATERAL';
  return encodePhantomDx({
    ...rest,
    bodyPartExamined: 'SKULL',
    anatomicRegion: {
      codeValue: '89546000',
      codingSchemeDesignator: 'SCT',
      codeMeaning: 'Bone structure of cranium',
    },
    viewPosition: lateral ? 'LL' : 'AP',
    // rows run towards the patient's left (AP, facing the patient) or posterior (left lateral); columns to the feet
    patientOrientation: [lateral ? 'P' : 'L', 'F'],
    imageLaterality: 'U',
    modelName: 'procedural skull phantom',
    calibrationDescription: 'magnification at the head centre',
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
  });
}
