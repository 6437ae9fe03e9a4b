/**
 * multipart/related bodies (RFC 2387 over RFC 2046 5.1.1), as WADO-RS answers and STOW-RS requests carry DICOM
 * Part-10 objects (PS3.18 8.6.1.2 "multipart/related; type=\"application/dicom\"").
 *
 * Why our own: the maintained npm parsers either handle multipart/form-data only (busboy, @hapi/pez: parts need a
 * Content-Disposition name), decode non-JSON parts as text (meros), are deprecated (dicer), or, like the generic
 * @remix-run/multipart-parser (0.x), reject a preamble before the first delimiter and skip exactly two bytes after
 * each delimiter, so transport padding (RFC 2046 5.1.1 allows spaces and tabs there) or a bare-LF server breaks
 * them. WADO-RS answers are read whole anyway (each part is one object the caller wants as bytes), so a parser over
 * one buffer — delimiter search with Buffer.indexOf, no copies of part bodies — is short and fully testable.
 */
import { randomUUID } from 'node:crypto';
import { MultipartError } from './errors.js';

/** A media type split into its lowercased type/subtype and its parameters (names lowercased, values unquoted). */
export interface MediaType {
  /** e.g. `multipart/related`. */
  readonly type: string;
  readonly parameters: ReadonlyMap<string, string>;
}

/** One body part of a multipart message. */
export interface MultipartPart {
  /** Header fields, names lowercased, folded lines joined (RFC 5322 2.2.3). */
  readonly headers: ReadonlyMap<string, string>;
  /** The part's Content-Type, undefined when absent (RFC 2046 5.1.1: then text/plain by default). */
  readonly contentType: string | undefined;
  /** The part's bytes: a view into the message buffer, not a copy. */
  readonly body: Uint8Array;
}

/** A part to encode. */
export interface MultipartInput {
  readonly contentType: string;
  readonly body: Uint8Array;
  /** More header fields, e.g. Content-Location. */
  readonly headers?: Readonly<Record<string, string>>;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y;

/**
 * Parse a Content-Type value into type and parameters (RFC 9110 8.3.1 / 5.6.6: quoted-string parameter values with
 * backslash escapes; names case-insensitive).
 *
 * Why: a boundary may be quoted (`boundary="a:b"`, required when it holds `:` or `=`) and the `type` parameter of
 * multipart/related is quoted in PS3.18's own examples; splitting on `;` and `=` gets both wrong.
 * @param value - the header value, e.g. `multipart/related; type="application/dicom"; boundary=abc`
 */
export function parseMediaType(value: string): MediaType {
  let i = 0;
  const skipSpace = (): void => {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const token = (): string => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(value);
    if (m === null) return '';
    i += m[0].length;
    return m[0];
  };
  skipSpace();
  const main = token();
  if (value[i] !== '/') throw new MultipartError(`not a media type: '${value.slice(0, 80)}'`);
  i++;
  const sub = token();
  if (main === '' || sub === '') throw new MultipartError(`not a media type: '${value.slice(0, 80)}'`);
  const parameters = new Map<string, string>();
  for (;;) {
    skipSpace();
    if (i >= value.length) break;
    if (value[i] !== ';') throw new MultipartError(`media type '${value.slice(0, 80)}': expected ';' at character ${i}`);
    i++;
    skipSpace();
    if (i >= value.length) break; // a trailing ';' is common and harmless
    const name = token().toLowerCase();
    if (name === '' || value[i] !== '=') throw new MultipartError(`media type '${value.slice(0, 80)}': bad parameter at character ${i}`);
    i++;
    let v = '';
    if (value[i] === '"') {
      i++;
      let closed = false;
      while (i < value.length) {
        const c = value[i++];
        if (c === '\\' && i < value.length) v += value[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else v += c;
      }
      if (!closed) throw new MultipartError(`media type '${value.slice(0, 80)}': unterminated quoted string`);
    } else v = token();
    // the first occurrence wins; a repeated parameter is an error in RFC 9110 but not worth refusing a PACS over
    if (!parameters.has(name)) parameters.set(name, v);
  }
  return { type: `${main}/${sub}`.toLowerCase(), parameters };
}

/**
 * The boundary of a multipart Content-Type, or a MultipartError when it is not multipart or has none.
 * @param contentType - the Content-Type header value
 */
export function multipartBoundary(contentType: string): string {
  const media = parseMediaType(contentType);
  if (!media.type.startsWith('multipart/')) throw new MultipartError(`not a multipart body: Content-Type ${media.type}`);
  const boundary = media.parameters.get('boundary');
  // RFC 2046 5.1.1: 1 to 70 characters
  if (boundary === undefined || boundary.length === 0 || boundary.length > 70) {
    throw new MultipartError(`multipart Content-Type without a valid boundary parameter: '${contentType.slice(0, 120)}'`);
  }
  return boundary;
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Where the line that a delimiter at `at` starts ends: after transport padding (spaces, tabs) and CRLF or a bare LF.
 * Returns the index after the line break, `'close'` for a close delimiter (`--` follows), or -1 when the bytes at `at`
 * only begin with the delimiter (e.g. `--abcd` when the boundary is `abc`): then they are body content.
 */
function afterDelimiter(buf: Buffer, at: number, delimiterLength: number): number | 'close' {
  let i = at + delimiterLength;
  if (buf[i] === DASH && buf[i + 1] === DASH) return 'close';
  while (buf[i] === 0x20 || buf[i] === 0x09) i++;
  if (buf[i] === CR && buf[i + 1] === LF) return i + 2;
  if (buf[i] === LF) return i + 1;
  return -1;
}

/** The next delimiter line at or after `from` that begins a line; its start (the `--`) and what follows it. */
function nextDelimiter(
  buf: Buffer,
  delimiter: Buffer,
  from: number,
  atLineStart: boolean,
): { start: number; after: number | 'close' } | null {
  let search = from;
  for (;;) {
    const at = buf.indexOf(delimiter, search);
    if (at < 0) return null;
    const lineStart = at === 0 || buf[at - 1] === LF || (atLineStart && at === from);
    if (lineStart) {
      const after = afterDelimiter(buf, at, delimiter.length);
      if (after !== -1) return { start: at, after };
    }
    search = at + 1;
  }
}

/** Split a header section into fields; names lowercased, continuation lines unfolded. */
function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== null) {
      headers.set(last, `${headers.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError(`part header line without a field name: '${line.slice(0, 60)}'`);
    last = line.slice(0, colon).trim().toLowerCase();
    const v = line.slice(colon + 1).trim();
    headers.set(last, headers.has(last) ? `${headers.get(last) ?? ''}, ${v}` : v);
  }
  return headers;
}

/**
 * Parse a whole multipart body into its parts (RFC 2046 5.1.1).
 *
 * Why lenient where it costs nothing: a preamble before the first delimiter and an epilogue after the last are
 * ignored as the RFC says; transport padding after a delimiter is skipped; bare LF line breaks are accepted as well as
 * CRLF (some gateways rewrite line ends in headers); the line break before a delimiter belongs to the delimiter, so a
 * part body never gains or loses a byte. Strict where bytes would be lost: a missing close delimiter (a truncated
 * answer) is an error, not a shorter list.
 * @param body - the whole message body
 * @param boundary - the boundary parameter of its Content-Type ({@link multipartBoundary})
 */
export function parseMultipart(body: Uint8Array, boundary: string): MultipartPart[] {
  const buf = asBuffer(body);
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const first = nextDelimiter(buf, delimiter, 0, true);
  if (first === null) throw new MultipartError(`multipart body (${buf.length} bytes) without its opening boundary`);
  const parts: MultipartPart[] = [];
  let cursor = first.after;
  while (cursor !== 'close') {
    // header section: lines up to the first empty line
    let headerEnd = -1;
    let bodyStart = -1;
    if (buf[cursor] === LF) {
      headerEnd = cursor;
      bodyStart = cursor + 1;
    } else if (buf[cursor] === CR && buf[cursor + 1] === LF) {
      headerEnd = cursor;
      bodyStart = cursor + 2;
    } else {
      for (let i = buf.indexOf(LF, cursor); i >= 0; i = buf.indexOf(LF, i + 1)) {
        if (buf[i + 1] === LF) {
          headerEnd = i + 1;
          bodyStart = i + 2;
          break;
        }
        if (buf[i + 1] === CR && buf[i + 2] === LF) {
          headerEnd = i + 1;
          bodyStart = i + 3;
          break;
        }
      }
    }
    if (bodyStart < 0) throw new MultipartError(`multipart part ${parts.length + 1}: no blank line after its headers`);
    const headers = parseHeaders(buf.toString('latin1', cursor, headerEnd));
    const next = nextDelimiter(buf, delimiter, bodyStart, false);
    if (next === null) {
      throw new MultipartError(`multipart part ${parts.length + 1}: no closing boundary (truncated body of ${buf.length} bytes?)`);
    }
    // the line break before the delimiter is the delimiter's (RFC 2046 5.1.1), CRLF or LF
    let bodyEnd = next.start;
    if (bodyEnd > bodyStart && buf[bodyEnd - 1] === LF) bodyEnd--;
    if (bodyEnd > bodyStart && buf[bodyEnd - 1] === CR) bodyEnd--;
    parts.push({ headers, contentType: headers.get('content-type'), body: buf.subarray(bodyStart, Math.max(bodyStart, bodyEnd)) });
    cursor = next.after;
  }
  return parts;
}

/**
 * Encode parts as a multipart body with CRLF line breaks and a boundary that occurs in no part.
 *
 * Why check the boundary: RFC 2046 5.1.1 requires that it not occur in any encapsulated part; a random UUID almost
 * never does in pixel data, and a check makes it never.
 * @param parts - the parts, in order
 * @param boundary - a boundary to use (tests); by default a fresh random one
 */
export function encodeMultipart(parts: readonly MultipartInput[], boundary?: string): { body: Uint8Array; boundary: string } {
  const bodies = parts.map((p) => asBuffer(p.body));
  let chosen = boundary ?? `physis-${randomUUID()}`;
  const occurs = (b: string): boolean => bodies.some((x) => x.includes(`--${b}`, 0, 'latin1'));
  if (boundary !== undefined && occurs(boundary)) throw new MultipartError(`boundary '${boundary}' occurs inside a part`);
  while (occurs(chosen)) chosen = `physis-${randomUUID()}`;
  const chunks: Buffer[] = [];
  parts.forEach((p, i) => {
    let head = `--${chosen}\r\nContent-Type: ${p.contentType}\r\n`;
    for (const [k, v] of Object.entries(p.headers ?? {})) head += `${k}: ${v}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'latin1'), bodies[i] ?? Buffer.alloc(0), Buffer.from('\r\n', 'latin1'));
  });
  chunks.push(Buffer.from(`--${chosen}--\r\n`, 'latin1'));
  return { body: Buffer.concat(chunks), boundary: chosen };
}
