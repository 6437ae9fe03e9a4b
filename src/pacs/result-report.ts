/**
 * From a task's result for one film to what the PACS objects say: the SR content (findings, algorithm, gate
 * verdict, refusal) and the lines burned into the result picture.
 *
 * Why: the server, the jobs and the CLI write the same report for the same result; the findings come from the
 * task's own {@link Task.reportFindings}, so this file never names a task.
 */
import type { FilmResult, Task } from '../tasks/index.js';
import { PacsObjectError } from './errors.js';
import { REVIEW_NOTICE } from './secondary-capture.js';
import type { AlgorithmIdentification, StructuredReportContent } from './structured-report.js';

/**
 * The model that answered, as the report identifies it (IHE AI Results; PS3.16 TID 4019). A composite is named by
 * its id; its weights hash is its members' hashes, comma-separated, and each member is an Algorithm Parameters item.
 * @param r - the film's result
 */
export function algorithmOf(r: FilmResult): AlgorithmIdentification {
  if (r.model !== undefined) return { name: r.model.id, version: r.model.version, weightsSha256: r.model.weightsSha256 };
  if (r.composite !== undefined) {
    const members = r.members ?? [];
    return {
      name: r.composite.id,
      version: `${r.composite.kind} of ${members.length}`,
      weightsSha256: members.map((m) => m.weightsSha256).join(','),
      parameters: members.map((m) => `member ${m.id} ${m.version}${m.route === undefined ? '' : ` for ${m.route}`} weights sha256 ${m.weightsSha256}`),
    };
  }
  throw new PacsObjectError(r.file, 'the result names no model: nothing to report');
}

/**
 * The SR content of a result: the task's findings, or the refusal's reason; the model; the gate's verdict.
 * The gate refused the film when the result is refused before any input was resolved (the pipeline gates first).
 * @param task - the task that analysed the film
 * @param r - its result (an answer or a refusal; an error has nothing to report)
 * @throws PacsObjectError for a result with an error or without a model
 */
export function reportContentOf(task: Task, r: FilmResult): StructuredReportContent {
  if (r.error !== undefined) throw new PacsObjectError(r.file, `the analysis failed (${r.error.name}): nothing to report`);
  const algorithm = algorithmOf(r);
  const gate =
    r.gate === undefined
      ? {}
      : {
          gate: {
            passed: !(r.rejected !== undefined && r.inputs === undefined),
            // a gate summary records its bundle by id and weights hash, not by version
            algorithm: { name: r.gate.model.id, version: 'not recorded (identified by its weights hash)', weightsSha256: r.gate.model.weightsSha256 },
          },
        };
  if (r.rejected !== undefined) return { task: task.name, algorithm, ...gate, findings: [], refusal: r.rejected.reason, notices: [REVIEW_NOTICE] };
  const findings = task.reportFindings?.(r) ?? [];
  return {
    task: task.name,
    algorithm,
    ...gate,
    findings,
    ...(findings.length === 0 ? { refusal: `the task ${task.name} reports no coded findings; its answer: ${task.format(r)}` } : {}),
    notices: [REVIEW_NOTICE, ...(r.warnings ?? [])],
  };
}

/**
 * The lines burned into the result picture: the answer (the task's own one-line form, without the file name) or
 * why there is none, the model with a short weights hash, and the review notice.
 * @param task - the task
 * @param r - the film's result
 */
export function resultCaption(task: Task, r: FilmResult): string[] {
  const a = algorithmOf(r);
  const answer = r.rejected !== undefined ? `No answer: ${r.rejected.reason}` : task.format({ ...r, file: '' }).replace(/^: /, '').replace(/; heat map .*$/, '');
  return [answer, `Physis ${task.name}: ${a.name} ${a.version}, weights ${a.weightsSha256.slice(0, 12)}`, REVIEW_NOTICE];
}
