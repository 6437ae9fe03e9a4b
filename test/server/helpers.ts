/**
 * A real server on a free loopback port over the shipped models, a fresh data folder and a SQLite registry: what the
 * server tests, the viewer's browser test and the serve benchmark start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_SERVE_LIMITS, startServer, type RunningServer, type ServeOptions } from '../../src/server/index.js';
import { getTask } from '../../src/tasks/index.js';

/** A started test server, its admin token, and a cleanup that stops it and removes its folder. */
export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly adminToken: string;
  readonly dataDir: string;
  readonly logLines: string[];
  stop(): Promise<void>;
}

/**
 * Start a server with the shipped hand model and gate.
 * @param o - options that differ from the defaults (port 0, one worker)
 */
export async function startTestServer(o: Partial<ServeOptions> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'physis-serve-'));
  const logLines: string[] = [];
  const server = await startServer({
    ...DEFAULT_SERVE_LIMITS,
    port: 0,
    registryUrl: `sqlite:${join(dataDir, 'registry.db')}`,
    dataDir,
    gateDir: resolve('models/suitability'),
    tasks: [{ task: getTask('hand-bone-age'), dir: resolve('models/hand-bone-age') }],
    key: 'server-test-key-0123456789abcdef',
    webDir: resolve('web'),
    version: 'test',
    log: (line) => logLines.push(line),
    ...o,
  });
  if (server.firstAdminToken === null) throw new Error('a fresh data folder makes an admin token');
  return {
    server,
    url: server.url,
    adminToken: server.firstAdminToken,
    dataDir,
    logLines,
    async stop() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
