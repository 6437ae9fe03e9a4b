/**
 * The concepts of a Physis Structured Report: the DCM codes of TID 1500 and its sub-templates, and Physis' private
 * ones (interval bounds, probability, gate verdict, refusal reason), shared by the writer and the reader.
 *
 * Why: the DCM codes are from PS3.16 (TID 1500 Measurement Report, TID 1501 Measurement Group, TID 1600 Image
 * Library, TID 1001/1004 Observation Context, TID 4019 Algorithm Identification, as the IHE AI Results profile
 * asks); concepts no standard code names certainly are Physis' own (`99PHYSIS`), never a guessed LOINC or SNOMED CT
 * number.
 */
import { physisCode, type CodedConcept } from '../tasks/index.js';

const dcm = (value: string, meaning: string): CodedConcept => Object.freeze({ value, scheme: 'DCM', meaning });

/** The codes of a Physis report, by role. */
export const REPORT_CONCEPTS = Object.freeze({
  imagingMeasurementReport: dcm('126000', 'Imaging Measurement Report'),
  language: dcm('121049', 'Language of Content Item and Descendants'),
  englishUs: Object.freeze({ value: 'en-US', scheme: 'RFC5646', meaning: 'English (United States)' }),
  observerType: dcm('121005', 'Observer Type'),
  device: dcm('121007', 'Device'),
  deviceObserverUid: dcm('121012', 'Device Observer UID'),
  deviceObserverName: dcm('121013', 'Device Observer Name'),
  deviceObserverManufacturer: dcm('121014', 'Device Observer Manufacturer'),
  deviceObserverModelName: dcm('121015', 'Device Observer Model Name'),
  procedureReported: dcm('121058', 'Procedure reported'),
  imageLibrary: dcm('111028', 'Image Library'),
  imageLibraryGroup: dcm('126200', 'Image Library Group'),
  imagingMeasurements: dcm('126010', 'Imaging Measurements'),
  measurementGroup: dcm('125007', 'Measurement Group'),
  trackingIdentifier: dcm('112039', 'Tracking Identifier'),
  trackingUniqueIdentifier: dcm('112040', 'Tracking Unique Identifier'),
  algorithmName: dcm('111001', 'Algorithm Name'),
  algorithmVersion: dcm('111003', 'Algorithm Version'),
  algorithmParameters: dcm('111002', 'Algorithm Parameters'),
  /** The procedure a Physis report is of (no standard code names automated analysis of a radiograph by a model). */
  automatedAnalysis: physisCode('AI-ANALYSIS', 'Automated analysis of a radiograph by a trained model'),
  interval90Lower: physisCode('CI90-LOWER', 'Lower limit of the 90% prediction interval'),
  interval90Upper: physisCode('CI90-UPPER', 'Upper limit of the 90% prediction interval'),
  probability: physisCode('PROBABILITY', 'Probability the model gives this value'),
  gateVerdict: physisCode('GATE-VERDICT', 'Suitability gate verdict on the film'),
  gatePassed: physisCode('GATE-PASSED', 'Film accepted for analysis'),
  gateRefused: physisCode('GATE-REFUSED', 'Film refused: not suitable for this analysis'),
  refusalReason: physisCode('NO-RESULT-REASON', 'Reason no result was given for the film'),
  notice: physisCode('NOTICE', 'Notice to the reader'),
});

/** The text an Algorithm Parameters item carries for the weights' hash (read back by the reader). */
export const WEIGHTS_SHA256_PREFIX = 'weights sha256 ';
