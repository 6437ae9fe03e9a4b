/**
 * Runs the external DICOM validators on written objects: dicom3tools `dciodvfy` (IOD, modules, attributes) and
 * dcmtk `dsrdump` (reads an SR with dcmsr's checks). Each returns null when the tool is not installed, so a test can
 * skip with one clear line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'physis-pacs-'));
let n = 0;

function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** The tool's output lines, or null when the tool is absent. */
function run(tool: string, args: readonly string[], bytes: Uint8Array): { lines: string[]; status: number | null; file: string } | null {
  if (!has(tool)) return null;
  const file = join(dir, `object-${n++}.dcm`);
  writeFileSync(file, bytes);
  const r = spawnSync(tool, [...args, file], { encoding: 'utf8' });
  return { lines: `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim().length > 0), status: r.status, file };
}

/** `dciodvfy` error lines (each starts `Error`); null when dicom3tools is absent. @param bytes - a Part 10 file */
export function dciodvfyErrors(bytes: Uint8Array): { errors: string[]; all: string[] } | null {
  const r = run('dciodvfy', [], bytes);
  return r === null ? null : { errors: r.lines.filter((l) => /^Error/.test(l)), all: r.lines };
}

/** `dsrdump` output and its error lines (`E:`, or a non-zero exit); null when dcmtk is absent. @param bytes - an SR */
export function dsrdump(bytes: Uint8Array): { errors: string[]; text: string } | null {
  const r = run('dsrdump', ['+Pl'], bytes);
  if (r === null) return null;
  const errors = r.lines.filter((l) => /^(E|F):/.test(l));
  if (r.status !== 0) errors.push(`dsrdump exited ${String(r.status)}`);
  return { errors, text: r.lines.join('\n') };
}
