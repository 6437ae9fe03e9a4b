/**
 * The codes tasks use in their report findings: Physis' private coding scheme, the UCUM units and the DICOM sex
 * codes, with helpers for the qualifiers every per-value answer needs.
 *
 * Why: a Structured Report is read by its codes (PS3.3 C.17.3, PS3.16 TID 1500); standard codes are used only where
 * they are certain — DCM codes from PS3.16 (CID 7455 Sex) and UCUM units (PS3.16 CID 82, CID 7456 age units) — and
 * everything else is a Physis concept in the private scheme `99PHYSIS` (PS3.16 8.2: a `99` prefix marks a private
 * designator), with meanings that say honestly what the number is. No LOINC or SNOMED CT code is guessed.
 */
import type { CodedConcept, FindingQualifier } from './task.js';

/** Physis' private CodingSchemeDesignator (PS3.3 8.8; declared in each report's CodingSchemeIdentificationSequence). */
export const PHYSIS_CODING_SCHEME = '99PHYSIS';

/** The private scheme's name, for CodingSchemeIdentificationSequence (PS3.3 C.12.1.1.4). */
export const PHYSIS_CODING_SCHEME_NAME = 'Physis private concepts';

/**
 * A Physis concept (private scheme).
 * @param value - CodeValue (16 characters at most, else it is written as LongCodeValue)
 * @param meaning - CodeMeaning (64 characters at most)
 */
export function physisCode(value: string, meaning: string): CodedConcept {
  return Object.freeze({ value, scheme: PHYSIS_CODING_SCHEME, meaning });
}

/** UCUM `mo`, month (PS3.16 CID 7456 Units of Measure for Age). */
export const UCUM_MONTH: CodedConcept = Object.freeze({ value: 'mo', scheme: 'UCUM', meaning: 'month' });

/** UCUM `1`, no units (PS3.16 CID 82): a score or a probability. */
export const UCUM_NO_UNITS: CodedConcept = Object.freeze({ value: '1', scheme: 'UCUM', meaning: 'no units' });

/** Patient sex codes (PS3.16 CID 7455 Sex, DCM). */
export const SEX_CODES: Readonly<Record<'M' | 'F', CodedConcept>> = Object.freeze({
  M: Object.freeze({ value: 'M', scheme: 'DCM', meaning: 'Male' }),
  F: Object.freeze({ value: 'F', scheme: 'DCM', meaning: 'Female' }),
});

/** The concept of a qualifier: the sex an estimate assumes because the patient's sex is unknown. */
export const ASSUMED_SEX = physisCode('ASSUMED-SEX', 'Patient sex assumed for this estimate (sex unknown)');

/** The concept of a qualifier: the sex the model was given (known from the header or the request). */
export const GIVEN_SEX = physisCode('GIVEN-SEX', 'Patient sex given to the model');

/**
 * The qualifier that says which sex an estimate is for.
 * @param sex - `M` or `F`
 * @param assumed - true when the patient's sex is unknown and the estimate is one of several, one per sex
 */
export function sexQualifier(sex: 'M' | 'F', assumed: boolean): FindingQualifier {
  return { concept: assumed ? ASSUMED_SEX : GIVEN_SEX, value: SEX_CODES[sex] };
}
