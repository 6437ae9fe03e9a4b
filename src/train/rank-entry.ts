/**
 * The program of one launched rank (see launch.ts): imports the module named by PHYSIS_WORKER_MODULE and calls its
 * export PHYSIS_WORKER_EXPORT (default `main`) with the arguments in PHYSIS_WORKER_ARGV (JSON), setting the exit code
 * it returns.
 *
 * Why a file and not `node -e`: worker threads inherit their process's execArgv, and Node refuses to start a worker
 * whose execArgv holds `--input-type` (it applies to `-e` input only), so a rank started with `-e` could not start its
 * data-loader workers.
 */
const moduleUrl = process.env['PHYSIS_WORKER_MODULE'];
const argvJson = process.env['PHYSIS_WORKER_ARGV'];
if (moduleUrl === undefined || argvJson === undefined) {
  process.stderr.write('physis rank: PHYSIS_WORKER_MODULE and PHYSIS_WORKER_ARGV must be set (this file is started by the launcher)\n');
  process.exit(2);
}
const exportName = process.env['PHYSIS_WORKER_EXPORT'] ?? 'main';
const m = (await import(moduleUrl)) as Record<string, unknown>;
const entry = m[exportName];
if (typeof entry !== 'function') {
  process.stderr.write(`physis rank: ${moduleUrl} exports no function '${exportName}'\n`);
  process.exit(2);
}
const code: unknown = await (entry as (argv: unknown) => unknown)(JSON.parse(argvJson));
process.exitCode = typeof code === 'number' ? code : 0;
