/**
 * The skull-infant-age labels file:
 *
 * | column | required | meaning |
 * |---|---|---|
 * | `file` | yes | the film (DICOM, PNG or JPEG), relative to the CSV |
 * | `view` | yes* | `AP` or `LATERAL` (also `PA`; `LAT`, `LL`, `RL`); *empty: the DICOM ViewPosition |
 * | `age_months` | yes* | postnatal age at the film in months, in [0, 12); *empty or absent: from the DICOM header (StudyDate − PatientBirthDate, else PatientAge) |
 * | `patient_id` | no | the infant: all films of one infant stay on one side of every split and fold; absent: each film is its own infant |
 * | `sex` | no | M or F (recorded, reported; not an input of the network) |
 * | `split` | no | `train`, `dev`, anything else is held out (e.g. `test`) |
 * | `suture_mask`, `fontanelle_mask` | no | 8-bit masks of the anatomy that carries the age, for the saliency check |
 * | `calvarium_mask` | no | 8-bit mask of the calvarium's rim (the vault seen edge-on along the head's outline), for the saliency check; files written before it existed have no such column |
 * | `simulated` | no | 1 for a simulated film (a Physis phantom), 0 or empty for a real one: a model trained on any simulated film says so in every answer |
 *
 * Why the header is a source: a hospital's archive holds dates, not ages; the age is what the header says, computed
 * the way `predict` computes it (PS3.3 C.7.1.1 PatientBirthDate, C.7.2.1 StudyDate). When both the column and the
 * header give an age they must agree within half a month, or the row is refused: a disagreement is a data error.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { dicomHeaderMetadata, looksLikeDicom } from '../../radiograph/index.js';
import { LabelsError } from '../errors.js';
import { checkFileColumn, labelsTable, readLabelsText } from '../labels-table.js';
import { MAX_AGE_MONTHS, type SkullView } from './config.js';

/** One labelled skull film. */
export interface SkullLabel {
  readonly file: string;
  readonly path: string;
  readonly view: SkullView;
  readonly ageMonths: number;
  /** Where the age came from. */
  readonly ageSource: 'labels' | 'dicom';
  readonly patientId: string;
  readonly sex: 'M' | 'F' | null;
  readonly split?: string;
  readonly sutureMask?: string;
  readonly fontanelleMask?: string;
  readonly calvariumMask?: string;
  /** A simulated film (phantom), not a patient's. */
  readonly simulated: boolean;
  readonly line: number;
}

/** Largest disagreement (months) tolerated between the age column and the header's dates. */
const AGE_AGREEMENT_MONTHS = 0.5;

const VIEW_SPELLINGS: Readonly<Record<string, SkullView>> = { AP: 'AP', PA: 'AP', LATERAL: 'LATERAL', LAT: 'LATERAL', LL: 'LATERAL', RL: 'LATERAL' };

/**
 * A view as written (a labels column, `--view`, DICOM ViewPosition), or null when it is not one this task knows.
 * @param raw - e.g. `AP`, `lateral`, `LL`
 */
export function parseSkullView(raw: string | null | undefined): SkullView | null {
  return VIEW_SPELLINGS[(raw ?? '').trim().toUpperCase()] ?? null;
}

function headerOf(path: string, at: string): { ageMonths: number | null; view: SkullView | null } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return { ageMonths: null, view: null };
  }
  if (!looksLikeDicom(bytes)) return { ageMonths: null, view: null };
  let metadata;
  try {
    metadata = dicomHeaderMetadata(bytes, path).metadata;
  } catch (e) {
    throw new LabelsError(`${at}: ${(e as Error).message}`, { cause: e });
  }
  return { ageMonths: metadata.age?.ageMonths ?? null, view: parseSkullView(metadata.viewPosition) };
}

/**
 * Parse labels CSV text.
 * @param text - the CSV
 * @param source - its path (names errors and anchors relative `file` paths)
 * @throws LabelsError naming the file and line for a missing column, an unknown view, an age outside [0, 12) months,
 *   an age neither given nor in the header, or a column and header that disagree
 */
export function parseSkullLabels(text: string, source: string): SkullLabel[] {
  const { columns, records } = labelsTable(text, source, ['file', 'view']);
  const base = dirname(resolve(source));
  const seen = new Map<string, number>();
  const get = (fields: readonly string[], name: string): string => {
    const i = columns.get(name);
    return i === undefined ? '' : (fields[i] ?? '').trim();
  };
  const rows = records.map((r): SkullLabel => {
    const at = `${source}:${r.line}`;
    const file = get(r.fields, 'file');
    checkFileColumn(file, { source, line: r.line }, seen);
    const path = isAbsolute(file) ? file : resolve(base, file);
    const rawView = get(r.fields, 'view');
    const rawAge = get(r.fields, 'age_months');
    const header = rawView === '' || rawAge === '' || path.toLowerCase().endsWith('.dcm') ? headerOf(path, at) : { ageMonths: null, view: null };
    const view = rawView === '' ? header.view : parseSkullView(rawView);
    if (view === null) {
      throw new LabelsError(rawView === '' ? `${at}: no view, and the file has no DICOM ViewPosition this task knows (AP, LL, RL)` : `${at}: view '${rawView}' must be AP or LATERAL`);
    }
    let ageMonths: number;
    let ageSource: SkullLabel['ageSource'];
    if (rawAge === '') {
      if (header.ageMonths === null) throw new LabelsError(`${at}: no age_months, and the file's header has no PatientBirthDate/StudyDate or PatientAge`);
      ageMonths = header.ageMonths;
      ageSource = 'dicom';
    } else {
      ageMonths = Number(rawAge);
      ageSource = 'labels';
      if (!Number.isFinite(ageMonths)) throw new LabelsError(`${at}: age_months '${rawAge}' is not a number`);
      if (header.ageMonths !== null && Math.abs(header.ageMonths - ageMonths) > AGE_AGREEMENT_MONTHS) {
        throw new LabelsError(`${at}: age_months ${rawAge} disagrees with the DICOM header (${header.ageMonths.toFixed(2)} months from its dates)`);
      }
    }
    if (ageMonths < 0 || ageMonths >= MAX_AGE_MONTHS) {
      throw new LabelsError(`${at}: age ${ageMonths.toFixed(2)} months (from ${ageSource === 'dicom' ? 'the DICOM header' : 'age_months'}) is outside this task's range [0, ${MAX_AGE_MONTHS}) months`);
    }
    const rawSex = get(r.fields, 'sex').toUpperCase();
    if (rawSex !== '' && rawSex !== 'M' && rawSex !== 'F') throw new LabelsError(`${at}: sex '${rawSex}' must be M, F or empty`);
    const patient = get(r.fields, 'patient_id');
    const split = get(r.fields, 'split');
    const mask = (name: string): string | undefined => {
      const v = get(r.fields, name);
      return v === '' ? undefined : isAbsolute(v) ? v : resolve(base, v);
    };
    const rawSimulated = get(r.fields, 'simulated');
    if (!['', '0', '1'].includes(rawSimulated)) throw new LabelsError(`${at}: simulated '${rawSimulated}' must be 1, 0 or empty`);
    const sutureMask = mask('suture_mask');
    const fontanelleMask = mask('fontanelle_mask');
    const calvariumMask = mask('calvarium_mask');
    return {
      file,
      path,
      view,
      ageMonths,
      ageSource,
      patientId: patient === '' ? `file:${file}` : patient,
      sex: rawSex === '' ? null : (rawSex as 'M' | 'F'),
      ...(split === '' ? {} : { split }),
      ...(sutureMask === undefined ? {} : { sutureMask }),
      ...(fontanelleMask === undefined ? {} : { fontanelleMask }),
      ...(calvariumMask === undefined ? {} : { calvariumMask }),
      simulated: rawSimulated === '1',
      line: r.line,
    };
  });
  if (rows.length === 0) throw new LabelsError(`${source}: no labelled rows`);
  return rows;
}

/** Read and parse a labels CSV file. @param csvPath - path to labels.csv */
export function readSkullLabels(csvPath: string): SkullLabel[] {
  return parseSkullLabels(readLabelsText(csvPath), csvPath);
}
