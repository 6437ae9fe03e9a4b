/**
 * Write a Physis result as a DICOM Structured Report into the film's study: Comprehensive SR
 * (1.2.840.10008.5.1.4.1.1.88.33), content after PS3.16 TID 1500 Measurement Report, algorithm identification as
 * the IHE AI Results (AIR) profile asks (TID 4019: Algorithm Name 111001, Algorithm Version 111003, and the weights'
 * SHA-256 as Algorithm Parameters 111002).
 *
 * Why: radiologists read Physis' answer inside their PACS, beside the film; a Structured Report is what a PACS
 * stores, indexes and shows as a document, and its codes let other software read the numbers. The tree:
 *
 * ```
 * CONTAINER (126000 Imaging Measurement Report)              [TID 1500]
 *   HAS CONCEPT MOD CODE  Language = en-US                     [TID 1204]
 *   HAS OBS CONTEXT       Observer Type = Device, device UID, name, manufacturer, model   [TID 1002/1004]
 *   HAS CONCEPT MOD CODE  Procedure reported = automated analysis (99PHYSIS)
 *   CONTAINS CONTAINER    Image Library > Image Library Group > IMAGE (the film)          [TID 1600]
 *   CONTAINS CONTAINER    Imaging Measurements
 *     CONTAINS CONTAINER  Measurement Group: the suitability gate                         [TID 1501]
 *       Tracking Identifier, Tracking UID, Algorithm Name (+ Version, weights hash), CODE gate verdict
 *     CONTAINS CONTAINER  Measurement Group: the task
 *       Tracking Identifier, Tracking UID, Algorithm Name (+ Version, weights hash),
 *       NUM findings (UCUM unit; HAS PROPERTIES NUM 90% limits; HAS CONCEPT MOD qualifiers)  [TID 300]
 *       CODE findings (HAS PROPERTIES NUM probability), or TEXT: why there is no answer
 * ```
 *
 * The SR goes into the film's study (StudyInstanceUID and the Patient/General Study modules copied), in a new series
 * with new UIDs, and lists the film in Current Requested Procedure Evidence (PS3.3 C.17.2).
 */
import {
  PHYSIS_CODING_SCHEME,
  PHYSIS_CODING_SCHEME_NAME,
  type CodedConcept,
  type FindingQualifier,
  type ReportFinding,
} from '../tasks/index.js';
import { uidFrom } from '../radiograph/index.js';
import { writePart10, type NaturalDataset } from './dcmjs-writer.js';
import { characterSetFor, codeItem, decimalString, dicomDateTime, newUid } from './dicom-values.js';
import { PacsObjectError } from './errors.js';
import { REPORT_CONCEPTS as C, WEIGHTS_SHA256_PREFIX } from './report-concepts.js';
import { patientAndStudyOf, type SourceStudy } from './source-study.js';

/** Comprehensive SR Storage (PS3.4 B.5; IOD PS3.3 A.35.3). */
export const COMPREHENSIVE_SR_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.88.33';

/** Physis as a DICOM manufacturer (General Equipment, PS3.3 C.7.5.1). */
export const PHYSIS_MANUFACTURER = 'Physis';

/** A model as the report identifies it (IHE AI Results; PS3.16 TID 4019 Algorithm Identification). */
export interface AlgorithmIdentification {
  /** Algorithm Name: the model (bundle or composite) id. */
  readonly name: string;
  /** Algorithm Version. */
  readonly version: string;
  /** SHA-256 of the weights (hex), written as an Algorithm Parameters item. */
  readonly weightsSha256: string;
  /** Further Algorithm Parameters text items, e.g. a composite's members. */
  readonly parameters?: readonly string[];
}

/** What the suitability gate said before the task ran. */
export interface GateVerdictSummary {
  readonly passed: boolean;
  /** The gate bundle's id and weights hash. */
  readonly algorithm: AlgorithmIdentification;
}

/** Everything a Physis SR says about one film and one task. */
export interface StructuredReportContent {
  /** The task's name, e.g. `hand-bone-age` (the measurement group's tracking identifier). */
  readonly task: string;
  readonly algorithm: AlgorithmIdentification;
  /** Absent when no gate ran (the gate's own task, or a gate that was skipped). */
  readonly gate?: GateVerdictSummary;
  /** The answer as findings; empty when refused. */
  readonly findings: readonly ReportFinding[];
  /** Why there is no answer (a refused film), in words. */
  readonly refusal?: string;
  /** Notices for the reader, e.g. "not for diagnostic use without review". */
  readonly notices?: readonly string[];
}

/** The identity of a new result object; generated where not given. */
export interface NewInstance {
  readonly seriesInstanceUid?: string;
  readonly sopInstanceUid?: string;
  /** SeriesNumber (default 9901 for SR, a number PACS users can spot as Physis'). */
  readonly seriesNumber?: number;
  readonly instanceNumber?: number;
  /** ContentDate/ContentTime (default now). */
  readonly at?: Date;
  /** SoftwareVersions (default the algorithm version). */
  readonly softwareVersion?: string;
}

/** Input of {@link writeStructuredReport}. */
export interface StructuredReportInput extends StructuredReportContent, NewInstance {
  /** The analysed film's study and identity ({@link sourceStudyOf}). */
  readonly source: SourceStudy;
}

type Item = Record<string, unknown>;
type Relationship = 'CONTAINS' | 'HAS CONCEPT MOD' | 'HAS OBS CONTEXT' | 'HAS PROPERTIES';

const concept = (c: CodedConcept): Item => ({ ConceptNameCodeSequence: [codeItem(c)] });
const children = (items: readonly Item[]): Item => (items.length === 0 ? {} : { ContentSequence: items });

function container(rel: Relationship, c: CodedConcept, items: readonly Item[]): Item {
  return { RelationshipType: rel, ValueType: 'CONTAINER', ...concept(c), ContinuityOfContent: 'SEPARATE', ...children(items) };
}
function text(rel: Relationship, c: CodedConcept, value: string, items: readonly Item[] = []): Item {
  return { RelationshipType: rel, ValueType: 'TEXT', ...concept(c), TextValue: value, ...children(items) };
}
function code(rel: Relationship, c: CodedConcept, value: CodedConcept, items: readonly Item[] = []): Item {
  return { RelationshipType: rel, ValueType: 'CODE', ...concept(c), ConceptCodeSequence: [codeItem(value)], ...children(items) };
}
function uidRef(rel: Relationship, c: CodedConcept, uid: string): Item {
  return { RelationshipType: rel, ValueType: 'UIDREF', ...concept(c), UID: uid };
}
/** A NUM item (PS3.3 C.18.1 Numeric Measurement Macro): DS, plus the exact FD when the DS rounds. */
function num(rel: Relationship, c: CodedConcept, value: number, unit: CodedConcept, items: readonly Item[] = []): Item {
  const ds = decimalString(value);
  return {
    RelationshipType: rel,
    ValueType: 'NUM',
    ...concept(c),
    MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: [codeItem(unit)], NumericValue: ds, ...(Number(ds) === value ? {} : { FloatingPointValue: value }) }],
    ...children(items),
  };
}

const UCUM_NO_UNITS: CodedConcept = { value: '1', scheme: 'UCUM', meaning: 'no units' };

/** TID 4019 Algorithm Identification, as a HAS CONCEPT MOD TEXT with its version and parameters. */
function algorithmItems(a: AlgorithmIdentification): Item[] {
  return [
    text('HAS CONCEPT MOD', C.algorithmName, a.name, [
      text('HAS CONCEPT MOD', C.algorithmVersion, a.version),
      text('HAS CONCEPT MOD', C.algorithmParameters, `${WEIGHTS_SHA256_PREFIX}${a.weightsSha256}`),
      ...(a.parameters ?? []).map((p) => text('HAS CONCEPT MOD', C.algorithmParameters, p)),
    ]),
  ];
}

const qualifierItems = (qs: readonly FindingQualifier[] | undefined): Item[] => (qs ?? []).map((q) => code('HAS CONCEPT MOD', q.concept, q.value));

function findingItem(f: ReportFinding): Item {
  if (f.kind === 'numeric') {
    const iv = f.interval90;
    return num('CONTAINS', f.concept, f.value, f.unit, [
      ...qualifierItems(f.qualifiers),
      ...(iv === undefined ? [] : [num('HAS PROPERTIES', C.interval90Lower, iv.lower, f.unit), num('HAS PROPERTIES', C.interval90Upper, iv.upper, f.unit)]),
    ]);
  }
  return code('CONTAINS', f.concept, f.value, [
    ...qualifierItems(f.qualifiers),
    ...(f.probability === undefined ? [] : [num('HAS PROPERTIES', C.probability, f.probability, UCUM_NO_UNITS)]),
  ]);
}

/** The content tree (root's ContentSequence) of a report. */
function contentOf(o: StructuredReportInput, trackingUids: { gate: string; task: string }): Item[] {
  const s = o.source;
  const gateGroup =
    o.gate === undefined
      ? []
      : [
          container('CONTAINS', C.measurementGroup, [
            text('CONTAINS', C.trackingIdentifier, 'suitability gate'),
            uidRef('CONTAINS', C.trackingUniqueIdentifier, trackingUids.gate),
            ...algorithmItems(o.gate.algorithm),
            code('CONTAINS', C.gateVerdict, o.gate.passed ? C.gatePassed : C.gateRefused),
          ]),
        ];
  const taskGroup = container('CONTAINS', C.measurementGroup, [
    text('CONTAINS', C.trackingIdentifier, o.task),
    uidRef('CONTAINS', C.trackingUniqueIdentifier, trackingUids.task),
    ...algorithmItems(o.algorithm),
    ...o.findings.map(findingItem),
    ...(o.refusal === undefined ? [] : [text('CONTAINS', C.refusalReason, o.refusal)]),
    ...(o.notices ?? []).map((n) => text('CONTAINS', C.notice, n)),
  ]);
  return [
    code('HAS CONCEPT MOD', C.language, C.englishUs),
    code('HAS OBS CONTEXT', C.observerType, C.device),
    uidRef('HAS OBS CONTEXT', C.deviceObserverUid, uidFrom(`physis/device/${o.algorithm.name}/${o.algorithm.weightsSha256}`)),
    text('HAS OBS CONTEXT', C.deviceObserverName, PHYSIS_MANUFACTURER),
    text('HAS OBS CONTEXT', C.deviceObserverManufacturer, PHYSIS_MANUFACTURER),
    text('HAS OBS CONTEXT', C.deviceObserverModelName, o.algorithm.name),
    code('HAS CONCEPT MOD', C.procedureReported, C.automatedAnalysis),
    container('CONTAINS', C.imageLibrary, [
      container('CONTAINS', C.imageLibraryGroup, [
        { RelationshipType: 'CONTAINS', ValueType: 'IMAGE', ReferencedSOPSequence: [{ ReferencedSOPClassUID: s.sopClassUid, ReferencedSOPInstanceUID: s.sopInstanceUid }] },
      ]),
    ]),
    container('CONTAINS', C.imagingMeasurements, [...gateGroup, taskGroup]),
  ];
}

/**
 * The data set of a Physis SR (naturalized), for writers and tests.
 * @param o - source study, content and the new instance's identity
 */
export function structuredReportDataset(o: StructuredReportInput): NaturalDataset {
  if (o.findings.length === 0 && o.refusal === undefined) {
    throw new PacsObjectError(o.source.sopInstanceUid, 'a report needs findings or the reason there are none');
  }
  const s = o.source;
  const at = dicomDateTime(o.at ?? new Date());
  const sopInstanceUid = o.sopInstanceUid ?? newUid();
  return {
    ...characterSetFor(o),
    SOPClassUID: COMPREHENSIVE_SR_SOP_CLASS_UID,
    SOPInstanceUID: sopInstanceUid,
    InstanceCreationDate: at.date,
    InstanceCreationTime: at.time,
    ...patientAndStudyOf(s),
    Modality: 'SR',
    SeriesInstanceUID: o.seriesInstanceUid ?? newUid(),
    SeriesNumber: String(o.seriesNumber ?? 9901),
    SeriesDescription: `Physis ${o.task} report`.slice(0, 64),
    ReferencedPerformedProcedureStepSequence: [],
    Manufacturer: PHYSIS_MANUFACTURER,
    ManufacturerModelName: o.algorithm.name.slice(0, 64),
    SoftwareVersions: (o.softwareVersion ?? o.algorithm.version).slice(0, 64),
    InstanceNumber: String(o.instanceNumber ?? 1),
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: at.date,
    ContentTime: at.time,
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [
      {
        StudyInstanceUID: s.studyInstanceUid,
        ReferencedSeriesSequence: [
          { SeriesInstanceUID: s.seriesInstanceUid, ReferencedSOPSequence: [{ ReferencedSOPClassUID: s.sopClassUid, ReferencedSOPInstanceUID: s.sopInstanceUid }] },
        ],
      },
    ],
    CodingSchemeIdentificationSequence: [
      { CodingSchemeDesignator: PHYSIS_CODING_SCHEME, CodingSchemeName: PHYSIS_CODING_SCHEME_NAME, CodingSchemeResponsibleOrganization: PHYSIS_MANUFACTURER },
    ],
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [codeItem(C.imagingMeasurementReport)],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    ContentSequence: contentOf(o, { gate: uidFrom(`${sopInstanceUid}/gate`), task: uidFrom(`${sopInstanceUid}/task`) }),
  };
}

/**
 * Write a Physis result as a Comprehensive SR (PS3.3 A.35.3; content PS3.16 TID 1500; IHE AI Results) in the film's
 * study, new series, new UIDs: Part 10 bytes, explicit VR little endian, UTF-8 text.
 *
 * @example
 * const source = sourceStudyOf(readFileSync('film.dcm'));
 * const sr = await writeStructuredReport({ source, ...reportContentOf(getTask('hand-bone-age'), result) });
 * writeFileSync('film.sr.dcm', sr); // dciodvfy: no errors
 * @param o - the film's study ({@link sourceStudyOf}), the findings or refusal, the algorithm and gate, and
 *   optionally the new instance's UIDs, numbers and time
 */
export async function writeStructuredReport(o: StructuredReportInput): Promise<Uint8Array> {
  return writePart10(structuredReportDataset(o));
}
