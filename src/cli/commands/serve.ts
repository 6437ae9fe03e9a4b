/**
 * `physis serve`: the HTTP API and the web viewer on one machine — the SQLite registry and the shipped models by
 * default, listening on localhost only — and `physis serve token add|list|revoke` for its bearer tokens. Thin: the
 * work is src/server/.
 *
 * @example
 * $ physis serve
 * physis serve: made the first admin token (shown once): phy_3k…
 * physis serve: listening on http://127.0.0.1:8080 (hand-bone-age; gate suitability-…; registry sqlite:physis-data/registry.db)
 * physis serve: viewer http://127.0.0.1:8080/#token=phy_3k…
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isRole, startServer, TokenStore, DEFAULT_SERVE_LIMITS } from '../../server/index.js';
import { intOption, stringOption, UsageError, type Command, type ParsedArgs } from '../command.js';
import type { Output } from '../output.js';
import { deidKey, defaultGateDir, packageRoot, plannedTasks } from '../task-args.js';

/** A flag's value, else the environment's (`PHYSIS_<NAME>`), else undefined. */
function setting(args: ParsedArgs, name: string): string | undefined {
  return stringOption(args, name) ?? process.env[`PHYSIS_${name.toUpperCase().replace(/-/g, '_')}`];
}

function intSetting(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = setting(args, name);
  if (raw === undefined) return fallback;
  return intOption({ values: { [name]: raw }, positionals: [] }, name, fallback, min, max);
}

async function tokenCommand(args: ParsedArgs, dataDir: string, out: Output): Promise<number> {
  const [, verb] = args.positionals;
  const tokens = new TokenStore(join(dataDir, 'tokens.json'));
  if (verb === 'add') {
    const name = stringOption(args, 'name', true);
    const role = stringOption(args, 'role', true);
    if (!isRole(role)) throw new UsageError(`--role must be read, review or admin, got '${role}'`);
    const token = tokens.add(name, role);
    out.result({ name, role, token }, `token ${name} (${role}), shown once: ${token}`);
    return Promise.resolve(0);
  }
  if (verb === 'list') {
    const list = tokens.list().map(({ sha256: _h, ...t }) => t);
    out.result({ tokens: list }, list.map((t) => `${t.name}\t${t.role}\t${t.createdAt}`).join('\n') || '(no tokens)');
    return Promise.resolve(0);
  }
  if (verb === 'revoke') {
    const name = stringOption(args, 'name', true);
    tokens.revoke(name);
    out.result({ revoked: name }, `token ${name} revoked`);
    return Promise.resolve(0);
  }
  throw new UsageError('physis serve token add --name N --role read|review|admin | token list | token revoke --name N');
}

/** The `physis serve` command (see the module comment for an example). */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the HTTP API and the web viewer (gate first; every analysis into the registry)',
  usage: [
    'usage: physis serve [--port 8080] [--host 127.0.0.1] [--registry URL] [--data-dir physis-data] [--tasks a,b] [--bundle task=dir]…',
    '                    [--gate dir] [--key-file F] [--workers 1] [--max-upload-mb 256] [--rate-limit 600] [--backend auto|onnx|torch]',
    '                    [--queue redis://host:6379 [--queue-name physis-ingest]]',
    '       physis serve token add --name N --role read|review|admin | token list | token revoke --name N   [--data-dir D]',
    '',
    'Serves every task with a shipped default model (or those named by --tasks / --bundle) behind the suitability gate.',
    'The data folder keeps the de-identified previews, heat maps and overlays, the tokens file (hashed tokens) and,',
    'unless --registry or --key-file say otherwise, the SQLite registry (registry.db) and the de-identification key',
    '(deid.key, made on first start). On its first start the server makes an admin token and prints it once with the',
    "viewer's address. Each flag may also be set as PHYSIS_<FLAG> (PHYSIS_PORT, PHYSIS_REGISTRY, PHYSIS_DATA_DIR, …).",
    'Listens on 127.0.0.1 only unless --host says otherwise (put a TLS proxy in front for anything beyond this machine).',
    'With --queue, GET /api/queue serves the ingestion work queue\'s counts and failures (as `physis queue status`).',
    'The API is documented at /openapi.json and in docs/server-api.md. Stop it with Ctrl-C (SIGINT) or SIGTERM.',
    '',
    'example:',
    '  $ physis serve --port 8080',
  ].join('\n'),
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    registry: { type: 'string' },
    'data-dir': { type: 'string' },
    tasks: { type: 'string' },
    bundle: { type: 'string', multiple: true },
    gate: { type: 'string' },
    'key-file': { type: 'string' },
    workers: { type: 'string' },
    'max-upload-mb': { type: 'string' },
    'rate-limit': { type: 'string' },
    backend: { type: 'string' },
    queue: { type: 'string' },
    'queue-name': { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const dataDir = resolve(setting(args, 'data-dir') ?? 'physis-data');
    if (args.positionals[0] === 'token') return tokenCommand(args, dataDir, out);
    if (args.positionals.length > 0) throw new UsageError(`physis serve takes no files (got '${args.positionals[0] ?? ''}'); did you mean 'physis serve token …'?`);
    const backend = setting(args, 'backend') ?? 'auto';
    if (backend !== 'auto' && backend !== 'onnx' && backend !== 'torch') throw new UsageError(`--backend must be auto, onnx or torch, got '${backend}'`);
    const gateDir = setting(args, 'gate') ?? defaultGateDir();
    if (!existsSync(gateDir)) throw new UsageError(`no suitability gate at ${gateDir}; give --gate DIR`);
    const registryUrl = setting(args, 'registry') ?? `sqlite:${join(dataDir, 'registry.db')}`;
    mkdirSync(dataDir, { recursive: true });
    const keyArgs: ParsedArgs = { values: { ...args.values, 'key-file': setting(args, 'key-file') ?? (process.env['PHYSIS_DEID_KEY'] === undefined ? join(dataDir, 'deid.key') : undefined) }, positionals: [] };
    const { key } = deidKey(keyArgs, (line) => out.warn(`physis serve: ${line}`));
    const tasks = plannedTasks({ values: { ...args.values, ...(setting(args, 'tasks') === undefined ? {} : { tasks: setting(args, 'tasks') }) }, positionals: [] });
    const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    const server = await startServer({
      ...DEFAULT_SERVE_LIMITS,
      host: setting(args, 'host') ?? DEFAULT_SERVE_LIMITS.host,
      port: intSetting(args, 'port', DEFAULT_SERVE_LIMITS.port, 0, 65535),
      registryUrl,
      dataDir,
      gateDir,
      tasks,
      key,
      workers: intSetting(args, 'workers', DEFAULT_SERVE_LIMITS.workers, 1, 64),
      backend,
      maxUploadBytes: intSetting(args, 'max-upload-mb', DEFAULT_SERVE_LIMITS.maxUploadBytes / 2 ** 20, 1, 2047) * 2 ** 20,
      rateLimitPerMinute: intSetting(args, 'rate-limit', DEFAULT_SERVE_LIMITS.rateLimitPerMinute, 1, 10_000_000),
      webDir: join(packageRoot(), 'web'),
      ...(setting(args, 'queue') === undefined ? {} : { queueUrl: setting(args, 'queue') }),
      ...(setting(args, 'queue-name') === undefined ? {} : { queueName: setting(args, 'queue-name') }),
      version,
      log: (line) => out.info(`physis serve: ${line}`),
    });
    if (server.firstAdminToken !== null) out.warn(`physis serve: made the first admin token (shown once; more with 'physis serve token add'): ${server.firstAdminToken}`);
    const served = server.context.tasks.map((t) => `${t.task.name} ${t.model.id}`).join(', ');
    out.result(
      { url: server.url, port: server.port, tasks: server.context.tasks.map((t) => ({ name: t.task.name, model: t.model })), gate: server.context.gate, registry: registryUrl.replace(/\/\/[^@/]*@/, '//***@') },
      `physis serve: listening on ${server.url} (${served}; gate ${server.context.gate.id}; registry ${registryUrl.replace(/\/\/[^@/]*@/, '//***@')})`,
    );
    out.warn(`physis serve: viewer ${server.url}/${server.firstAdminToken === null ? ' (paste a token)' : `#token=${server.firstAdminToken}`}`);
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        out.warn('physis serve: stopping');
        void server.close().then(done, done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
