/**
 * Cleaning the side labels of the gate's training hands with a first gate: a training hand whose side the first gate
 * does not call "left as seen" with confidence gets an unknown side (its laterality question is then not asked).
 *
 * Why: the side of every RSNA hand is labelled "left as seen", but some of those films are stored mirrored (their
 * thumb on the image's left, the side marker reversed), so the self-supervised labels contradict each other on them.
 * Dropping the labels a model trained on the noisy set disagrees with is the confident-learning recipe (Northcutt et
 * al., JAIR 2021); the films themselves stay in training for every other question. Dev films are never changed: the
 * gate is measured on their labels as the source gives them.
 */
import { readRadiograph } from '../../radiograph/index.js';
import type { Gate } from './gate.js';
import { gateVerdict } from './gate.js';
import type { SuitabilityItem } from './labels.js';

/**
 * Rows with the side of uncertain training films set to unknown.
 * @param rows - gate rows
 * @param gate - a first gate trained on the uncleaned rows
 * @param minP - the probability of the labelled side below which the label is dropped
 * @returns the rows (changed copies where cleaned) and the ids cleaned
 */
export async function cleanSideLabels(rows: readonly SuitabilityItem[], gate: Gate, minP: number): Promise<{ rows: SuitabilityItem[]; cleaned: string[] }> {
  const cleaned: string[] = [];
  const out: SuitabilityItem[] = [];
  for (const r of rows) {
    if (r.split !== 'train' || r.laterality === null) {
      out.push(r);
      continue;
    }
    const v = await gateVerdict(gate, await readRadiograph(r.path));
    const pLabelled = v.laterality.value === r.laterality ? v.laterality.p : 1 - v.laterality.p;
    if (pLabelled >= minP) out.push(r);
    else {
      cleaned.push(r.id);
      out.push({ ...r, laterality: null });
    }
  }
  return { rows: out, cleaned };
}
