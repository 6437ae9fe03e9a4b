import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvError, RadiographError, parseCsv, parseCsvTable } from '../../src/radiograph/index.js';

// Ported from test/tasks/csv.test.ts (the labels reader this one replaces) and extended.
const PARSE_CASES: readonly { name: string; text: string; records: { line: number; fields: string[] }[] }[] =
  [
    {
      name: 'quotes, escaped quotes, CRLF, BOM and blank lines',
      text: '\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\nplain,\n',
      records: [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['x, y', 'say "hi"'] },
        { line: 4, fields: ['plain', ''] },
      ],
    },
    {
      name: 'no final line break',
      text: 'a\nb',
      records: [
        { line: 1, fields: ['a'] },
        { line: 2, fields: ['b'] },
      ],
    },
    {
      name: 'a quoted field spanning lines keeps later line numbers true (LF, CRLF and CR inside quotes)',
      text: 'id,note\n1,"two\nlines"\n2,"crlf\r\nbreak"\n3,"cr\rbreak"\n4,end\n',
      records: [
        { line: 1, fields: ['id', 'note'] },
        { line: 2, fields: ['1', 'two\nlines'] },
        { line: 4, fields: ['2', 'crlf\r\nbreak'] },
        { line: 6, fields: ['3', 'cr\rbreak'] },
        { line: 8, fields: ['4', 'end'] },
      ],
    },
    {
      name: 'old Mac CR line ends',
      text: 'a,b\r1,2\r',
      records: [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', '2'] },
      ],
    },
    {
      name: 'empty fields, an empty quoted field alone on a line, and spaces kept',
      text: ',,\n""\n a , b \n',
      records: [
        { line: 1, fields: ['', '', ''] },
        { line: 2, fields: [''] },
        { line: 3, fields: [' a ', ' b '] },
      ],
    },
    { name: 'empty text and a lone BOM', text: '\ufeff', records: [] },
    {
      name: 'a file name with a comma and a quote',
      text: 'file\n"images/a, ""b"".png"\n',
      records: [
        { line: 1, fields: ['file'] },
        { line: 2, fields: ['images/a, "b".png'] },
      ],
    },
  ];
for (const { name, text, records } of PARSE_CASES) {
  void test(`parseCsv: ${name}`, () => assert.deepEqual(parseCsv(text, 't.csv'), records));
}

/** Errors: each a CsvError (so also a RadiographError) whose message starts with file:line. */
const ERROR_CASES: readonly { name: string; run: () => unknown; message: RegExp; line: number | null }[] = [
  {
    name: 'unterminated quote',
    run: () => parseCsv('a\n"oops,\n', 'bad.csv'),
    message: /^bad\.csv:2: unterminated/,
    line: 2,
  },
  {
    name: 'quote inside an unquoted field',
    run: () => parseCsv('a,b\n1,x"y\n', 'bad.csv'),
    message: /^bad\.csv:2: a quote inside an unquoted field/,
    line: 2,
  },
  {
    name: 'missing column',
    run: () => parseCsvTable('file,sex\nx,M\n', 'l.csv', ['file', 'boneage_months']),
    message: /^l\.csv:1: missing column\(s\) boneage_months/,
    line: 1,
  },
  {
    name: 'ragged record',
    run: () => parseCsvTable('file,sex\nx,M,extra\n', 'l.csv', ['file']),
    message: /^l\.csv:2: 3 fields, the header has 2/,
    line: 2,
  },
  {
    name: 'ragged record after a multi-line quoted field',
    run: () => parseCsvTable('file,note\nx,"a\nb"\ny\n', 'l.csv', ['file']),
    message: /^l\.csv:4: 1 fields, the header has 2/,
    line: 4,
  },
  {
    name: 'repeated column',
    run: () => parseCsvTable('file,sex,file\n', 'l.csv', ['file']),
    message: /^l\.csv:1: column 'file' appears twice/,
    line: 1,
  },
  {
    name: 'empty file',
    run: () => parseCsvTable('', 'e.csv', ['file']),
    message: /^e\.csv: empty file/,
    line: null,
  },
];
for (const { name, run, message, line } of ERROR_CASES) {
  void test(`CSV error: ${name}`, () => {
    assert.throws(run, (e: unknown) => {
      assert.ok(e instanceof CsvError && e instanceof RadiographError, String(e));
      assert.equal(e.name, 'CsvError');
      assert.match(e.message, message);
      assert.equal(e.line, line);
      return true;
    });
  });
}

void test('parseCsvTable maps trimmed header names to indices and returns the data records', () => {
  const { columns, records } = parseCsvTable(
    '\ufeff file , sex\r\nx.png,M\r\n\r\n"y, z.png",F\r\n',
    'l.csv',
    ['file', 'sex'],
  );
  assert.deepEqual(
    [...columns],
    [
      ['file', 0],
      ['sex', 1],
    ],
  );
  assert.deepEqual(records, [
    { line: 2, fields: ['x.png', 'M'] },
    { line: 4, fields: ['y, z.png', 'F'] },
  ]);
});
