/**
 * Read back what a PACS holds from Physis: a Structured Report's findings, algorithm, gate verdict and refusal, or a
 * Secondary Capture's key attributes, so `physis inspect` shows them and tests check that what was written
 * round-trips.
 *
 * Why: a report nobody can read back cannot be audited; reading with the project's DICOM parser (not the writer's
 * library) also checks the bytes, not the writer's idea of them. The tree is the one {@link writeStructuredReport}
 * writes (PS3.16 TID 1500); NUM values prefer FloatingPointValue over the DS (PS3.3 C.18.1).
 */
import type { DataSet } from 'dicom-parser';
import { parseDicomDataSet } from '../radiograph/index.js';
import type { CodedConcept, FindingQualifier, ReportFinding } from '../tasks/index.js';
import { PacsObjectError } from './errors.js';
import { REPORT_CONCEPTS as C, WEIGHTS_SHA256_PREFIX } from './report-concepts.js';
import { SECONDARY_CAPTURE_SOP_CLASS_UID } from './secondary-capture.js';
import { dicomText } from './source-study.js';
import type { AlgorithmIdentification, GateVerdictSummary } from './structured-report.js';

/** The identity of a result object in the PACS. */
export interface ResultObjectIdentity {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly seriesNumber: number | null;
  readonly instanceNumber: number | null;
  readonly manufacturer: string | null;
  readonly contentDate: string | null;
  readonly contentTime: string | null;
  /** The film it was made from: (SOP Class UID, SOP Instance UID). */
  readonly sources: readonly { readonly sopClassUid: string; readonly sopInstanceUid: string }[];
}

/** A Structured Report as read back. */
export interface ReadStructuredReport extends ResultObjectIdentity {
  readonly kind: 'structured-report';
  readonly title: CodedConcept;
  readonly completionFlag: string | null;
  readonly verificationFlag: string | null;
  /** The task (the task measurement group's tracking identifier). */
  readonly task: string | null;
  readonly algorithm: AlgorithmIdentification | null;
  readonly gate: GateVerdictSummary | null;
  readonly findings: readonly ReportFinding[];
  readonly refusal: string | null;
  readonly notices: readonly string[];
}

/** A Secondary Capture's key attributes as read back. */
export interface ReadSecondaryCapture extends ResultObjectIdentity {
  readonly kind: 'secondary-capture';
  readonly rows: number | null;
  readonly columns: number | null;
  readonly photometricInterpretation: string | null;
  readonly imageType: readonly string[];
  readonly burnedInAnnotation: string | null;
  readonly conversionType: string | null;
  readonly derivationDescription: string | null;
  readonly seriesDescription: string | null;
}

/** A Physis result object read back. */
export type ResultObject = ReadStructuredReport | ReadSecondaryCapture;

type Text = (tag: string, index?: number) => string | null;
interface Node {
  readonly ds: DataSet;
  readonly text: Text;
}

const items = (ds: DataSet, tag: string): DataSet[] => (ds.elements[tag]?.items ?? []).flatMap((i) => (i.dataSet === undefined ? [] : [i.dataSet]));

function codeOf(n: Node | undefined): CodedConcept | null {
  if (n === undefined) return null;
  const value = n.text('x00080100') ?? n.text('x00080119');
  const scheme = n.text('x00080102');
  const meaning = n.text('x00080104');
  return value === null || scheme === null || meaning === null ? null : { value, scheme, meaning };
}

const same = (a: CodedConcept | null, b: CodedConcept): boolean => a !== null && a.value === b.value && a.scheme === b.scheme;

function numberOf(ds: DataSet): { value: number; unit: CodedConcept | null } | null {
  const mv = items(ds, 'x0040a300')[0];
  if (mv === undefined) return null;
  const exact = mv.elements['x0040a161'] === undefined ? undefined : mv.double('x0040a161');
  const value = exact ?? Number(dicomText(mv, null)('x0040a30a'));
  const unitDs = items(mv, 'x004008ea')[0];
  return Number.isFinite(value) ? { value, unit: codeOf(unitDs === undefined ? undefined : { ds: unitDs, text: dicomText(unitDs, null) }) } : null;
}

/** The content items of an item: value type, concept, and the item itself. */
function contentOf(n: Node, charset: string | null): { type: string | null; concept: CodedConcept | null; node: Node }[] {
  return items(n.ds, 'x0040a730').map((ds) => {
    const node = { ds, text: dicomText(ds, charset) };
    const cn = items(ds, 'x0040a043')[0];
    return { type: node.text('x0040a040'), concept: codeOf(cn === undefined ? undefined : { ds: cn, text: dicomText(cn, charset) }), node };
  });
}

function algorithmOf(n: Node, charset: string | null): AlgorithmIdentification | null {
  const name = contentOf(n, charset).find((c) => same(c.concept, C.algorithmName));
  if (name === undefined) return null;
  const kids = contentOf(name.node, charset);
  const params = kids.filter((k) => same(k.concept, C.algorithmParameters)).map((k) => k.node.text('x0040a160') ?? '');
  const hash = params.find((p) => p.startsWith(WEIGHTS_SHA256_PREFIX));
  const rest = params.filter((p) => p !== hash);
  return {
    name: name.node.text('x0040a160') ?? '',
    version: kids.find((k) => same(k.concept, C.algorithmVersion))?.node.text('x0040a160') ?? '',
    weightsSha256: hash === undefined ? '' : hash.slice(WEIGHTS_SHA256_PREFIX.length),
    ...(rest.length === 0 ? {} : { parameters: rest }),
  };
}

function conceptCodeOf(n: Node, charset: string | null): CodedConcept | null {
  const cc = items(n.ds, 'x0040a168')[0];
  return codeOf(cc === undefined ? undefined : { ds: cc, text: dicomText(cc, charset) });
}

function findingOf(c: { type: string | null; concept: CodedConcept | null; node: Node }, charset: string | null): ReportFinding | null {
  if (c.concept === null) return null;
  const kids = contentOf(c.node, charset);
  const qualifiers: FindingQualifier[] = kids
    .filter((k) => k.type === 'CODE' && k.node.text('x0040a010') === 'HAS CONCEPT MOD')
    .flatMap((k) => {
      const value = conceptCodeOf(k.node, charset);
      return k.concept === null || value === null ? [] : [{ concept: k.concept, value }];
    });
  const q = qualifiers.length === 0 ? {} : { qualifiers };
  const property = (concept: CodedConcept): number | undefined => {
    const k = kids.find((x) => x.type === 'NUM' && same(x.concept, concept));
    return k === undefined ? undefined : numberOf(k.node.ds)?.value;
  };
  if (c.type === 'NUM') {
    const n = numberOf(c.node.ds);
    if (n === null || n.unit === null) return null;
    const lower = property(C.interval90Lower);
    const upper = property(C.interval90Upper);
    return { kind: 'numeric', concept: c.concept, value: n.value, unit: n.unit, ...(lower === undefined || upper === undefined ? {} : { interval90: { lower, upper } }), ...q };
  }
  const value = conceptCodeOf(c.node, charset);
  if (value === null) return null;
  const probability = property(C.probability);
  return { kind: 'coded', concept: c.concept, value, ...(probability === undefined ? {} : { probability }), ...q };
}

function identityOf(ds: DataSet, text: Text, sources: ResultObjectIdentity['sources'], file: string): ResultObjectIdentity {
  const need = (tag: string, name: string): string => {
    const v = text(tag);
    if (v === null) throw new PacsObjectError(file, `has no ${name}`);
    return v;
  };
  const int = (tag: string): number | null => {
    const v = text(tag);
    return v === null || !Number.isFinite(Number(v)) ? null : Number(v);
  };
  return {
    sopClassUid: need('x00080016', 'SOPClassUID'),
    sopInstanceUid: need('x00080018', 'SOPInstanceUID'),
    studyInstanceUid: need('x0020000d', 'StudyInstanceUID'),
    seriesInstanceUid: need('x0020000e', 'SeriesInstanceUID'),
    seriesNumber: int('x00200011'),
    instanceNumber: int('x00200013'),
    manufacturer: text('x00080070'),
    contentDate: text('x00080023'),
    contentTime: text('x00080033'),
    sources,
  };
}

const sopRef = (ds: DataSet): { sopClassUid: string; sopInstanceUid: string } | null => {
  const t = dicomText(ds, null);
  const c = t('x00081150');
  const i = t('x00081155');
  return c === null || i === null ? null : { sopClassUid: c, sopInstanceUid: i };
};

/**
 * Read a Physis Structured Report (the tree {@link writeStructuredReport} writes) or Secondary Capture back.
 * @param bytes - Part 10 bytes
 * @param file - its name, for messages
 * @returns null when the object is neither an SR nor an SC
 * @throws PacsObjectError when it is one but lacks its identity
 */
export function readResultObject(bytes: Uint8Array, file = 'object'): ResultObject | null {
  const ds = parseDicomDataSet(bytes, file);
  const charset = ds.string('x00080005') ?? null;
  const text = dicomText(ds, charset);
  const sopClass = text('x00080016');
  if (sopClass === SECONDARY_CAPTURE_SOP_CLASS_UID) {
    const sources = items(ds, 'x00082112').flatMap((i) => sopRef(i) ?? []);
    const imageType = [0, 1, 2, 3].map((i) => text('x00080008', i)).filter((v): v is string => v !== null);
    return {
      kind: 'secondary-capture',
      ...identityOf(ds, text, sources, file),
      rows: ds.uint16('x00280010') ?? null,
      columns: ds.uint16('x00280011') ?? null,
      photometricInterpretation: text('x00280004'),
      imageType,
      burnedInAnnotation: text('x00280301'),
      conversionType: text('x00080064'),
      derivationDescription: text('x00082111'),
      seriesDescription: text('x0008103e'),
    };
  }
  if (sopClass === null || !sopClass.startsWith('1.2.840.10008.5.1.4.1.1.88.')) return null;
  const root: Node = { ds, text };
  const top = contentOf(root, charset);
  const library = top.find((c) => same(c.concept, C.imageLibrary));
  const sources = library === undefined ? [] : contentOf(library.node, charset).flatMap((g) => contentOf(g.node, charset)).flatMap((i) => items(i.node.ds, 'x00081199').flatMap((r) => sopRef(r) ?? []));
  const measurements = top.find((c) => same(c.concept, C.imagingMeasurements));
  const groups = measurements === undefined ? [] : contentOf(measurements.node, charset).filter((c) => same(c.concept, C.measurementGroup));
  let gate: GateVerdictSummary | null = null;
  let task: string | null = null;
  let algorithm: AlgorithmIdentification | null = null;
  const findings: ReportFinding[] = [];
  let refusal: string | null = null;
  const notices: string[] = [];
  const skip = [C.trackingIdentifier, C.trackingUniqueIdentifier, C.algorithmName, C.refusalReason, C.notice];
  for (const g of groups) {
    const kids = contentOf(g.node, charset);
    const verdict = kids.find((k) => same(k.concept, C.gateVerdict));
    const algo = algorithmOf(g.node, charset);
    if (verdict !== undefined) {
      if (algo !== null) gate = { passed: same(conceptCodeOf(verdict.node, charset), C.gatePassed), algorithm: algo };
      continue;
    }
    task = kids.find((k) => same(k.concept, C.trackingIdentifier))?.node.text('x0040a160') ?? null;
    algorithm = algo;
    for (const k of kids) {
      if (same(k.concept, C.refusalReason)) refusal = k.node.text('x0040a160');
      else if (same(k.concept, C.notice)) notices.push(k.node.text('x0040a160') ?? '');
      else if (!skip.some((s) => same(k.concept, s))) {
        const f = findingOf(k, charset);
        if (f !== null) findings.push(f);
      }
    }
  }
  const titleItem = items(ds, 'x0040a043')[0];
  const title = codeOf(titleItem === undefined ? undefined : { ds: titleItem, text: dicomText(titleItem, charset) });
  return {
    kind: 'structured-report',
    ...identityOf(ds, text, sources, file),
    title: title ?? { value: '', scheme: '', meaning: '' },
    completionFlag: text('x0040a491'),
    verificationFlag: text('x0040a493'),
    task,
    algorithm,
    gate,
    findings,
    refusal,
    notices,
  };
}
