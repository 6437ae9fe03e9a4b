/**
 * A throw-away Orthanc (Debian's `orthanc` + `orthanc-dicomweb`, installed by scripts/bootstrap.sh) for tests that
 * need a real DICOMweb origin server: free loopback ports, a temporary JSON configuration and storage folder,
 * DICOMweb at `/dicom-web`, no authentication unless a test user is asked for, the DICOM port disabled unless asked
 * for; ready when `/system` answers; stopped (SIGTERM, then SIGKILL, then the folder removed) by `stop()`, and on
 * process exit if a test forgot or crashed.
 *
 * @example
 * const skip = orthancUnavailable(); // 'Orthanc not installed (/usr/sbin/Orthanc): …' or undefined
 * const orthanc = await startOrthanc();
 * const pacs = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl });
 * after(() => orthanc.stop());
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian installs the server (PHYSIS_ORTHANC overrides it, e.g. to test the skip). */
export const ORTHANC_BINARY = process.env['PHYSIS_ORTHANC'] ?? '/usr/sbin/Orthanc';
/** Where Debian installs the DICOMweb plugin (PHYSIS_ORTHANC_DICOMWEB overrides it). */
export const ORTHANC_DICOMWEB_PLUGIN = process.env['PHYSIS_ORTHANC_DICOMWEB'] ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

/** How to start it. */
export interface OrthancOptions {
  /** Require HTTP Basic authentication with this user (Orthanc's RegisteredUsers); default none. */
  readonly user?: { readonly username: string; readonly password: string };
  /** Also listen for DICOM (C-STORE, C-FIND) on another free port; default off. */
  readonly dicomServer?: boolean;
  /** How long to wait for `/system`; default 30 000 ms. */
  readonly startTimeoutMs?: number;
}

/** A running Orthanc. */
export interface OrthancServer {
  /** `http://127.0.0.1:<port>`, the REST API. */
  readonly baseUrl: string;
  /** `<baseUrl>/dicom-web`, the DICOMweb service root. */
  readonly dicomWebUrl: string;
  readonly httpPort: number;
  /** The DICOM port, when `dicomServer` was asked for. */
  readonly dicomPort: number | undefined;
  /** The temporary folder holding the configuration and the storage. */
  readonly dir: string;
  readonly user: { readonly username: string; readonly password: string } | undefined;
  /** The last lines Orthanc wrote (for a failing test's message). */
  logTail(): string;
  /** Stop it and remove its folder; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Why Orthanc cannot be started here, in one line, or undefined when it can; tests pass it as `skip`.
 */
export function orthancUnavailable(): string | undefined {
  if (!existsSync(ORTHANC_BINARY)) return `Orthanc not installed (${ORTHANC_BINARY}); apt-get install orthanc orthanc-dicomweb (scripts/bootstrap.sh) to run these tests`;
  if (!existsSync(ORTHANC_DICOMWEB_PLUGIN)) return `Orthanc DICOMweb plugin not installed (${ORTHANC_DICOMWEB_PLUGIN}); apt-get install orthanc-dicomweb to run these tests`;
  return undefined;
}

/** A loopback port free at the moment of asking (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? done(port) : fail(new Error('no free port'))));
    });
  });
}

const running = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;

/** On exit, whatever happened: kill what is still running and remove its folder (synchronous, as 'exit' requires). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const r of running) {
      r.child.kill('SIGKILL');
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Start an Orthanc with DICOMweb on free loopback ports and wait until it answers.
 *
 * Why retry: a port picked free can be taken before Orthanc binds it (other engineers' tests run beside ours); a
 * start that exits early is tried again on new ports, up to three times.
 * @param options - authentication, DICOM port, start timeout
 */
export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancServer> {
  const why = orthancUnavailable();
  if (why !== undefined) throw new Error(why);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function startOnce(options: OrthancOptions): Promise<OrthancServer> {
  const dir = mkdtempSync(join(tmpdir(), 'physis-orthanc-'));
  const httpPort = await freePort();
  const dicomPort = options.dicomServer === true ? await freePort() : undefined;
  const user = options.user;
  const config = {
    Name: 'physis-test',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'storage'),
    StorageCompression: false,
    HttpPort: httpPort,
    HttpCompressionEnabled: false,
    HttpThreadsCount: 4,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: user !== undefined,
    RegisteredUsers: user === undefined ? {} : { [user.username]: user.password },
    DicomServerEnabled: dicomPort !== undefined,
    // Orthanc reads DicomPort even when the DICOM server is off; keep it off the well-known 4242
    DicomPort: dicomPort ?? (await freePort()),
    DicomAet: 'PHYSISTEST',
    ConcurrentJobs: 1,
    SaveJobs: false,
    Plugins: [ORTHANC_DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
  };
  const configPath = join(dir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(ORTHANC_BINARY, [configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { child, dir };
  running.add(entry);
  installExitHook();
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + d.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: number | null | undefined;
  const exitedPromise = new Promise<void>((done) => child.on('exit', (code) => {
    exited = code;
    done();
  }));
  child.on('error', (e) => {
    log += `\nspawn error: ${e.message}`;
  });
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const authHeader: Record<string, string> = user === undefined
    ? {}
    : { Authorization: `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}` };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exitedPromise.then(() => true), sleep(5000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exitedPromise;
      }
    }
    running.delete(entry);
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(`Orthanc exited with code ${String(exited)} before answering on port ${httpPort}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    try {
      const res = await fetch(`${baseUrl}/system`, { headers: authHeader, signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc did not answer ${baseUrl}/system within ${options.startTimeoutMs ?? 30_000} ms: ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await sleep(100);
  }
  return {
    baseUrl,
    dicomWebUrl: `${baseUrl}/dicom-web`,
    httpPort,
    dicomPort,
    dir,
    user,
    logTail: () => log,
    stop,
  };
}
