import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeForTerminal, readDicom } from '../../src/radiograph/index.js';
import { writeImage } from './dicom-writer.js';

const CASES: readonly (readonly [name: string, input: string, expected: string])[] = [
  ['plain ASCII path', 'films/hand 01.png', 'films/hand 01.png'],
  ['ESC of an ANSI sequence', 'a\x1b[31mred\x1b[0m.dcm', 'a\\x1b[31mred\\x1b[0m.dcm'],
  ['CR that would hide the start of a line', 'ok.dcm\rEVIL', 'ok.dcm\\rEVIL'],
  ['LF that would forge a second line', 'x.dcm\nok y.dcm: decoded', 'x.dcm\\nok y.dcm: decoded'],
  ['TAB', 'a\tb', 'a\\tb'],
  ['NUL and BEL', '\u0000\u0007', '\\x00\\x07'],
  ['DEL', 'a\u007fb', 'a\\x7fb'],
  ['C1 CSI (one-character ESC [) and NEL', '\u009b2J\u0085', '\\x9b2J\\x85'],
  ['bidi override (Trojan Source) and isolate', 'photo\u202egnp.exe\u2066', 'photo\\u202egnp.exe\\u2066'],
  ['line and paragraph separators', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
  ['printable Unicode kept: accents, CJK, emoji with ZWJ', 'Müller^Zoë 山田 👩‍⚕️', 'Müller^Zoë 山田 👩‍⚕️'],
  ['NBSP and U+00A0..U+00FF kept (Latin-1 names)', 'Ålesund\u00a0ß', 'Ålesund\u00a0ß'],
  ['backslashes kept (Windows paths)', 'C:\\films\\a.dcm', 'C:\\films\\a.dcm'],
  ['empty', '', ''],
];
for (const [name, input, expected] of CASES) {
  void test(`escapeForTerminal: ${name}`, () => assert.equal(escapeForTerminal(input), expected));
}

void test('escapeForTerminal output has no control character left, for every code point up to U+00FF', () => {
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  assert.doesNotMatch(escapeForTerminal(all), /[\u0000-\u001f\u007f-\u009f]/);
});

void test('DICOM strings are still cleaned of the same control characters when read', async () => {
  const bytes = writeImage({
    rows: 1,
    columns: 1,
    values: [0],
    extra: [{ tag: 0x00080070, vr: 'LO', value: 'Acme\x1b[2J\rX\x7f-ray ' }],
  });
  const r = await readDicom(bytes, 'x.dcm');
  assert.equal(r.metadata.manufacturer, 'Acme[2JX-ray');
});
