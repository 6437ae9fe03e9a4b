#!/usr/bin/env node
// Enforces the layer order of ../shared/docs/STYLE.md ("Dependency direction"):
//  1. a src/<module> may import only the modules listed for it below (downward only);
//  2. an import that crosses into another src/<module> must go through that module's index.ts.
//  3. the generic layers (train, infer, eval, explain) never name a task, not even in a comment;
//  4. no comment in src/ cites an issue number.
// Exits non-zero with one line per violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const SRC = join(ROOT, 'src');

/** Which src modules each module may import from. */
const ALLOWED = {
  torch: [],
  radiograph: [],
  registry: [],
  preprocess: ['radiograph', 'torch'],
  models: ['torch'],
  eval: [],
  explain: ['torch', 'models', 'preprocess', 'radiograph'],
  infer: ['torch', 'models', 'preprocess', 'radiograph', 'explain'],
  train: ['torch', 'models', 'preprocess', 'radiograph', 'eval', 'explain', 'infer'],
  tasks: ['torch', 'models', 'preprocess', 'radiograph', 'eval', 'explain', 'infer', 'train', 'registry'],
  pacs: ['torch', 'models', 'preprocess', 'radiograph', 'eval', 'explain', 'infer', 'train', 'registry', 'tasks'],
  jobs: ['torch', 'models', 'preprocess', 'radiograph', 'eval', 'explain', 'infer', 'train', 'registry', 'tasks'],
  server: ['*'],
  cli: ['*'],
};
const TOP_ONLY = new Set(['server', 'cli']);
/**
 * The one edge between the top layers: `physis serve` starts the server through src/server/index.ts (as uvicorn's
 * command starts an app). The server never imports the CLI, and no command imports a route.
 */
const TOP_EDGES = new Set(['cli->server']);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/**
 * Generic layers never name a task: every folder under src/tasks/ is a task name, and so are the body parts and
 * measures of the published systems (a comment or string in a generic layer that names one means task logic or
 * task-specific reasoning leaked there; the reasoning belongs in the task's folder).
 */
const GENERIC = ['train', 'infer', 'eval', 'explain'];
const taskFolders = readdirSync(join(SRC, 'tasks')).filter((n) => statSync(join(SRC, 'tasks', n)).isDirectory());
const TASK_WORDS = [
  ...taskFolders.map((n) => new RegExp(n.replace(/[-]/g, '[- ]?'), 'i')),
  /bone[- ]?age/i,
  /\bhands?\b/i,
  /\bskulls?\b/i,
  /\bknees?\b/i,
  /\bspines?\b/i,
];
/** Comments cite the standard, paper or measurement, never an issue of this project (issues end; reasons stay). */
const ISSUE_CITATION = /\bissues?\s*#?\d+|\bissue's\b/i;

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
for (const file of walk(SRC)) {
  const rel = relative(SRC, file);
  const fromModule = rel.split(sep)[0];
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (!spec || !spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    const targetRel = relative(SRC, target);
    if (targetRel.startsWith('..')) {
      problems.push(`${relative(ROOT, file)}: imports '${spec}' from outside src/`);
      continue;
    }
    const toModule = targetRel.split(sep)[0];
    if (toModule === fromModule) continue;
    const allowed = ALLOWED[fromModule];
    if (!allowed) {
      problems.push(`${relative(ROOT, file)}: module '${fromModule}' has no entry in scripts/check-layers.mjs`);
      continue;
    }
    if (TOP_ONLY.has(toModule) && !TOP_EDGES.has(`${fromModule}->${toModule}`)) {
      problems.push(`${relative(ROOT, file)}: imports '${spec}', but nothing may import src/${toModule}`);
    } else if (!allowed.includes('*') && !allowed.includes(toModule)) {
      problems.push(`${relative(ROOT, file)}: '${fromModule}' may not import '${toModule}' (layers go downward only)`);
    }
    const inner = targetRel.split(sep).slice(1).join('/');
    if (inner !== 'index.js' && inner !== 'index.ts' && inner !== 'index' && inner !== '') {
      problems.push(`${relative(ROOT, file)}: imports '${spec}'; cross into src/${toModule} through its index.ts`);
    }
  }
}
for (const module of GENERIC) {
  for (const file of walk(join(SRC, module))) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = TASK_WORDS.map((w) => w.exec(line)).find((x) => x !== null);
        if (m) problems.push(`${relative(ROOT, file)}:${i + 1}: the generic layer src/${module} names a task ('${m[0]}')`);
      });
  }
}
for (const file of walk(SRC)) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const m = ISSUE_CITATION.exec(line);
      if (m) problems.push(`${relative(ROOT, file)}:${i + 1}: cites '${m[0]}'; cite the standard, paper or measurement instead`);
    });
}
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`check-layers: ${problems.length} violation(s)`);
  process.exit(1);
}
console.log('check-layers: ok');
