import { UsageError, type Command } from '../command.js';
import { readFileSync } from 'node:fs';
import { readResultObject, type ReadStructuredReport, type ResultObject } from '../../pacs/index.js';
import { listFiles, looksLikeDicom, readRadiograph, type Radiograph } from '../../radiograph/index.js';
import type { ReportFinding } from '../../tasks/index.js';

/** One file's inspection: its metadata and decode status, or the typed error that rejected it. */
export interface InspectRecord {
  readonly file: string;
  readonly status: 'decoded' | 'rejected';
  readonly format?: Radiograph['format'];
  readonly rows?: number;
  readonly columns?: number;
  readonly photometric?: Radiograph['photometric'];
  readonly transferSyntaxUid?: string | null;
  readonly numberOfFrames?: number;
  readonly voi?: string;
  readonly metadata?: Radiograph['metadata'];
  readonly warnings?: readonly string[];
  readonly error?: { readonly name: string; readonly message: string };
  /** A Physis result object (Structured Report or Secondary Capture): what it says, read back. */
  readonly resultObject?: ResultObject;
  readonly ms: number;
}

/** The result object a DICOM file is, if any (a Structured Report has no pixels to decode). */
function resultObjectOf(file: string): ResultObject | null {
  const bytes = readFileSync(file);
  if (!looksLikeDicom(bytes)) return null;
  try {
    return readResultObject(bytes, file);
  } catch {
    // not readable as a result object: the radiograph reader names the problem
    return null;
  }
}

function describeVoi(r: Radiograph): string {
  const v = r.voi;
  if (v.kind === 'window') {
    return `window ${v.windows.map((w) => `C${w.center}/W${w.width}`).join(', ')} ${v.function}`;
  }
  if (v.kind === 'lut') return `VOI LUT x${v.luts.length}`;
  return `range [${v.min}, ${v.max}]`;
}

/** Inspect one file; never throws (errors become a `rejected` record). */
export async function inspectFile(file: string): Promise<InspectRecord> {
  const t0 = performance.now();
  try {
    const resultObject = resultObjectOf(file);
    if (resultObject?.kind === 'structured-report') return { file, status: 'decoded', resultObject, ms: Math.round(performance.now() - t0) };
    const r = await readRadiograph(file);
    return {
      file,
      status: 'decoded',
      format: r.format,
      rows: r.rows,
      columns: r.columns,
      photometric: r.photometric,
      transferSyntaxUid: r.transferSyntaxUid,
      numberOfFrames: r.numberOfFrames,
      voi: describeVoi(r),
      metadata: r.metadata,
      warnings: r.warnings,
      ...(resultObject === null ? {} : { resultObject }),
      ms: Math.round(performance.now() - t0),
    };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return {
      file,
      status: 'rejected',
      error: { name: e.name, message: e.message.replace(/\s*\n\s*/g, ' ') },
      ms: Math.round(performance.now() - t0),
    };
  }
}

/** A finding in words: value, unit, interval, qualifiers, probability. */
function describeFinding(f: ReportFinding): string {
  const q = (f.qualifiers ?? []).map((x) => `, ${x.concept.meaning}: ${x.value.meaning}`).join('');
  if (f.kind === 'numeric') {
    const iv = f.interval90 === undefined ? '' : ` [90% ${f.interval90.lower}-${f.interval90.upper}]`;
    return `${f.concept.meaning} = ${f.value} ${f.unit.value}${iv}${q}`;
  }
  return `${f.concept.meaning} = ${f.value.meaning} (${f.value.scheme} ${f.value.value})${f.probability === undefined ? '' : `, p ${f.probability}`}${q}`;
}

/** The lines of a Physis Structured Report. */
function describeReport(r: ReadStructuredReport): string {
  const a = r.algorithm;
  const lines = [
    `${r.title.meaning}, ${r.completionFlag ?? '?'} ${r.verificationFlag ?? '?'}, study ${r.studyInstanceUid}, series ${r.seriesNumber ?? '?'} ${r.seriesInstanceUid}`,
    `source ${r.sources.map((s) => s.sopInstanceUid).join(', ')}`,
    `task ${r.task ?? '?'}, algorithm ${a?.name ?? '?'} ${a?.version ?? '?'}, weights sha256 ${a?.weightsSha256 ?? '?'}`,
    r.gate === null ? 'gate: none' : `gate ${r.gate.passed ? 'passed' : 'refused'} (${r.gate.algorithm.name}, weights sha256 ${r.gate.algorithm.weightsSha256})`,
    ...r.findings.map((f) => `finding: ${describeFinding(f)}`),
    ...(r.refusal === null ? [] : [`no result: ${r.refusal}`]),
  ];
  return lines.map((l) => `\n  ${l}`).join('');
}

/** The human one-liner for a record. */
export function formatRecord(r: InspectRecord): string {
  if (r.status === 'rejected')
    return `REJECTED ${r.file}: ${r.error?.name ?? 'Error'}: ${r.error?.message ?? ''}`;
  const o = r.resultObject;
  if (o?.kind === 'structured-report') return `ok ${r.file}: DICOM SR (${o.sopClassUid})${describeReport(o)}`;
  const sc =
    o?.kind === 'secondary-capture'
      ? `\n  secondary capture: ImageType ${o.imageType.join('\\')}, BurnedInAnnotation ${o.burnedInAnnotation ?? '?'}, ConversionType ${o.conversionType ?? '?'}, study ${o.studyInstanceUid}, series ${o.seriesNumber ?? '?'} ${o.seriesInstanceUid}, source ${o.sources.map((s) => s.sopInstanceUid).join(', ')}${o.derivationDescription === null ? '' : `, ${o.derivationDescription}`}`
      : '';
  const m = r.metadata;
  const facts = [
    `${r.format ?? ''}`,
    `${r.columns}x${r.rows}`,
    r.photometric,
    m?.modality,
    m?.bodyPartExamined,
    m?.viewPosition,
    m?.laterality ? `laterality ${m.laterality}` : null,
    m?.patientSex ? `sex ${m.patientSex}` : null,
    m?.age ? `age ${m.age.ageMonths.toFixed(1)} mo (${m.age.source})` : null,
    m?.spacing ? `spacing ${m.spacing.rowMm}x${m.spacing.columnMm} mm (${m.spacing.source})` : null,
    r.voi,
  ].filter((x): x is string => typeof x === 'string' && x.length > 0);
  const warnings = (r.warnings ?? []).map((w) => `\n  warning: ${w}`).join('');
  return `ok ${r.file}: ${facts.join(', ')}${sc}${warnings}`;
}

/** `physis inspect`: per file, typed metadata and decode status; a folder never stops at a bad file. */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'report metadata and decode status of radiograph files (DICOM, PNG, JPEG)',
  usage: [
    'usage: physis inspect <file|dir>... [--json] [--strict]',
    '',
    'Decodes each file (recursing into folders) and prints its typed metadata, or the named error that',
    'rejected it. With --json, one JSON object per file on stdout. --strict exits 1 if any file was rejected.',
    'A Physis result object written to a PACS prints what it says: a Structured Report its findings (values, units,',
    '90% intervals), algorithm name, version and weights hash and the gate verdict; a Secondary Capture its key attributes.',
    '',
    'example:',
    '  $ physis inspect samples/hand-0.png',
    '  ok samples/hand-0.png: png, 592x910, MONOCHROME2, range [0, 255]',
  ].join('\n'),
  options: { strict: { type: 'boolean' } },
  allowPositionals: true,
  async run(args, out) {
    if (args.positionals.length === 0) {
      throw new UsageError('give at least one file or folder');
    }
    let decoded = 0;
    let rejected = 0;
    for (const path of args.positionals) {
      let files: string[];
      try {
        files = listFiles(path);
      } catch (e) {
        const record: InspectRecord = {
          file: path,
          status: 'rejected',
          error: { name: 'NotFoundError', message: `${path}: ${e instanceof Error ? e.message : String(e)}` },
          ms: 0,
        };
        out.result(record, formatRecord(record));
        rejected++;
        continue;
      }
      for (const file of files) {
        const record = await inspectFile(file);
        if (record.status === 'decoded') decoded++;
        else rejected++;
        out.result(record, formatRecord(record));
      }
    }
    out.info(`${decoded + rejected} files: ${decoded} decoded, ${rejected} rejected`);
    return args.values['strict'] === true && rejected > 0 ? 1 : 0;
  },
};
