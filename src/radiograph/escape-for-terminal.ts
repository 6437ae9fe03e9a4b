/**
 * Terminal-safe text: file names and DICOM strings come from outside (a PACS, a USB stick, a shared folder) and
 * may carry control characters. Printed raw, ESC starts an ANSI/ECMA-48 control sequence (recolour, move the
 * cursor, retitle the window, on some terminals worse), CR overwrites the start of the line so a warning can be
 * hidden, and LF forges extra lines of output. One character class, shared with the DICOM string cleaner.
 */

/**
 * C0 controls (U+0000–U+001F), DEL (U+007F) and C1 controls (U+0080–U+009F; ECMA-48 section 5: U+009B is CSI,
 * a one-character ESC [). The DICOM string reader drops these (metadata.ts); `escapeForTerminal` shows them.
 * Global, so for `String.prototype.replace` only (which resets `lastIndex`), never `test`.
 */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Unicode formatting characters that are invisible yet change what a terminal shows: the bidirectional
 * embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), the implicit marks (U+200E, U+200F,
 * U+061C) that reorder a name ("Trojan Source", Boucher & Anderson 2021, CVE-2021-42574), and the line and
 * paragraph separators (U+2028, U+2029) that some terminals break lines at.
 */
const FORMAT_CHARACTERS = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Text with every control character shown as an escape, for printing a file name or a DICOM string to a
 * terminal: TAB, LF and CR as `\t`, `\n`, `\r`; other C0, DEL and C1 controls as `\xHH` (ESC is `\x1b`); bidi
 * and line-separator formatting characters as `\uHHHH`. Printable Unicode (accents, CJK, emoji) is kept as it is,
 * and so are backslashes (Windows paths stay readable), so the result is for display, not for parsing back.
 * @param text - untrusted text (a path, a PatientName, an error message quoting either)
 *
 * @example
 * escapeForTerminal('scan\x1b[2J.dcm'); // -> 'scan\\x1b[2J.dcm' (prints as scan\x1b[2J.dcm)
 * escapeForTerminal('Müller^Zoë'); // -> 'Müller^Zoë'
 */
export function escapeForTerminal(text: string): string {
  return text
    .replace(
      CONTROL_CHARACTERS,
      (c) => SHORT_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    )
    .replace(FORMAT_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
