/**
 * The PACS watcher's core: one poll that finds new films by QIDO-RS, retrieves each by WADO-RS, hands it to the
 * caller's analysis and stores the objects that analysis returns (a DICOM SR, a Secondary Capture) back into the same
 * study by STOW-RS (PS3.18 10.6, 10.4, 10.5).
 *
 * Why one poll and not a loop: scheduling (an interval, a queue job, a CLI run) belongs to the caller, and a poll that
 * ends is easy to test and to resume. Resumable because "handled" is the caller's: a poll asks `seen(uid)` before
 * touching an instance, so a killed poll run again redoes only what it had not recorded. One bad instance (it cannot
 * be retrieved, the analysis throws, the PACS refuses the result) is reported and the poll goes on; only the search
 * itself failing stops it, since then there is nothing to go on with.
 *
 * Progress events carry UIDs and counts only, never a patient attribute, so they can be logged as they are.
 *
 * @example
 * const done = new Set<string>(); // or the registry's source SOPInstanceUIDs
 * const summary = await pollOnce({
 *   client: new DicomWebClient({ baseUrl: 'http://pacs.local/dicom-web' }),
 *   filter: { modality: 'DX', bodyPartExamined: 'HAND', studyDate: { fromDate: '20240601' } },
 *   handled: { seen: async (uid) => done.has(uid), markHandled: async (ref) => void done.add(ref.sopInstanceUid) },
 *   analyse: async (bytes, ref) => [await resultObjectFor(bytes, ref)], // Part-10 objects of the film's study
 *   onProgress: (e) => console.log(e.kind),
 * });
 * summary; // -> { found: 12, skipped: 9, analysed: 3, stored: 3, failed: 0, storedObjects: 3, failures: [] }
 */
import type { DicomDateRange, DicomWebClient, InstanceRecord, InstanceRef, QidoQuery, StowResult } from './dicomweb/index.js';

/** Which instances a poll looks at. */
export interface WatchFilter {
  /** Modality (0008,0060), e.g. `DX`. */
  readonly modality?: string;
  /** BodyPartExamined (0018,0015), e.g. `HAND`. */
  readonly bodyPartExamined?: string;
  /** StudyDate (0008,0020) window, `YYYYMMDD` ends. */
  readonly studyDate?: DicomDateRange;
  /**
   * Only these SOP classes (checked on the search results): keeps a poll from analysing its own SR or Secondary
   * Capture when a PACS gives them the film's modality and body part.
   */
  readonly sopClassUids?: readonly string[];
}

/** Which instances are already handled: the caller's record (e.g. the registry), asked once per instance found. */
export interface HandledInstances {
  /**
   * Whether this SOPInstanceUID was handled by an earlier poll.
   * @param sopInstanceUid - the instance found
   */
  seen(sopInstanceUid: string): Promise<boolean>;
  /**
   * Record that an instance was handled (its results stored, or nothing to store); optional when the caller records
   * it elsewhere (e.g. inside `analyse`). Not called for an instance that failed, so the next poll tries it again.
   * @param ref - the instance
   * @param stow - what the store of its results answered; undefined when analyse returned nothing to store
   */
  markHandled?(ref: InstanceRef, stow: StowResult | undefined): Promise<void>;
}

/** The stage at which an instance failed. */
export type PollStage = 'seen' | 'retrieve' | 'analyse' | 'store' | 'record';

/** What a poll reports as it goes; UIDs and counts only. */
export type PollEvent =
  | { readonly kind: 'found'; readonly count: number }
  | { readonly kind: 'skipped'; readonly ref: InstanceRef; readonly why: 'handled' | 'sop-class' }
  | { readonly kind: 'stored'; readonly ref: InstanceRef; readonly objects: number }
  | { readonly kind: 'failed'; readonly ref: InstanceRef; readonly stage: PollStage; readonly message: string };

/** One instance that failed, and why (one line, no patient attribute). */
export interface PollFailure {
  readonly ref: InstanceRef;
  readonly stage: PollStage;
  readonly message: string;
}

/** What one poll did. */
export interface PollSummary {
  /** Instances the search returned. */
  readonly found: number;
  /** Already handled, or of a SOP class the filter leaves out. */
  readonly skipped: number;
  /** Handed to analyse. */
  readonly analysed: number;
  /** Handled completely: analysed and their results (if any) stored and recorded. */
  readonly stored: number;
  readonly failed: number;
  /** Objects stored into the PACS, over all instances. */
  readonly storedObjects: number;
  readonly failures: readonly PollFailure[];
}

/** What a poll needs. */
export interface PollOptions {
  /** The PACS; anything with these three methods (tests may pass a fake). */
  readonly client: Pick<DicomWebClient, 'searchInstances' | 'retrieveInstance' | 'store'>;
  readonly filter: WatchFilter;
  readonly handled: HandledInstances;
  /**
   * The analysis of one film: returns the Part-10 objects to store into its study (none is fine). It receives the full
   * search result, patient attributes included; what it does with them is its business.
   * @param bytes - the film as the PACS stores it
   * @param ref - its search result
   */
  analyse(bytes: Uint8Array, ref: InstanceRecord): Promise<readonly Uint8Array[]>;
  /** Called for each event, synchronously; an exception it throws is not caught. */
  readonly onProgress?: (event: PollEvent) => void;
  /** Results per QIDO-RS page (limit/offset paging, PS3.18 8.3.4.4); default 100. */
  readonly pageSize?: number;
  /** Stop before the next instance when aborted; the summary says how far it got. */
  readonly signal?: AbortSignal;
}

const DEFAULT_PAGE_SIZE = 100;

function refOf(r: InstanceRecord): InstanceRef {
  return { studyInstanceUid: r.studyInstanceUid, seriesInstanceUid: r.seriesInstanceUid, sopInstanceUid: r.sopInstanceUid };
}

function messageOf(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.replace(/\s+/g, ' ').trim().slice(0, 600);
}

/**
 * Search every page of instances matching the filter (limit/offset paging until a short page, PS3.18 8.3.4.4),
 * each instance once even when pages shift under concurrent stores.
 */
async function searchAll(o: PollOptions): Promise<InstanceRecord[]> {
  const pageSize = o.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  const base: QidoQuery = {
    ...(o.filter.modality === undefined ? {} : { modality: o.filter.modality }),
    ...(o.filter.bodyPartExamined === undefined ? {} : { bodyPartExamined: o.filter.bodyPartExamined }),
    ...(o.filter.studyDate === undefined ? {} : { studyDate: o.filter.studyDate }),
  };
  const byUid = new Map<string, InstanceRecord>();
  for (let offset = 0; ; offset += pageSize) {
    const page = await o.client.searchInstances({ ...base, limit: pageSize, offset });
    let added = 0;
    for (const r of page) {
      if (byUid.has(r.sopInstanceUid)) continue;
      byUid.set(r.sopInstanceUid, r);
      added++;
    }
    // a server may cap the page below the limit asked (PS3.18 8.3.4.4 lets it), so a short page is no end; an empty
    // page is, and so is a page with nothing new (a server that ignores offset would otherwise repeat it for ever)
    if (page.length === 0 || added === 0) break;
  }
  return [...byUid.values()];
}

/**
 * Poll a PACS once: search, skip what is handled, retrieve, analyse and store the results into each film's study.
 *
 * Why it never throws for one instance: a PACS holds films the analysis cannot read, and one of them must not keep
 * the rest of a night's films waiting; its failure is an event and a line in the summary, and since it is not
 * recorded as handled, the next poll tries it again. It throws only when the search fails (a DicomWebError).
 * @param o - the PACS, the filter, the handled record, the analysis and the progress callback
 */
export async function pollOnce(o: PollOptions): Promise<PollSummary> {
  const found = await searchAll(o);
  o.onProgress?.({ kind: 'found', count: found.length });
  const allowed = o.filter.sopClassUids === undefined ? null : new Set(o.filter.sopClassUids);
  let skipped = 0;
  let analysed = 0;
  let stored = 0;
  let storedObjects = 0;
  const failures: PollFailure[] = [];
  for (const record of found) {
    if (o.signal?.aborted === true) break;
    const ref = refOf(record);
    let stage: PollStage = 'seen';
    try {
      if (allowed !== null && (record.sopClassUid === undefined || !allowed.has(record.sopClassUid))) {
        skipped++;
        o.onProgress?.({ kind: 'skipped', ref, why: 'sop-class' });
        continue;
      }
      if (await o.handled.seen(record.sopInstanceUid)) {
        skipped++;
        o.onProgress?.({ kind: 'skipped', ref, why: 'handled' });
        continue;
      }
      stage = 'retrieve';
      const bytes = await o.client.retrieveInstance(ref);
      stage = 'analyse';
      analysed++;
      const results = await o.analyse(bytes, record);
      stage = 'store';
      const stow = results.length === 0 ? undefined : await o.client.store(results, { studyInstanceUid: record.studyInstanceUid });
      stage = 'record';
      await o.handled.markHandled?.(ref, stow);
      stored++;
      storedObjects += stow?.storedCount ?? 0;
      o.onProgress?.({ kind: 'stored', ref, objects: stow?.storedCount ?? 0 });
    } catch (e) {
      const failure: PollFailure = { ref, stage, message: messageOf(e) };
      failures.push(failure);
      o.onProgress?.({ kind: 'failed', ...failure });
    }
  }
  return { found: found.length, skipped, analysed, stored, failed: failures.length, storedObjects, failures };
}
