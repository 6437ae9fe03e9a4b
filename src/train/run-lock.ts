/**
 * One run per output folder: an exclusive lock file, and the check that a finished bundle is not
 * overwritten by accident.
 *
 * Why: two training runs started into the same folder (a second terminal, a re-queued job) would
 * interleave checkpoints, logs and weights into a bundle that no single run produced, and its card would
 * describe neither. The lock is created with `open(..., 'wx')` (O_CREAT | O_EXCL), which the OS makes
 * atomic, so of two runs racing for the folder exactly one wins; a lock left by a crashed run (its pid no
 * longer alive on this host) is replaced. This is the pid-file pattern of daemons and of
 * `git`'s `index.lock`, with the stale-pid recovery that `git gc`'s `gc.pid` uses.
 *
 * @example
 * assertFreshOutput('runs/a', { force: false, resume: false, bundleFiles: ['card.json'] });
 * const lock = acquireRunLock('runs/a', { command: 'physis train ...' });
 * try { await train(); } finally { lock.release(); }
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from './checkpoint.js';
import { NothingToResumeError, OutputExistsError, RunLockedError } from './run-errors.js';

/** Name of the lock file inside the output folder. */
export const RUN_LOCK_FILE = '.physis-run.lock';

/** Sub-folder of the output folder that holds the resumable checkpoint (as the trainer writes it). */
export const RUN_CHECKPOINT_DIR = 'checkpoint';

/**
 * A lock file younger than this that cannot be parsed is taken as held: its writer may be between
 * creating the file and writing its contents. Older unreadable locks are stale.
 */
const UNREADABLE_GRACE_MS = 10_000;

/** The contents of a lock file. */
export interface RunLockInfo {
  readonly pid: number;
  readonly hostname: string;
  /** ISO 8601 time the run took the lock. */
  readonly startedAt: string;
  readonly command: string;
  /** Unique per acquisition, so that one process releasing an old lock never deletes a newer one. */
  readonly runId: string;
}

/** A held lock on an output folder. */
export interface RunLock {
  /** Absolute or caller-relative path of the lock file. */
  readonly path: string;
  /** What this run wrote into the lock. */
  readonly info: RunLockInfo;
  /** A sentence describing the stale lock that was replaced (pid, host, start time), or null. */
  readonly replacedStale: string | null;
  /** Delete the lock if it is still ours (same pid and run id); safe to call more than once. */
  release(): void;
}

/** Options of {@link acquireRunLock}. */
export interface RunLockOptions {
  /** The command line of this run, recorded so that a user who meets the lock knows what holds it. */
  readonly command?: string;
}

function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}

function parseLock(text: string): RunLockInfo | null {
  try {
    const raw: unknown = JSON.parse(text);
    if (typeof raw !== 'object' || raw === null) return null;
    const r = raw as Record<string, unknown>;
    if (typeof r['pid'] !== 'number' || !Number.isInteger(r['pid'])) return null;
    return {
      pid: r['pid'],
      hostname: typeof r['hostname'] === 'string' ? r['hostname'] : '',
      startedAt: typeof r['startedAt'] === 'string' ? r['startedAt'] : '',
      command: typeof r['command'] === 'string' ? r['command'] : '',
      runId: typeof r['runId'] === 'string' ? r['runId'] : '',
    };
  } catch {
    return null; // empty or torn file: judged by its age
  }
}

/**
 * Whether a process with this pid exists on this host. `kill(pid, 0)` sends no signal; ESRCH means no
 * such process, EPERM means one exists that belongs to another user.
 * @param pid - process id
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

type Verdict =
  | { readonly held: true; readonly error: RunLockedError }
  | { readonly held: false; readonly stale: string; readonly text: string };

function judge(dir: string, path: string): Verdict {
  const text = readFileSync(path, 'utf8');
  const info = parseLock(text);
  if (info === null) {
    const ageMs = Date.now() - statSync(path).mtimeMs;
    if (ageMs < UNREADABLE_GRACE_MS) {
      return {
        held: true,
        error: new RunLockedError(
          `${dir} is locked by another run (lock file ${path} is being written); another run is writing there`,
          dir,
          null,
          null,
        ),
      };
    }
    return {
      held: false,
      stale: `replaced an unreadable lock file ${path} (${Math.round(ageMs / 1000)} s old)`,
      text,
    };
  }
  const who = `pid ${info.pid}${info.hostname ? ` on ${info.hostname}` : ''}, started ${info.startedAt || 'at an unknown time'}`;
  // A pid from another host cannot be probed from here (shared file systems), so it counts as alive.
  const sameHost = info.hostname === '' || info.hostname === hostname();
  if (!sameHost || isProcessAlive(info.pid)) {
    const what = info.command ? ` (${info.command})` : '';
    return {
      held: true,
      error: new RunLockedError(
        `${dir} is locked: another run is writing there (${who}${what}); wait for it, choose another folder, or delete ${path} if that run is gone`,
        dir,
        info.pid,
        info.startedAt || null,
      ),
    };
  }
  return { held: false, stale: `replaced a stale lock of a run that is no longer alive (${who})`, text };
}

function tryCreate(path: string, info: RunLockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw e;
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A takeover guard older than this was left by a run that died while replacing a stale lock (it takes microseconds). */
const GUARD_STALE_MS = 10_000;

/**
 * Delete the stale lock judged from `judgedText`, but never a lock another run created meanwhile. Only the run
 * holding the takeover guard (`<lock>.takeover`, created with O_EXCL) may delete a lock, and it deletes it only if
 * the file is still the one judged stale. While the stale file exists nobody can create a lock, so nothing can
 * replace it between that check and the delete. Why a guard rather than setting the file aside and linking it back:
 * the set-aside left the path empty for a moment, a third run could create its lock there, and the link back then
 * failed and lost the lock of the run that had won, so two runs both held it (seen with four racers on a busy machine).
 */
function removeStale(dir: string, path: string, judgedText: string): void {
  const guard = `${path}.takeover`;
  const recovering = (): RunLockedError =>
    new RunLockedError(`${dir} is locked: another run is recovering the same stale lock ${path}`, dir, null, null);
  if (!tryCreateGuard(guard)) {
    let ageMs: number;
    try {
      ageMs = Date.now() - statSync(guard).mtimeMs;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw recovering(); // the other run just finished; its lock decides
      throw e;
    }
    if (ageMs < GUARD_STALE_MS) throw recovering();
    rmSync(guard, { force: true });
    if (!tryCreateGuard(guard)) throw recovering();
  }
  try {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return; // another run removed it first; our O_EXCL retry decides
      throw e;
    }
    if (text !== judgedText) {
      const info = parseLock(text);
      throw new RunLockedError(
        `${dir} is locked: another run took the lock while a stale one was being replaced${info ? ` (pid ${info.pid}, started ${info.startedAt})` : ''}; another run is writing there`,
        dir,
        info?.pid ?? null,
        info?.startedAt ?? null,
      );
    }
    unlinkSync(path);
  } finally {
    rmSync(guard, { force: true });
  }
}

function tryCreateGuard(guard: string): boolean {
  try {
    closeSync(openSync(guard, 'wx'));
    return true;
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return false;
    throw e;
  }
}

/**
 * Take the output folder's run lock, creating the folder if needed.
 *
 * The lock is per run, not per process: a second acquisition from the same live process fails too.
 * A lock whose pid is dead on this host (a crashed run) is deleted under a takeover guard, only if it is still the
 * lock judged stale, and creation retried once with O_EXCL, so runs recovering the same stale lock cannot both win.
 * @param outDir - the run's output folder
 * @param o - the command line to record
 * @throws RunLockedError when a live run (or one on another host) holds the lock
 */
export function acquireRunLock(outDir: string, o: RunLockOptions = {}): RunLock {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, RUN_LOCK_FILE);
  const info: RunLockInfo = {
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date().toISOString(),
    command: o.command ?? '',
    runId: randomUUID(),
  };
  let replacedStale: string | null = null;
  // At most: the first try, a retry after the lock vanished under us, a retry after deleting a stale lock.
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(path, info)) break;
    let verdict: Verdict;
    try {
      verdict = judge(outDir, path);
    } catch (e) {
      if (isErrno(e, 'ENOENT') && attempt < 2) continue; // released between our open and our read
      throw e;
    }
    if (verdict.held) throw verdict.error;
    if (replacedStale !== null) {
      // another run replaced the same stale lock between our delete and our retry, then died too
      throw new RunLockedError(
        `${outDir} is locked: another run is recovering the same stale lock ${path}`,
        outDir,
        null,
        null,
      );
    }
    removeStale(outDir, path, verdict.text);
    replacedStale = verdict.stale;
  }
  let released = false;
  return {
    path,
    info,
    replacedStale,
    release(): void {
      if (released) return;
      released = true;
      let current: RunLockInfo | null;
      try {
        current = parseLock(readFileSync(path, 'utf8'));
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return;
        throw e;
      }
      // only our own lock: after a stale-lock takeover by another run, the file is theirs
      if (current === null || current.pid !== info.pid || current.runId !== info.runId) return;
      try {
        unlinkSync(path);
      } catch (e) {
        if (!isErrno(e, 'ENOENT')) throw e;
      }
    },
  };
}

/** Options of {@link assertFreshOutput}. */
export interface FreshOutputOptions {
  /** Overwrite a finished bundle. */
  readonly force: boolean;
  /** Continue from `<outDir>/checkpoint/checkpoint.json`. */
  readonly resume: boolean;
  /** Files whose presence marks a finished bundle (e.g. 'card.json'), relative to the folder. */
  readonly bundleFiles: readonly string[];
}

/**
 * Refuse to start a run that would silently overwrite a finished bundle, or "resume" from nothing.
 *
 * Why: a finished bundle's card and weights are a record; overwriting them should take an explicit
 * choice (force, or resume which continues the same run). A resume with no checkpoint would otherwise
 * quietly start from scratch and report itself as a continuation.
 * @param outDir - the run's output folder
 * @param o - force, resume and the files that mark a finished bundle
 * @throws NothingToResumeError when resume is set and there is no checkpoint
 * @throws OutputExistsError when a bundle file exists and neither force nor resume is set
 */
export function assertFreshOutput(outDir: string, o: FreshOutputOptions): void {
  if (o.resume) {
    if (!existsSync(join(outDir, RUN_CHECKPOINT_DIR, CHECKPOINT_FILE))) {
      throw new NothingToResumeError(
        `resume given but ${outDir} has no checkpoint (${join(outDir, RUN_CHECKPOINT_DIR, CHECKPOINT_FILE)} not found)`,
        outDir,
      );
    }
    return;
  }
  if (o.force) return;
  const found = o.bundleFiles.filter((f) => existsSync(join(outDir, f)));
  if (found.length > 0) {
    throw new OutputExistsError(
      `${outDir} already holds a finished bundle (${found.join(', ')}); choose another folder, or force to overwrite it, or resume to continue its run`,
      outDir,
      found,
    );
  }
}
