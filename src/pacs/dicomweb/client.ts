/**
 * A DICOMweb client over Node's fetch: QIDO-RS search (PS3.18 10.6), WADO-RS retrieve of instances and series as
 * Part-10 bytes (10.4, multipart/related; type="application/dicom", 8.6.1.2) and STOW-RS store (10.5) with one
 * outcome per object sent.
 *
 * Why no DICOMweb library: dicomweb-client (the reference JS client) is written for browsers over XMLHttpRequest and
 * reads multipart answers into ArrayBuffers without the checks below; Node 20's fetch plus our multipart reader is
 * all the transport needs, and keeps timeouts, auth and the one-line errors in one place.
 *
 * Nothing here logs; errors name the resource path (UIDs) but never a query string, where patient matching keys live.
 *
 * @example
 * const pacs = new DicomWebClient({ baseUrl: 'http://pacs.local/dicom-web', timeoutMs: 30_000 });
 * const films = await pacs.searchInstances({ modality: 'DX', bodyPartExamined: 'HAND', studyDate: { fromDate: '20240101' } });
 * const bytes = await pacs.retrieveInstance(films[0]!); // the Part-10 object as stored
 * const result = await pacs.store([sr, sc], { studyInstanceUid: films[0]!.studyInstanceUid });
 * result.storedCount; // -> 2
 */
import { DicomJsonError, DicomWebError, MultipartError, type DicomWebService } from './errors.js';
import { readDicomJsonArray, readDicomJsonDataset, type DicomJsonDataset } from './dicom-json.js';
import { encodeMultipart, multipartBoundary, parseMediaType, parseMultipart } from './multipart.js';
import { part10Identity } from './part10.js';
import {
  instanceRecord,
  qidoRequest,
  seriesRecord,
  studyRecord,
  type InstanceRecord,
  type QidoLevel,
  type QidoQuery,
  type SeriesRecord,
  type StudyRecord,
} from './qido.js';
import { stowResult, type StowResult } from './stow.js';

/** Credentials sent as the Authorization header: a bearer token (RFC 6750) or a user and password (Basic, RFC 7617). */
export type DicomWebAuth = { readonly bearerToken: string } | { readonly username: string; readonly password: string };

/** How to reach one DICOMweb origin server. */
export interface DicomWebClientOptions {
  /** The service root, under which `studies`, `series` and `instances` live, e.g. `http://pacs/dicom-web`. */
  readonly baseUrl: string;
  readonly auth?: DicomWebAuth;
  /** Limit for one request, answer body included; default 30 000 ms. */
  readonly timeoutMs?: number;
  /** More request headers, e.g. a gateway's API key. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The fetch to use (tests); default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** Which series to retrieve. */
export interface SeriesRef {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

/** Which instance to retrieve. */
export interface InstanceRef extends SeriesRef {
  readonly sopInstanceUid: string;
}

/** How to retrieve. */
export interface RetrieveOptions {
  /**
   * The transfer syntax to ask for (PS3.18 8.7.3.5.2); default `*`, the object as the server stores it, byte for
   * byte where the server keeps the file (without the parameter a server must transcode to explicit VR little endian).
   */
  readonly transferSyntaxUid?: string;
}

/** How to store. */
export interface StoreOptions {
  /** Store into this study (`studies/{uid}`, PS3.18 10.5.1): the server refuses objects of another study. */
  readonly studyInstanceUid?: string;
  /** Throw a DicomWebError when any object was not stored (default true); false returns the result whatever it says. */
  readonly requireAll?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DICOM = 'application/dicom';
const DICOM_JSON = 'application/dicom+json';

interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/**
 * A DICOMweb client for one origin server (PS3.18 10.4 retrieve, 10.5 store, 10.6 search).
 *
 * Why a class: the base URL, credentials, timeout and fetch are fixed per server; each method is one transaction.
 * @param options - where the server is and how to talk to it
 */
export class DicomWebClient {
  /** The service root, without trailing slash. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #fetch: typeof fetch;

  constructor(options: DicomWebClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new RangeError(`DICOMweb baseUrl is not a URL: '${options.baseUrl}'`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RangeError(`DICOMweb baseUrl must be http or https, got ${parsed.protocol}`);
    if (parsed.username !== '' || parsed.password !== '') throw new RangeError('put DICOMweb credentials in options.auth, not in baseUrl');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${this.timeoutMs}`);
    this.#headers = { ...options.headers };
    const auth = options.auth;
    if (auth !== undefined) {
      this.#headers['Authorization'] = 'bearerToken' in auth
        ? `Bearer ${auth.bearerToken}`
        : `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
    }
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * Search for studies (PS3.18 10.6.1 `studies`); `modality` matches ModalitiesInStudy.
   * @param query - filters, paging and extra fields
   */
  async searchStudies(query: QidoQuery = {}): Promise<StudyRecord[]> {
    return (await this.#search('studies', query)).map((ds) => studyRecord(ds));
  }

  /**
   * Search for series (PS3.18 10.6.1 `series`, or `studies/{uid}/series` with `query.studyInstanceUid`).
   * @param query - filters, paging and extra fields
   */
  async searchSeries(query: QidoQuery = {}): Promise<SeriesRecord[]> {
    return (await this.#search('series', query)).map((ds) => seriesRecord(ds, query.studyInstanceUid));
  }

  /**
   * Search for instances (PS3.18 10.6.1 `instances`, or within a study or series with their UIDs in the query).
   * @param query - filters, paging and extra fields
   */
  async searchInstances(query: QidoQuery = {}): Promise<InstanceRecord[]> {
    const scope = {
      ...(query.studyInstanceUid === undefined ? {} : { studyInstanceUid: query.studyInstanceUid }),
      ...(query.seriesInstanceUid === undefined ? {} : { seriesInstanceUid: query.seriesInstanceUid }),
    };
    return (await this.#search('instances', query)).map((ds) => instanceRecord(ds, scope));
  }

  /**
   * Retrieve one instance as Part-10 bytes (PS3.18 10.4.1, `studies/{}/series/{}/instances/{}`).
   * @param ref - its study, series and SOP instance UIDs (an InstanceRecord will do)
   * @param options - the transfer syntax; default as stored
   */
  async retrieveInstance(ref: InstanceRef, options: RetrieveOptions = {}): Promise<Uint8Array> {
    const url = this.#url(`studies/${enc(ref.studyInstanceUid)}/series/${enc(ref.seriesInstanceUid)}/instances/${enc(ref.sopInstanceUid)}`);
    const objects = await this.#retrieve(url, options);
    if (objects.length !== 1) throw new DicomWebError('WADO-RS', url, `answered ${objects.length} objects for one instance`);
    const bytes = objects[0] ?? new Uint8Array();
    const uid = part10Identity(bytes)?.sopInstanceUid;
    if (uid !== undefined && uid !== ref.sopInstanceUid) throw new DicomWebError('WADO-RS', url, `answered another instance (${uid})`);
    return bytes;
  }

  /**
   * Retrieve every instance of a series as Part-10 bytes (PS3.18 10.4.1, `studies/{}/series/{}`), in the server's order.
   * @param ref - its study and series UIDs
   * @param options - the transfer syntax; default as stored
   */
  async retrieveSeries(ref: SeriesRef, options: RetrieveOptions = {}): Promise<Uint8Array[]> {
    return this.#retrieve(this.#url(`studies/${enc(ref.studyInstanceUid)}/series/${enc(ref.seriesInstanceUid)}`), options);
  }

  /**
   * Store Part-10 objects in one STOW-RS request (PS3.18 10.5; multipart/related; type="application/dicom") and
   * report what became of each one (10.5.3).
   *
   * Throws a DicomWebError when the server cannot be reached, answers an HTTP error without a STOW-RS data set, or
   * (unless `requireAll` is false) did not store every object: `STOW-RS http://…/studies refused 1 of 2 instances: …`,
   * with the per-instance result on the error's `stowResult`.
   * @param objects - Part-10 objects, one part each
   * @param options - the target study, and whether a partial store throws
   */
  async store(objects: readonly Uint8Array[], options: StoreOptions = {}): Promise<StowResult> {
    const url = this.#url(options.studyInstanceUid === undefined ? 'studies' : `studies/${enc(options.studyInstanceUid)}`);
    if (objects.length === 0) return { url, httpStatus: 0, outcomes: [], storedCount: 0, failedCount: 0 };
    const { body, boundary } = encodeMultipart(objects.map((o) => ({ contentType: DICOM, body: o })));
    const answer = await this.#request('STOW-RS', url, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/related; type="${DICOM}"; boundary=${boundary}`, Accept: DICOM_JSON },
      body,
    });
    let response: DicomJsonDataset | undefined;
    // 200 all stored, 202 some, 409 none (PS3.18 Table 10.5.3-1); Orthanc answers 400 when a part is not DICOM
    const readable = [200, 202, 400, 409].includes(answer.status);
    if (readable && answer.body.length > 0) {
      try {
        response = readDicomJsonDataset(JSON.parse(Buffer.from(answer.body).toString('utf8')) as unknown, 'STOW-RS response');
      } catch (e) {
        if (answer.status === 200 || answer.status === 202) throw badBody('STOW-RS', url, e, answer.status);
        throw httpError('STOW-RS', url, answer);
      }
    }
    if (!readable || (response === undefined && answer.status >= 400)) throw httpError('STOW-RS', url, answer);
    const result = stowResult(objects.map(part10Identity), answer.status, response, url);
    if (result.failedCount > 0 && options.requireAll !== false) {
      const which = result.outcomes
        .filter((o) => !o.stored)
        .map((o) => `#${o.index + 1}${o.sopInstanceUid === undefined ? '' : ` ${o.sopInstanceUid}`}: ${o.reason ?? 'failed'}`)
        .join('; ');
      throw new DicomWebError('STOW-RS', url, `refused ${result.failedCount} of ${objects.length} instances: ${which}`, answer.status, { stowResult: result });
    }
    return result;
  }

  async #search(level: QidoLevel, query: QidoQuery): Promise<DicomJsonDataset[]> {
    const { path, params } = qidoRequest(level, query);
    const qs = params.toString();
    const url = this.#url(path) + (qs === '' ? '' : `?${qs}`);
    const answer = await this.#request('QIDO-RS', url, { method: 'GET', headers: { Accept: DICOM_JSON } });
    // 204 No Content: nothing matched (PS3.18 10.6.3.2)
    if (answer.status === 204) return [];
    if (answer.status !== 200) throw httpError('QIDO-RS', url, answer);
    if (answer.body.length === 0) return [];
    try {
      return readDicomJsonArray(JSON.parse(Buffer.from(answer.body).toString('utf8')) as unknown, `QIDO-RS ${level}`);
    } catch (e) {
      throw badBody('QIDO-RS', url, e, answer.status);
    }
  }

  async #retrieve(url: string, options: RetrieveOptions): Promise<Uint8Array[]> {
    const syntax = options.transferSyntaxUid ?? '*';
    const answer = await this.#request('WADO-RS', url, {
      method: 'GET',
      headers: { Accept: `multipart/related; type="${DICOM}"; transfer-syntax=${syntax}` },
    });
    if (answer.status !== 200 && answer.status !== 206) throw httpError('WADO-RS', url, answer);
    try {
      const media = parseMediaType(answer.contentType || 'application/octet-stream');
      // a single object without the multipart wrapping, as some gateways answer
      if (media.type === DICOM) return [answer.body];
      const parts = parseMultipart(answer.body, multipartBoundary(answer.contentType));
      return parts.map((p, i) => {
        const type = p.contentType === undefined ? DICOM : parseMediaType(p.contentType).type;
        if (type !== DICOM) throw new MultipartError(`part ${i + 1} is ${type}, not ${DICOM}`);
        return p.body;
      });
    } catch (e) {
      throw badBody('WADO-RS', url, e, answer.status);
    }
  }

  #url(path: string): string {
    return `${this.baseUrl}/${path}`;
  }

  async #request(service: DicomWebService, url: string, init: { method: string; headers: Record<string, string>; body?: Uint8Array }): Promise<Answer> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await this.#fetch(url, { method: init.method, headers: { ...this.#headers, ...init.headers }, body: init.body, signal });
      const body = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, statusText: res.statusText, contentType: res.headers.get('content-type') ?? '', body };
    } catch (e) {
      throw transportError(service, url, e, this.timeoutMs);
    }
  }
}

function enc(uid: string): string {
  return encodeURIComponent(uid);
}

/** Unreachable, reset or timed out: one line with the system's code, never the stack. */
function transportError(service: DicomWebService, url: string, e: unknown, timeoutMs: number): DicomWebError {
  if (e instanceof DicomWebError) return e;
  const name = e instanceof Error ? e.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return new DicomWebError(service, url, `timed out after ${timeoutMs} ms`, undefined, { cause: e });
  const cause = e instanceof Error ? e.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String((cause as { code: unknown }).code) : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return new DicomWebError(service, url, `unreachable (${code ?? message})`, undefined, { cause: e });
}

/** An HTTP error answer: status, reason phrase and the start of the server's message. */
function httpError(service: DicomWebService, url: string, answer: Answer): DicomWebError {
  const text = Buffer.from(answer.body.subarray(0, 400)).toString('utf8');
  const said = text.trim() === '' ? '' : `: ${text}`;
  return new DicomWebError(service, url, `answered HTTP ${answer.status}${answer.statusText === '' ? '' : ` ${answer.statusText}`}${said}`, answer.status);
}

/** A 2xx answer whose body is not what PS3.18 says. */
function badBody(service: DicomWebService, url: string, e: unknown, status: number): DicomWebError {
  const what = e instanceof MultipartError || e instanceof DicomJsonError || e instanceof SyntaxError ? `${e.name}: ${e.message}` : String(e);
  return new DicomWebError(service, url, `answered HTTP ${status} with a body that cannot be read (${what})`, status, { cause: e });
}
