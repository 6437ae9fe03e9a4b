/**
 * `physis triage <files | folders…> [--gate dir] [--json]`: the suitability gate's verdict for every film (body part,
 * view, modality, orientation, polarity, laterality as seen, their probabilities, the open-set distance) and which
 * tasks would accept it, each refusal with its reason. The first step of registry ingestion: a bad file gets its own
 * error line and never stops the batch. Thin: the work is in src/tasks/suitability.
 *
 * @example
 * $ physis triage samples/hand-0.png
 * samples/hand-0.png: hand (p 1.00), frontal view, radiograph (p 1.00), upright (p 1.00), normal polarity (p 1.00), left as seen (p 1.00); accepted by hand-bone-age
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readRadiograph, escapeForTerminal } from '../../radiograph/index.js';
import { listTasks, suitability, type Task } from '../../tasks/index.js';
import { stringOption, UsageError, type Command } from '../command.js';
import { defaultGateDir, GATE_USAGE } from '../task-args.js';

/** Files named, folders listed (recursively, sorted; hidden entries and labels/notes files skipped). */
function filmsOf(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (name.startsWith('.') || /\.(csv|md|txt|json)$/i.test(name)) continue;
        walk(join(p, name));
      }
    } else out.push(p);
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new UsageError(`${p}: no such file or folder`);
    walk(p);
  }
  return out;
}

export const triageCommand: Command = {
  name: 'triage',
  summary: "the suitability gate's verdict for every film, and the tasks that would accept it",
  usage: [
    'usage: physis triage <files | folders…> [--gate dir] [--backend auto|onnx|torch] [--json]',
    '',
    'For each film: body part, view, modality, orientation, polarity and laterality as seen, with probabilities, the',
    'open-set distance (UNFAMILIAR when the film is unlike every kind the gate was trained on), the DICOM header where',
    'it disagrees with the image, and each task\'s decision (accepted, possibly after a correction; or the reason).',
    GATE_USAGE.split('\n')[0] ?? '',
    'Exit status 0 when every file got a verdict, 1 when any could not be read (each has its own line).',
    '',
    'example:',
    '  $ physis triage ../shared/data/dicom --json > triage.jsonl',
  ].join('\n'),
  options: { gate: { type: 'string' }, backend: { type: 'string' } },
  allowPositionals: true,
  async run(args, out) {
    if (args.positionals.length === 0) throw new UsageError('give films or folders');
    const files = filmsOf(args.positionals);
    const backend = stringOption(args, 'backend') ?? 'auto';
    if (backend !== 'auto' && backend !== 'onnx' && backend !== 'torch') throw new UsageError(`--backend must be auto, onnx or torch, got '${backend}'`);
    const dir = stringOption(args, 'gate') ?? defaultGateDir();
    if (!existsSync(dir)) throw new UsageError(`no suitability gate at ${dir}; give --gate DIR`);
    const gate = await suitability.openGate(dir, { backend });
    const tasks = listTasks().filter((t): t is Task & { accepts: NonNullable<Task['accepts']> } => t.accepts !== undefined);
    const counts = { films: 0, failed: 0, unfamiliar: 0 };
    const byAnatomy: Record<string, number> = {};
    try {
      for (const file of files) {
        counts.films++;
        let r;
        try {
          r = await suitability.triageRadiograph(gate, await readRadiograph(file), tasks);
        } catch (e) {
          counts.failed++;
          const err = e instanceof Error ? e : new Error(String(e));
          out.result({ file, error: { name: err.name, message: err.message } }, escapeForTerminal(`${file}: error: ${err.name}: ${err.message.replace(/\s*\n\s*/g, ' ')}`));
          continue;
        }
        const v = r.verdict;
        if (v.openSet.unfamiliar) counts.unfamiliar++;
        byAnatomy[v.anatomy.value] = (byAnatomy[v.anatomy.value] ?? 0) + 1;
        const side = v.anatomy.value === 'hand' || v.anatomy.value === 'knee' ? `, ${v.laterality.value} as seen (p ${v.laterality.p.toFixed(2)})` : '';
        const open = v.openSet.unfamiliar ? `, UNFAMILIAR (nearest ${v.openSet.nearest}, distance ${v.openSet.distance.toFixed(1)} > ${v.openSet.threshold.toFixed(1)})` : '';
        const verdict =
          `${v.anatomy.value} (p ${v.anatomy.p.toFixed(2)}), ${v.view.value} view, ${v.modality.value} (p ${v.modality.p.toFixed(2)}), ` +
          `${v.orientation.value === 0 ? 'upright' : `turned ${v.orientation.value}°`} (p ${v.orientation.p.toFixed(2)}), ${v.polarity.value} polarity (p ${v.polarity.p.toFixed(2)})${side}${open}`;
        const accepted = r.accepted.map((a) => (a.corrections.length === 0 ? a.task : `${a.task} after correction (${a.corrections.join('; ')})`));
        const refused = r.refused.map((x) => `${x.task}: ${x.reason}`);
        const human = [
          `${file}: ${verdict}; ${accepted.length > 0 ? `accepted by ${accepted.join(', ')}` : 'accepted by no task'}${refused.length > 0 ? ` (${refused.join('; ')})` : ''}`,
          ...r.metadata.map((m) => `  note: ${m}`),
        ].join('\n');
        out.result(
          { file, gate: suitability.gateProvenance(gate), verdict: v, metadata: r.metadata, acceptedBy: r.accepted, refusedBy: r.refused },
          escapeForTerminal(human),
        );
      }
    } finally {
      await suitability.closeGate(gate);
    }
    if (counts.films > 1) {
      out.warn(`${counts.films} files: ${counts.failed} unreadable, ${counts.unfamiliar} unfamiliar; ${Object.entries(byAnatomy).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
    return counts.failed === 0 ? 0 : 1;
  },
};
