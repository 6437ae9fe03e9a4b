/**
 * The spine-view answer as report findings: the category with its probability, or "human review" with the most
 * probable category and its probability (never a silent class).
 *
 * Why: the Structured Report written back to the PACS (PS3.16 TID 1500) carries the same decision as `format`; the
 * categories are whatever the bundle's classes are, so they are Physis concepts named by the class.
 */
import { physisCode } from '../report-codes.js';
import type { FilmResult, ReportFinding } from '../task.js';
import type { SpineViewAnswer } from './predict.js';

/** The category the film is filed under. */
export const SPINE_CATEGORY_CONCEPT = physisCode('SPINE-CATEGORY', 'Spine radiograph category (view and surgical stage)');
/** The most probable category of a film sent to human review. */
export const SPINE_MOST_LIKELY_CONCEPT = physisCode('SPINE-MOST-LIKELY', 'Most probable spine radiograph category (below threshold)');
/** The value of the category when the model is not confident enough to file the film. */
export const SPINE_HUMAN_REVIEW = physisCode('HUMAN-REVIEW', 'Needs human review: below the confidence threshold');

/**
 * A bundle class as a concept: the class name as code value and, in words, the class name.
 * @param name - e.g. `ap_postop_2`
 */
export function spineClassCode(name: string): ReturnType<typeof physisCode> {
  return physisCode(name, `Spine category ${name}`.slice(0, 64));
}

/**
 * The findings of a spine-view result (none without an answer).
 * @param r - the film's result
 */
export function spineReportFindings(r: FilmResult): ReportFinding[] {
  const a = r.answer as Partial<SpineViewAnswer> | undefined;
  if (a?.mostLikely === undefined || a.probability === undefined) return [];
  if (a.decision === 'class' && a.class != null) {
    return [{ kind: 'coded', concept: SPINE_CATEGORY_CONCEPT, value: spineClassCode(a.class), probability: a.probability }];
  }
  return [
    { kind: 'coded', concept: SPINE_CATEGORY_CONCEPT, value: SPINE_HUMAN_REVIEW },
    { kind: 'coded', concept: SPINE_MOST_LIKELY_CONCEPT, value: spineClassCode(a.mostLikely), probability: a.probability },
  ];
}
