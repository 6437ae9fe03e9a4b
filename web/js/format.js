/**
 * Turning a task's `answer` into what a reader sees, by the conventions the tasks' answers share (src/tasks/ingest.ts
 * `predictionFields`): an estimate with its 90% interval (`interval90`, or `interval90BySex` with one answer per sex
 * when the sex is unknown), or a class with `probabilities` / `classProbabilities`. Unknown fields are shown as they
 * are, so that a new task needs no change here.
 */

/**
 * A number for reading: at most `digits` decimals, no trailing zeros.
 * @param {number} x
 * @param {number} [digits]
 */
export function formatNumber(x, digits = 1) {
  if (!Number.isFinite(x)) return String(x);
  return String(Number(x.toFixed(digits)));
}

/**
 * An interval in any of the shapes the tasks use: `[low, high]`, `{lowMonths, highMonths}`, `{low, high}`.
 * @param {unknown} value
 * @returns {[number, number] | null}
 */
export function intervalOf(value) {
  if (Array.isArray(value) && value.length === 2) {
    const [low, high] = value;
    if (typeof low === 'number' && typeof high === 'number') return [low, high];
  }
  if (value !== null && typeof value === 'object') {
    const o = /** @type {Record<string, unknown>} */ (value);
    const low = o['lowMonths'] ?? o['low'] ?? o['lower'];
    const high = o['highMonths'] ?? o['high'] ?? o['upper'];
    if (typeof low === 'number' && typeof high === 'number') return [low, high];
  }
  return null;
}

/**
 * The class probabilities of an answer, most probable first: an object by class name or an array by class index.
 * @param {Record<string, unknown>} answer
 * @returns {[string, number][]}
 */
export function probabilitiesOf(answer) {
  const p = answer['probabilities'] ?? answer['classProbabilities'];
  /** @type {[string, number][]} */
  let entries = [];
  if (Array.isArray(p)) entries = p.map((v, k) => [String(k), Number(v)]);
  else if (p !== null && typeof p === 'object') entries = Object.entries(p).map(([k, v]) => [k, Number(v)]);
  return entries.filter(([, v]) => Number.isFinite(v)).sort((a, b) => b[1] - a[1]);
}

/** Fields shown elsewhere (the probability table) or too long for a line. */
const SHOWN_APART = new Set(['probabilities', 'classProbabilities']);

/**
 * The answer's fields as label/value lines: intervals as `low–high`, per-sex objects as `M: …, F: …`.
 * @param {Record<string, unknown>} answer
 * @returns {[string, string][]}
 */
export function answerLines(answer) {
  /** @type {[string, string][]} */
  const lines = [];
  for (const [key, value] of Object.entries(answer)) {
    if (SHOWN_APART.has(key) || value === undefined) continue;
    lines.push([readableKey(key), formatValue(key, value)]);
  }
  return lines;
}

/**
 * @param {string} key
 * @param {unknown} value
 * @returns {string}
 */
function formatValue(key, value) {
  if (value === null) return '—';
  if (typeof value === 'number') return formatNumber(value, /probab|confidence|^p$/i.test(key) ? 3 : 1);
  if (typeof value !== 'object') return String(value);
  const interval = intervalOf(value);
  if (interval !== null) return `${interval[0].toFixed(1)}–${interval[1].toFixed(1)}`;
  if (Array.isArray(value)) return value.map((v) => formatValue(key, v)).join(', ');
  return Object.entries(/** @type {Record<string, unknown>} */ (value))
    .map(([k, v]) => `${k}: ${formatValue(key, v)}`)
    .join(', ');
}

/**
 * `boneAgeMonths` and `age-months` → `… (months)`, `interval90BySex` → `90% interval by sex`.
 * @param {string} key
 */
export function readableKey(key) {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]+/g, ' ')
    .toLowerCase()
    .replace(/^interval(\d+)/, '$1% interval');
  return / months\b/.test(words) ? `${words.replace(/ months\b/, '')} (months)` : words;
}

/**
 * The first 12 hex digits of a hash, as the CLI shows them.
 * @param {string | null | undefined} sha256
 */
export function shortHash(sha256) {
  return typeof sha256 === 'string' && sha256 !== '' ? sha256.slice(0, 12) : 'no hash';
}

/**
 * The gate's verdict as short phrases (`anatomy hand 99.6%`) from `{group: {value, p}}`.
 * @param {unknown} verdict
 * @returns {string[]}
 */
export function verdictPhrases(verdict) {
  if (verdict === null || typeof verdict !== 'object') return [];
  /** @type {string[]} */
  const out = [];
  for (const [group, answer] of Object.entries(/** @type {Record<string, unknown>} */ (verdict))) {
    if (answer === null || typeof answer !== 'object') continue;
    const a = /** @type {Record<string, unknown>} */ (answer);
    if ('value' in a) {
      out.push(
        `${group} ${String(a['value'])}${typeof a['p'] === 'number' ? ` ${formatNumber(a['p'] * 100)}%` : ''}`,
      );
    } else if (typeof a['distance'] === 'number') {
      const unfamiliar = a['unfamiliar'] === true ? 'unfamiliar' : 'familiar';
      out.push(
        `${group} ${unfamiliar} (distance ${formatNumber(a['distance'])}${typeof a['threshold'] === 'number' ? ` of ${formatNumber(a['threshold'])}` : ''})`,
      );
    }
  }
  return out;
}
