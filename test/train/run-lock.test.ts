import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acquireRunLock,
  assertFreshOutput,
  isProcessAlive,
  RUN_LOCK_FILE,
} from '../../src/train/run-lock.js';
import { NothingToResumeError, OutputExistsError, RunLockedError } from '../../src/train/run-errors.js';

/** Above Linux's largest pid_max (2^22), so no process can have it. */
const DEAD_PID = 2 ** 22 + 12345;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'physis-run-lock-'));
}

function writeLock(dir: string, content: object | string): string {
  const path = join(dir, RUN_LOCK_FILE);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

void test('isProcessAlive: this process yes, a pid above pid_max no', () => {
  assert.equal(isProcessAlive(process.pid), true);
  assert.equal(isProcessAlive(DEAD_PID), false);
  assert.equal(isProcessAlive(0), false);
});

void test('acquireRunLock creates the folder and a lock with pid, hostname, start time and command', () => {
  const dir = join(tempDir(), 'nested', 'run');
  const lock = acquireRunLock(dir, { command: 'physis train x' });
  try {
    assert.equal(lock.path, join(dir, RUN_LOCK_FILE));
    const info = JSON.parse(readFileSync(lock.path, 'utf8')) as Record<string, unknown>;
    assert.equal(info['pid'], process.pid);
    assert.equal(info['hostname'], hostname());
    assert.equal(info['command'], 'physis train x');
    assert.ok(!Number.isNaN(Date.parse(String(info['startedAt']))));
    assert.equal(lock.replacedStale, null);
  } finally {
    lock.release();
  }
  assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false, 'release removes the lock');
});

void test('a second acquisition in the same live process fails: the lock is per run, not per process', () => {
  const dir = tempDir();
  const first = acquireRunLock(dir, { command: 'first' });
  try {
    assert.throws(
      () => acquireRunLock(dir, { command: 'second' }),
      (e: unknown) => {
        assert.ok(e instanceof RunLockedError);
        assert.equal(e.pid, process.pid);
        assert.equal(e.startedAt, first.info.startedAt);
        assert.ok(!e.message.includes('\n'), 'one line');
        for (const part of [dir, String(process.pid), first.info.startedAt, 'another run is writing there']) {
          assert.ok(e.message.includes(part), `message names ${part}: ${e.message}`);
        }
        return true;
      },
    );
    assert.ok(existsSync(first.path), 'the failed attempt leaves the holder’s lock in place');
  } finally {
    first.release();
  }
  const again = acquireRunLock(dir);
  again.release();
});

void test('a stale lock of a dead pid on this host is replaced and reported', () => {
  const dir = tempDir();
  writeLock(dir, {
    pid: DEAD_PID,
    hostname: hostname(),
    startedAt: '2024-01-02T03:04:05.000Z',
    command: 'old',
    runId: 'x',
  });
  const lock = acquireRunLock(dir);
  try {
    assert.ok(lock.replacedStale !== null);
    assert.match(lock.replacedStale, new RegExp(`pid ${DEAD_PID}`));
    assert.match(lock.replacedStale, /2024-01-02T03:04:05/);
    const info = JSON.parse(readFileSync(lock.path, 'utf8')) as { pid: number };
    assert.equal(info.pid, process.pid);
    assert.deepEqual(readdirSync(dir), [RUN_LOCK_FILE], 'no set-aside files are left behind');
  } finally {
    lock.release();
  }
});

// Each case: lock file contents (and age), whether acquisition must fail.
const HELD_CASES: { name: string; content: object | string; ageS?: number; held: boolean }[] = [
  {
    name: 'live pid, this host',
    content: { pid: process.pid, hostname: hostname(), startedAt: 't', runId: 'a' },
    held: true,
  },
  {
    name: 'dead pid, another host (cannot probe)',
    content: { pid: DEAD_PID, hostname: 'other-host.invalid', startedAt: 't' },
    held: true,
  },
  { name: 'dead pid, no hostname recorded', content: { pid: DEAD_PID, startedAt: 't' }, held: false },
  { name: 'empty file just created (writer mid-write)', content: '', held: true },
  { name: 'torn file 1 minute old', content: '{"pid": 12', ageS: 60, held: false },
];

for (const c of HELD_CASES) {
  void test(`acquireRunLock with an existing lock: ${c.name} → ${c.held ? 'RunLockedError' : 'replaced'}`, () => {
    const dir = tempDir();
    const path = writeLock(dir, c.content);
    if (c.ageS !== undefined) {
      const t = Date.now() / 1000 - c.ageS;
      utimesSync(path, t, t);
    }
    if (c.held) {
      assert.throws(() => acquireRunLock(dir), RunLockedError);
      assert.equal(
        readFileSync(path, 'utf8'),
        typeof c.content === 'string' ? c.content : JSON.stringify(c.content),
      );
    } else {
      const lock = acquireRunLock(dir);
      assert.ok(lock.replacedStale !== null);
      lock.release();
    }
    rmSync(dir, { recursive: true });
  });
}

void test('release deletes only our own lock, and is idempotent', () => {
  const dir = tempDir();
  const lock = acquireRunLock(dir);
  // another run took over (e.g. after our lock was judged stale): same pid, different run id
  const theirs = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: 't',
    command: 'theirs',
    runId: 'other',
  };
  writeLock(dir, theirs);
  lock.release();
  assert.ok(existsSync(lock.path), 'a lock with another run id is left alone');
  rmSync(lock.path);
  lock.release(); // no lock file at all: nothing to do
  const second = acquireRunLock(dir);
  second.release();
  second.release();
  assert.equal(existsSync(second.path), false);
});

// [name, files in the folder, force, resume, expected error or null]
const FRESH_CASES: [string, string[], boolean, boolean, (new (...a: never[]) => Error) | null][] = [
  ['empty folder', [], false, false, null],
  ['finished bundle', ['card.json'], false, false, OutputExistsError],
  ['finished bundle, force', ['card.json'], true, false, null],
  ['finished bundle with checkpoint, resume', ['card.json', 'checkpoint/checkpoint.json'], false, true, null],
  ['checkpoint only, resume', ['checkpoint/checkpoint.json'], false, true, null],
  ['nothing, resume', [], false, true, NothingToResumeError],
  ['finished bundle without checkpoint, resume', ['card.json'], false, true, NothingToResumeError],
  ['nothing, force and resume', [], true, true, NothingToResumeError],
  ['unrelated files only', ['notes.txt', 'checkpoint/checkpoint.json'], false, false, null],
];

for (const [name, files, force, resume, error] of FRESH_CASES) {
  void test(`assertFreshOutput: ${name} → ${error === null ? 'ok' : error.name}`, () => {
    const dir = tempDir();
    for (const f of files) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '{}');
    }
    const run = (): void =>
      assertFreshOutput(dir, { force, resume, bundleFiles: ['card.json', 'model.safetensors'] });
    if (error === null) run();
    else assert.throws(run, (e: unknown) => e instanceof error && e.message.includes(dir));
    rmSync(dir, { recursive: true });
  });
}

void test('assertFreshOutput messages: the files found, and "resume given but <dir> has no checkpoint"', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'card.json'), '{}');
  assert.throws(
    () => assertFreshOutput(dir, { force: false, resume: false, bundleFiles: ['card.json', 'model.onnx'] }),
    (e: unknown) =>
      e instanceof OutputExistsError &&
      e.message.includes('card.json') &&
      !e.message.includes('model.onnx') &&
      e.files.length === 1,
  );
  assert.throws(
    () => assertFreshOutput(dir, { force: false, resume: true, bundleFiles: ['card.json'] }),
    new RegExp(`resume given but ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has no checkpoint`),
  );
  rmSync(dir, { recursive: true });
});

void test('a lock held by another live process is refused; once that process is gone it is replaced', async () => {
  const dir = tempDir();
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    writeLock(dir, {
      pid,
      hostname: hostname(),
      startedAt: '2025-05-06T07:08:09.000Z',
      command: 'child',
      runId: 'c',
    });
    assert.throws(
      () => acquireRunLock(dir),
      (e: unknown) => e instanceof RunLockedError && e.pid === pid,
    );
  } finally {
    child.kill();
    await exited;
  }
  const lock = acquireRunLock(dir);
  assert.match(lock.replacedStale ?? '', new RegExp(`pid ${pid}`));
  lock.release();
  rmSync(dir, { recursive: true });
});

void test('processes racing for one stale lock: exactly one wins', async () => {
  const dir = tempDir();
  writeLock(dir, { pid: DEAD_PID, hostname: hostname(), startedAt: 't', command: 'crashed', runId: 'dead' });
  const moduleUrl = new URL('../../src/train/run-lock.ts', import.meta.url).href;
  const startAt = Date.now() + 2500; // after every child has loaded tsx
  // a winner holds the lock (alive) well after every racer has tried, then exits without releasing
  const code = `
    const { acquireRunLock } = await import(${JSON.stringify(moduleUrl)});
    await new Promise((r) => setTimeout(r, Math.max(0, ${startAt} - Date.now())));
    try { acquireRunLock(${JSON.stringify(dir)}); process.stdout.write('won'); setTimeout(() => {}, 4000); }
    catch (e) { process.stdout.write(e.name); }`;
  const racers = Array.from({ length: 4 }, () => {
    const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise<string>((resolve) => c.once('exit', () => resolve(out)));
  });
  const results = await Promise.all(racers);
  assert.equal(results.filter((r) => r === 'won').length, 1, results.join(' '));
  assert.ok(
    results.every((r) => r === 'won' || r === 'RunLockedError'),
    results.join(' '),
  );
  assert.deepEqual(readdirSync(dir), [RUN_LOCK_FILE]);
  rmSync(dir, { recursive: true });
});

void test('a stale lock is replaced under a takeover guard: a fresh guard means another run is recovering it, an old one was left by a run that died', () => {
  const dir = tempDir();
  writeLock(dir, { pid: DEAD_PID, hostname: hostname(), startedAt: 't', command: 'crashed', runId: 'dead' });
  const guard = join(dir, `${RUN_LOCK_FILE}.takeover`);
  writeFileSync(guard, '');
  assert.throws(() => acquireRunLock(dir), (e: unknown) => e instanceof RunLockedError && /another run is recovering the same stale lock/.test(e.message));
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(guard, minuteAgo, minuteAgo);
  const lock = acquireRunLock(dir);
  assert.match(lock.replacedStale ?? '', new RegExp(`pid ${DEAD_PID}`));
  assert.deepEqual(readdirSync(dir), [RUN_LOCK_FILE], 'the guard is gone');
  lock.release();
  rmSync(dir, { recursive: true });
});
