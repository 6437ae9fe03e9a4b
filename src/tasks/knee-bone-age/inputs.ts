/**
 * The knee model's extra inputs: sex (as the hand model's: M or F, unknown gives both answers) and chronological age
 * in months, which is required — a film without it is refused with the reason — and must lie in the model's range.
 *
 * Why chronological age is required and never defaulted: the published knee model takes it as an input (doi
 * 10.1177/23259671261424923); a guessed age would move the answer silently. Why the range: the model learned
 * children up to 18 years; an adult knee (closed physes) must not be given a child's bone age.
 */
import type { InputSpec } from '../task.js';
import { InputError } from '../errors.js';
import { AGE_INPUT_SCALE_MONTHS, KNEE_MAX_AGE_MONTHS } from './config.js';

/** The largest chronological age parsed at all (100 years); beyond it a value is a unit error, not an age. */
const MAX_PARSED_AGE_MONTHS = 1200;

/** Chronological age in months: the command line, the manifest column `age-months`, then the DICOM header. */
export const AGE_INPUT: InputSpec = {
  name: 'age-months',
  description: 'chronological age in months at the study; else DICOM StudyDate − PatientBirthDate or PatientAge; required',
  parse(raw, where) {
    const v = raw.trim();
    if (v === '') return null;
    const months = Number(v);
    if (!Number.isFinite(months) || months < 0 || months > MAX_PARSED_AGE_MONTHS) {
      throw new InputError(`${where} '${raw}' is not a chronological age in months (0–${MAX_PARSED_AGE_MONTHS})`);
    }
    return String(months);
  },
  fromRadiograph(r) {
    const age = r.metadata.age;
    return age === null ? null : String(Math.round(age.ageMonths * 100) / 100);
  },
  encode: (value) => [Number(value) / AGE_INPUT_SCALE_MONTHS],
  refusal(value) {
    const months = Number(value);
    return months <= KNEE_MAX_AGE_MONTHS
      ? null
      : `chronological age ${months.toFixed(0)} months (${(months / 12).toFixed(1)} y) is beyond the knee model's range of 0–${KNEE_MAX_AGE_MONTHS} months ` +
          `(≤ ${KNEE_MAX_AGE_MONTHS / 12} y): an adult or skeletally mature knee is not given a child's bone age`;
  },
};
