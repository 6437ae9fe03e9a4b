/**
 * A registry export turned into a task's labels file: one row per stored film that the task answered and no person
 * rejected, its label the reviewer's correction where there is one, else the model's; the film's path, its patient
 * (pseudonymous, so splits keep a patient on one side) and the inputs the task's labels reader needs.
 *
 * Why: the registry is where reviewed labels accumulate; `physis train` must be able to learn from them without a
 * hand-written conversion that could drop a correction or keep a rejected film.
 */
import type { ExportTable } from '../registry/index.js';
import { InputError } from './errors.js';
import type { Task } from './task.js';

/**
 * The labels table of a task from a registry export.
 * @param task - a task with `registryLabels`
 * @param table - the export (file columns, then `<task>.<column>` per task)
 * @returns the columns (`file`, `patient_id`, the task's) and rows, with how many films were left out and why
 * @throws InputError when the task declares no registry labels
 */
export function registryTrainingTable(task: Pick<Task, 'name' | 'registryLabels'>, table: ExportTable): { columns: string[]; rows: Record<string, string>[]; leftOut: Record<string, number> } {
  const spec = task.registryLabels;
  if (spec === undefined) throw new InputError(`${task.name} does not say how registry results become its labels; it cannot be exported for training`);
  const extra = Object.entries(spec.columns ?? {});
  const columns = ['file', spec.patientColumn ?? 'patient_id', spec.labelColumn, ...extra.map(([c]) => c)];
  const leftOut: Record<string, number> = {};
  const skip = (why: string): void => {
    leftOut[why] = (leftOut[why] ?? 0) + 1;
  };
  const rows: Record<string, string>[] = [];
  for (const r of table.rows) {
    const at = (c: string): string | number | null => r[c] ?? null;
    if (at('status') !== 'stored') skip(`not stored (${String(at('status'))})`);
    else if (at(`${task.name}.review`) === 'rejected') skip('rejected by a reviewer');
    else if (at(`${task.name}.label`) === null) skip(`no ${task.name} result`);
    else {
      const values = extra.map(([, from]) => at(from));
      if (values.some((v) => v === null)) skip(`missing ${extra.filter((_, i) => values[i] === null).map(([, from]) => from).join(', ')}`);
      else rows.push(Object.fromEntries(columns.map((c, i) => [c, String(i === 0 ? at('source_path') : i === 1 ? (at('patient') ?? '') : i === 2 ? at(`${task.name}.label`) : values[i - 3])])));
    }
  }
  return { columns, rows, leftOut };
}
