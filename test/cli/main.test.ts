import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatError } from '../../src/cli/output.js';
import { main } from '../../src/cli/main.js';

void test('formatError puts a typed error on one line with its name', () => {
  class UnsupportedTransferSyntaxError extends Error {
    override name = 'UnsupportedTransferSyntaxError';
  }
  const line = formatError(new UnsupportedTransferSyntaxError('1.2.3 is not supported\n in file a.dcm'));
  assert.equal(line, 'physis: UnsupportedTransferSyntaxError: 1.2.3 is not supported in file a.dcm');
});

void test('an unknown command exits with code 2', async () => {
  const original = process.stderr.write.bind(process.stderr);
  let captured = '';
  process.stderr.write = ((chunk: string) => {
    captured += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.equal(await main(['no-such-command']), 2);
  } finally {
    process.stderr.write = original;
  }
  assert.match(captured, /unknown command 'no-such-command'/);
});
