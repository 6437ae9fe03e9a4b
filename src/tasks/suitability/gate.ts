/**
 * The suitability gate at inference: open a gate bundle, give a film its verdict, and judge it for a task — refuse it
 * with the reason, or pass it on (corrected when the gate is sure it is turned, inverted or of the other side, then
 * checked again). The DICOM header is checked beside the image: Modality, BodyPartExamined, ViewPosition,
 * ImageLaterality and PhotometricInterpretation; a header that says the film is not a plain radiograph refuses it, and
 * a header that disagrees with the image is said in the result.
 *
 * Why the header and the image both: neither is enough alone. BodyPartExamined and ViewPosition are often missing or
 * wrong in practice (Gueld et al., SPIE Medical Imaging 2002, found about 15% of BodyPartExamined values wrong), so the
 * image decides the body part; but a Modality of RF or US is reliable and refuses a film the network might mistake.
 */
import {
  createMemberRunner,
  disposeModelSet,
  openModelSet,
  type MemberRunner,
  type ModelSet,
  type ModelSetMember,
  type PredictorBackend,
} from '../../infer/index.js';
import { reorientRadiograph } from '../../preprocess/index.js';
import type { Radiograph } from '../../radiograph/index.js';
import { InputError } from '../errors.js';
import type { Acceptance, GateSummary } from '../task.js';
import { gateDisplay, gateInput } from './gate-input.js';
import { openGateMember, type GateFile } from './state.js';
import { judgeVerdict, readVerdict, type GateVerdict } from './verdict.js';

/** An opened gate. */
export interface Gate {
  readonly dir: string;
  readonly set: ModelSet;
  readonly member: ModelSetMember;
  readonly gate: GateFile;
  readonly runner: MemberRunner;
  readonly size: number;
}

/** Which gate answered, for every result. */
export type GateProvenance = GateSummary['model'];

/** What the gate said about a film, as results carry it: the result's gate summary with the verdicts typed. */
export interface GateReport extends GateSummary {
  /** The verdict on the film as stored. */
  readonly verdict: GateVerdict;
  /** The verdict after the correction, when one was made. */
  readonly verdictAfterCorrection?: GateVerdict;
}

/** The gate's decision on a film for a task. */
export interface GateOutcome {
  readonly report: GateReport;
  /** The reason, when refused. */
  readonly refused: string | null;
  /** The film the task should analyse (corrected when the gate corrected it). */
  readonly radiograph: Radiograph;
}

/**
 * Open a gate bundle.
 * @param dir - the bundle folder (e.g. models/suitability)
 * @param o - backend: ONNX Runtime where the bundle ships a graph (`auto`), or `torch`/`onnx`
 * @throws InputError when the bundle is not a suitability gate
 */
export async function openGate(dir: string, o: { backend?: 'auto' | PredictorBackend } = {}): Promise<Gate> {
  const set = openModelSet(dir, { task: 'suitability' });
  try {
    if (set.members.length !== 1) throw new InputError(`${dir}: a suitability gate is one bundle, not a composite`);
    const member = set.members[0] as ModelSetMember;
    const gate = openGateMember(member).gate;
    const runner = await createMemberRunner(member, o.backend ?? 'auto');
    return { dir, set, member, gate, runner, size: member.bundle.card.input.shape[1] as number };
  } catch (e) {
    disposeModelSet(set);
    throw e;
  }
}

/** Close a gate. @param g - from {@link openGate} */
export async function closeGate(g: Gate): Promise<void> {
  await g.runner.dispose();
  disposeModelSet(g.set);
}

/** The gate's provenance. @param g - an open gate */
export function gateProvenance(g: Gate): GateProvenance {
  const c = g.member.bundle.card;
  return { id: c.id, weightsSha256: c.files.weights.sha256, dir: g.dir };
}

/**
 * The verdict on a film as it is.
 * @param g - an open gate
 * @param radiograph - the decoded film
 */
export async function gateVerdict(g: Gate, radiograph: Radiograph): Promise<GateVerdict> {
  const image = gateInput(gateDisplay(radiograph, g.size), g.size).image;
  const out = await g.runner.run(image.data, 1, g.size, [[]]);
  return readVerdict(out.heads[0]?.[0] as Float32Array, out.pooled[0] as Float32Array, g.gate);
}

/** DICOM Modality values (PS3.3 C.7.3.1.1.1) of plain projection radiographs. */
const RADIOGRAPH_MODALITIES = new Set(['CR', 'DX', 'RG', 'PX', 'IO']);
/** Modalities that are not plain radiographs, named for the refusal. */
const OTHER_MODALITIES: Readonly<Record<string, string>> = {
  CT: 'CT',
  MR: 'MR',
  US: 'ultrasound',
  NM: 'nuclear medicine',
  PT: 'PET',
  XA: 'X-ray angiography',
  RF: 'fluoroscopy',
  ES: 'endoscopy',
  XC: 'external-camera photograph',
  GM: 'general microscopy',
  SM: 'slide microscopy',
  OP: 'ophthalmic photograph',
  OPT: 'ophthalmic tomography',
  MG: 'mammography',
  ECG: 'electrocardiogram',
  DOC: 'document',
  SEG: 'segmentation',
  SR: 'structured report',
};

/** BodyPartExamined values (PS3.16 Annex L, with common variants) → the gate's body parts. */
const BODY_PARTS: Readonly<Record<string, string>> = {
  HAND: 'hand',
  WRIST: 'hand',
  FINGER: 'hand',
  KNEE: 'knee',
  SKULL: 'skull',
  HEAD: 'skull',
  SPINE: 'spine',
  CSPINE: 'spine',
  TSPINE: 'spine',
  LSPINE: 'spine',
  WHOLESPINE: 'spine',
  CHEST: 'chest',
  THORAX: 'chest',
};

/** ViewPosition (PS3.3 C.8.11.5.1.1 / C.8.11.7) → the gate's views. */
const VIEWS: Readonly<Record<string, string>> = { AP: 'frontal', PA: 'frontal', LL: 'lateral', RL: 'lateral', LATERAL: 'lateral', LAT: 'lateral', LLD: 'lateral', RLD: 'lateral' };

/**
 * What the header says against the image: a refusal when it says the film is not a plain radiograph, else the
 * disagreements in words.
 * @param r - the film as stored
 * @param v - the gate's verdict on it
 */
export function checkMetadata(r: Radiograph, v: GateVerdict): { refusal: string | null; notes: string[] } {
  const notes: string[] = [];
  if (r.format !== 'dicom') return { refusal: null, notes };
  const m = r.metadata;
  const modality = (m.modality ?? '').toUpperCase();
  const other = OTHER_MODALITIES[modality];
  if (other !== undefined) return { refusal: `not a plain radiograph: DICOM Modality ${modality} (${other})`, notes };
  if (modality === '') notes.push('DICOM Modality is empty: the image alone decides that this is a plain radiograph');
  else if (!RADIOGRAPH_MODALITIES.has(modality)) notes.push(`DICOM Modality ${modality} does not say plain radiograph: the image alone decides`);
  // CR and DX images are MONOCHROME1 or MONOCHROME2 by their IODs (PS3.3 C.8.1.2, C.8.11.3.1.1): a colour file is a
  // photograph, an ultrasound or a screenshot
  const stored = (r.storedPhotometric ?? '').toUpperCase();
  if (stored !== '' && stored !== 'MONOCHROME1' && stored !== 'MONOCHROME2') {
    return { refusal: `not a plain radiograph: DICOM PhotometricInterpretation ${stored} (colour; radiographs are stored monochrome)`, notes };
  }
  const part = (m.bodyPartExamined ?? '').toUpperCase().replace(/[\s_-]/g, '');
  const mapped = BODY_PARTS[part];
  if (part !== '' && mapped !== undefined && mapped !== v.anatomy.value) {
    notes.push(`DICOM BodyPartExamined ${m.bodyPartExamined ?? ''} disagrees with the image (${v.anatomy.value}, p = ${v.anatomy.p.toFixed(2)}); the image decides`);
  }
  const view = VIEWS[(m.viewPosition ?? '').toUpperCase()];
  if (view !== undefined && view !== v.view.value && v.anatomy.value !== 'other') {
    notes.push(`DICOM ViewPosition ${m.viewPosition ?? ''} disagrees with the image (${v.view.value} view); the image decides`);
  }
  // a left hand seen PA (as displayed, the patient's left on the image's right) is 'left as seen'
  if (v.anatomy.value === 'hand' && (m.laterality === 'L' || m.laterality === 'R')) {
    const header = m.laterality === 'L' ? 'left' : 'right';
    if (header !== v.laterality.value) {
      notes.push(`DICOM ${m.lateralitySource ?? 'ImageLaterality'} ${m.laterality} disagrees with the image (a ${v.laterality.value} hand as seen); the image decides`);
    }
  }
  return { refusal: null, notes };
}

/**
 * Judge a film for a task: header, verdict, correction and a second look at the corrected film.
 * @param g - an open gate
 * @param radiograph - the decoded film
 * @param a - what the task accepts
 * @param asStored - the gate's verdict on the film as stored, when already known (judging it for several tasks)
 */
export async function gateFilm(g: Gate, radiograph: Radiograph, a: Acceptance, asStored?: GateVerdict): Promise<GateOutcome> {
  const verdict = asStored ?? (await gateVerdict(g, radiograph));
  const meta = checkMetadata(radiograph, verdict);
  const base = { model: gateProvenance(g), verdict, metadata: meta.notes };
  if (meta.refusal !== null) return { report: { ...base, corrections: [] }, refused: meta.refusal, radiograph };
  const j = judgeVerdict(verdict, a, g.gate);
  if (!j.accepted) return { report: { ...base, corrections: [] }, refused: j.reason, radiograph };
  // the gate decided the side as seen: the task's preprocessing must not mirror again by the header's laterality
  const unmirrored = a.laterality === undefined ? radiograph : { ...radiograph, metadata: { ...radiograph.metadata, laterality: null, lateralitySource: null } };
  if (j.correction === null) return { report: { ...base, corrections: [] }, refused: null, radiograph: unmirrored };
  const corrected = reorientRadiograph(unmirrored, j.correction);
  const after = await gateVerdict(g, corrected);
  const again = judgeVerdict(after, a, g.gate, { corrected: true });
  const report = { ...base, verdictAfterCorrection: after, corrections: j.notes };
  if (!again.accepted) return { report, refused: again.reason, radiograph };
  return { report, refused: null, radiograph: corrected };
}

/**
 * The tasks that would accept a film, and why each other one would not.
 * @param g - an open gate
 * @param radiograph - the decoded film
 * @param tasks - tasks with what they accept
 */
export async function triageRadiograph(
  g: Gate,
  radiograph: Radiograph,
  tasks: readonly { readonly name: string; readonly accepts: Acceptance }[],
): Promise<{ verdict: GateVerdict; metadata: readonly string[]; accepted: { task: string; corrections: readonly string[] }[]; refused: { task: string; reason: string }[] }> {
  const verdict = await gateVerdict(g, radiograph);
  const accepted: { task: string; corrections: readonly string[] }[] = [];
  const refused: { task: string; reason: string }[] = [];
  for (const t of tasks) {
    const o = await gateFilm(g, radiograph, t.accepts, verdict);
    if (o.refused === null) accepted.push({ task: t.name, corrections: o.report.corrections });
    else refused.push({ task: t.name, reason: o.refused });
  }
  return { verdict, metadata: checkMetadata(radiograph, verdict).notes, accepted, refused };
}
