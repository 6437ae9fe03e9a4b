/**
 * Where a folder command writes its outputs: one path per input that never collides with another output and
 * never is an input, so `physis preview scans/ -o out/` cannot overwrite a film or write two films' previews to
 * one file. Names are deterministic (the same inputs in the same order give the same names), readable, and fit
 * the 255-byte name limit of ext4, APFS, NTFS and XFS.
 */
import { createHash } from 'node:crypto';
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, parse, resolve } from 'node:path';
import { OutputPathError } from './errors.js';

/** The longest file name, in UTF-8 bytes, that the common file systems accept (NAME_MAX on Linux). */
const MAX_NAME_BYTES = 255;

/** Hex characters of SHA-256 kept in a shortened name: 32 bits, enough to tell apart names that share a prefix. */
const HASH_CHARS = 8;

/** The realpath of `path`'s longest existing ancestor, joined with the rest (which does not exist yet). */
function canonicalPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync.native(absolute);
  } catch {
    // Not there (yet), or not readable: canonicalise the folder and keep the last component as written.
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(canonicalPath(parent), basename(absolute));
  }
}

/** `dev:ino` of an existing file (through symlinks), or null; bigint so that 64-bit inode numbers stay exact. */
function fileId(path: string): string | null {
  try {
    const s = statSync(path, { bigint: true, throwIfNoEntry: false });
    return s ? `${s.dev}:${s.ino}` : null;
  } catch {
    return null;
  }
}

/**
 * Whether two paths name the same file: the same device and inode when both exist (which also catches hard
 * links, symlinks and case-insensitive file systems such as APFS and NTFS), otherwise the same path after
 * `path.resolve` and `realpath` of the longest existing ancestor (so `out/../f.png` or a symlinked folder is
 * seen through). Why: a command must refuse to write its output over its input (`preview f.png -o f.png`).
 * @param a - a path, absolute or relative to the working directory
 * @param b - another path
 *
 * @example
 * isSameFile('films/a.png', './films/../films/a.png'); // -> true
 */
export function isSameFile(a: string, b: string): boolean {
  const idA = fileId(a);
  const idB = idA === null ? null : fileId(b);
  if (idA !== null && idB !== null) return idA === idB;
  return canonicalPath(a) === canonicalPath(b);
}

/**
 * How names are compared for collisions: Unicode NFC and lower case, because APFS, HFS+ and NTFS treat `X.png`
 * and `x.png` (and NFC/NFD spellings of `é`) as one file. Stricter than ext4 needs, never looser.
 */
function collisionKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** `name` cut to at most `maxBytes` UTF-8 bytes on a code-point boundary (never half a surrogate pair). */
function truncateUtf8(name: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** `head + suffix`, shortened to MAX_NAME_BYTES when needed as `<cut head>~<hash of the full name><suffix>`. */
function fitName(head: string, suffix: string): string {
  const name = `${head}${suffix}`;
  if (Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_CHARS);
  const budget = MAX_NAME_BYTES - Buffer.byteLength(suffix, 'utf8') - HASH_CHARS - 1;
  return `${truncateUtf8(head, budget)}~${hash}${suffix}`;
}

/** The parts of an input a name is built from; `.`/`..`/empty stand-ins would name the folder itself. */
interface NameParts {
  readonly stem: string;
  readonly ext: string;
  readonly parent: string;
}

function nameParts(input: string): NameParts {
  const absolute = resolve(input);
  const { name, ext } = parse(absolute);
  const stem = name === '' || name === '.' || name === '..' ? 'unnamed' : name;
  const parent = basename(dirname(absolute)) || 'root';
  return { stem, ext, parent };
}

/** The disambiguation ladder: stem; stem with its extension; parent folder too; then a counter. */
const COUNTER_LEVEL = 3;

function nameAt(parts: NameParts, level: number, suffix: string, counter = 0): string {
  const { stem, ext, parent } = parts;
  switch (level) {
    case 0:
      return fitName(stem, suffix);
    case 1:
      return fitName(`${stem}${ext}`, suffix);
    case 2:
      return fitName(`${parent}_${stem}${ext}`, suffix);
    default:
      return fitName(`${parent}_${stem}${ext}-${counter}`, suffix);
  }
}

/**
 * One output path per input, in input order: `<outDir>/<basename-without-ext><suffix>` when that name is
 * unique, otherwise, for every input sharing it, the next rung of a fixed ladder until it is unique: the
 * extension kept (`x.png<suffix>`), then the parent folder's name (`a_x.png<suffix>`), then a counter in input
 * order (`a_x.png-2<suffix>`). Names are compared case- and normalisation-insensitively (see `collisionKey`), a
 * name that would be (or already is, as a link) one of the inputs climbs the ladder too, and a name over 255
 * bytes keeps its start and the suffix around a short SHA-256 of the full name, so shortened names stay unique.
 * Why: two films called `x.png` in different folders must not write one preview, and `-o` pointing at the input
 * folder with a suffix equal to the extension must not overwrite the films.
 * @param inputs - the input files (paths as the user gave them)
 * @param outDir - the output folder (need not exist); outputs are `path.join(outDir, name)`
 * @param suffix - appended to every name, e.g. `.preview.png`; no path separators or NUL
 * @throws OutputPathError when the suffix cannot be part of a file name
 *
 * @example
 * planOutputPaths(['a/x.png', 'b/x.png', 'a/x.jpg', 'a/y.png'], 'out', '.preview.png');
 * // -> ['out/a_x.png.preview.png', 'out/b_x.png.preview.png', 'out/x.jpg.preview.png', 'out/y.preview.png']
 */
export function planOutputPaths(inputs: readonly string[], outDir: string, suffix: string): string[] {
  if (/[/\\\0]/.test(suffix)) {
    throw new OutputPathError(`suffix '${suffix}' must not contain a path separator or NUL`);
  }
  if (Buffer.byteLength(suffix, 'utf8') > MAX_NAME_BYTES - HASH_CHARS - 2) {
    throw new OutputPathError(
      `suffix of ${Buffer.byteLength(suffix, 'utf8')} bytes leaves no room for a name`,
    );
  }
  const parts = inputs.map(nameParts);
  const inputPaths = new Set(inputs.map((i) => collisionKey(canonicalPath(i))));
  const inputIds = new Set(inputs.map(fileId).filter((id): id is string => id !== null));
  const outDirCanonical = canonicalPath(outDir);
  const isAnInput = (name: string): boolean => {
    if (inputPaths.has(collisionKey(join(outDirCanonical, name)))) return true;
    const id = fileId(join(outDirCanonical, name));
    return id !== null && inputIds.has(id);
  };

  const levels = parts.map(() => 0);
  const names: string[] = parts.map((p) => nameAt(p, 0, suffix));
  // Climb every input whose name is shared or is an input; each pass moves at least one input up a rung, and
  // the rungs end at the counter, so this stops.
  for (;;) {
    const uses = new Map<string, number>();
    names.forEach((name, i) => {
      if ((levels[i] ?? 0) < COUNTER_LEVEL)
        uses.set(collisionKey(name), (uses.get(collisionKey(name)) ?? 0) + 1);
    });
    let climbed = false;
    parts.forEach((p, i) => {
      const level = levels[i] ?? 0;
      const name = names[i] ?? '';
      if (level >= COUNTER_LEVEL) return;
      if ((uses.get(collisionKey(name)) ?? 0) > 1 || isAnInput(name)) {
        levels[i] = level + 1;
        names[i] = nameAt(p, level + 1, suffix);
        climbed = true;
      }
    });
    if (!climbed) break;
  }
  // Counters last, in input order, skipping every name already given and every input.
  const taken = new Set(names.filter((_, i) => (levels[i] ?? 0) < COUNTER_LEVEL).map(collisionKey));
  parts.forEach((p, i) => {
    if ((levels[i] ?? 0) < COUNTER_LEVEL) return;
    let counter = 1;
    let name = nameAt(p, COUNTER_LEVEL, suffix, counter);
    while (taken.has(collisionKey(name)) || isAnInput(name))
      name = nameAt(p, COUNTER_LEVEL, suffix, ++counter);
    taken.add(collisionKey(name));
    names[i] = name;
  });
  return names.map((name) => join(outDir, name));
}
