/**
 * The answer panel: one card per task result of an Analysis (docs/server-api.md): its outcome, summary, the interval
 * or class probabilities, the gate's verdict, warnings, a refusal's reason, the model and weights hash, the review
 * state with the latest review, and the accept / correct / reject controls.
 */
import { h } from './dom.js';
import { answerLines, formatNumber, probabilitiesOf, shortHash, verdictPhrases } from './format.js';

/**
 * @typedef {object} ModelRef
 * @property {string} id
 * @property {string} [weightsSha256]
 */

/**
 * @typedef {object} Review
 * @property {'accept' | 'correct' | 'reject'} verdict
 * @property {string} [reviewer]
 * @property {string | null} [label]
 * @property {string | null} [note]
 * @property {string} [reviewedAt]
 * @property {string} [createdAt]
 */

/**
 * @typedef {object} Result
 * @property {string} task
 * @property {'answered' | 'refused' | 'error'} outcome
 * @property {string} [summary]
 * @property {Record<string, unknown> | null} [answer]
 * @property {string | null} [label]
 * @property {number | null} [confidence]
 * @property {string} [reason]
 * @property {boolean} [byGate]
 * @property {ModelRef | null} [model]
 * @property {{ passed: boolean, model?: ModelRef, verdict?: unknown, reason?: string } | null} [gate]
 * @property {string[]} [warnings]
 * @property {string | null} [heatmapUrl]
 * @property {string} [heatmapMethod] - how the heat map was made, in words (e.g. `HiResCAM of the bone age on the 16×16 feature map`)
 * @property {string} [imageUrl] - the film as this task analysed it (after the gate's corrections)
 * @property {string | null} [overlayUrl]
 * @property {string} [reviewState]
 * @property {Review | null} [review]
 */

/**
 * @typedef {object} ImageRef
 * @property {string} url
 * @property {number} rows
 * @property {number} columns
 * @property {number} windowCenter
 * @property {number} windowWidth
 */

/**
 * @typedef {object} Analysis
 * @property {number} instanceId
 * @property {number} [fileId]
 * @property {string} status
 * @property {Record<string, unknown>} [instance]
 * @property {ImageRef} [image] - absent when the server keeps no image of the film
 * @property {Result[]} results
 */

/**
 * @typedef {object} ReviewRequest
 * @property {string} task
 * @property {'accept' | 'correct' | 'reject'} verdict
 * @property {string} [label]
 * @property {string} [note]
 */

/** The instance fields shown: acquisition facts only, never an identifier. */
const INSTANCE_FIELDS = /** @type {const} */ ([
  ['modality', 'modality'],
  ['bodyPart', 'body part'],
  ['view', 'view'],
  ['laterality', 'laterality'],
  ['sex', 'sex'],
  ['ageMonths', 'age (months)'],
]);

/**
 * The film's facts line: instance id, status and the acquisition fields the API gives.
 * @param {Analysis} analysis
 */
export function renderInstanceFacts(analysis) {
  const inst = analysis.instance ?? {};
  const facts = INSTANCE_FIELDS.flatMap(([key, name]) => {
    const v = inst[key];
    return v === null || v === undefined || v === ''
      ? []
      : [`${name} ${typeof v === 'number' ? formatNumber(v) : String(v)}`];
  });
  return h(
    'p',
    { className: 'facts', 'data-testid': 'instance-facts' },
    h('strong', {}, `Instance ${analysis.instanceId}`),
    ` · ${analysis.status}`,
    analysis.status === 'duplicate'
      ? ' (these bytes were analysed before: the stored results, no model ran again)'
      : '',
    facts.length === 0 ? '' : ` · ${facts.join(' · ')}`,
  );
}

/**
 * One card per result.
 * @param {Analysis} analysis
 * @param {(request: ReviewRequest) => Promise<void>} onReview - posts the review; the panel is redrawn after it
 * @returns {HTMLElement[]}
 */
export function renderResults(analysis, onReview) {
  if (analysis.results.length === 0) {
    return [h('p', { className: 'muted', 'data-testid': 'no-results' }, 'No task answered this film.')];
  }
  return analysis.results.map((r) => renderResult(r, onReview));
}

/**
 * @param {Result} r
 * @param {(request: ReviewRequest) => Promise<void>} onReview
 */
function renderResult(r, onReview) {
  const answer = r.answer ?? null;
  const probabilities = answer === null ? [] : probabilitiesOf(answer);
  return h(
    'article',
    { className: `result ${r.outcome}`, 'data-testid': `result-${r.task}`, 'aria-label': `${r.task} result` },
    h(
      'header',
      {},
      h('h3', {}, r.task),
      h('span', { className: `badge ${r.outcome}`, 'data-testid': `outcome-${r.task}` }, r.outcome),
    ),
    // a refusal's summary repeats its reason, which is shown below in words
    r.summary && (r.outcome === 'answered' || !r.reason)
      ? h('p', { className: 'summary', 'data-testid': `summary-${r.task}` }, r.summary)
      : null,
    r.outcome !== 'answered' && r.reason
      ? h(
          'p',
          { className: 'reason', 'data-testid': `reason-${r.task}` },
          r.outcome === 'refused'
            ? r.byGate
              ? 'Refused by the suitability gate: '
              : 'Refused: '
            : 'Error: ',
          r.reason,
        )
      : null,
    answer === null ? null : renderAnswer(r.task, answer, probabilities),
    r.warnings && r.warnings.length > 0
      ? h(
          'ul',
          { className: 'warnings', 'data-testid': `warnings-${r.task}`, 'aria-label': 'warnings' },
          r.warnings.map((w) => h('li', {}, `⚠ ${w}`)),
        )
      : null,
    renderProvenance(r),
    renderReview(r, onReview),
  );
}

/**
 * The answer's fields and, for a class answer, its probabilities as bars.
 * @param {string} task
 * @param {Record<string, unknown>} answer
 * @param {[string, number][]} probabilities
 */
function renderAnswer(task, answer, probabilities) {
  const lines = answerLines(answer);
  return h(
    'div',
    { className: 'answer', 'data-testid': `answer-${task}` },
    lines.length === 0
      ? null
      : h(
          'dl',
          {},
          lines.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
    probabilities.length === 0
      ? null
      : h(
          'table',
          { className: 'probabilities', 'data-testid': `probabilities-${task}` },
          h('caption', {}, 'Class probabilities'),
          h(
            'tbody',
            {},
            probabilities
              .slice(0, 12)
              .map(([name, p]) =>
                h(
                  'tr',
                  {},
                  h('th', { scope: 'row' }, name),
                  h('td', {}, h('meter', { min: 0, max: 1, value: p }, formatNumber(p, 3))),
                  h('td', { className: 'num' }, `${formatNumber(p * 100)}%`),
                ),
              ),
          ),
        ),
  );
}

/**
 * The model and the gate, each with its short weights hash (the full hash on hover).
 * @param {Result} r
 */
function renderProvenance(r) {
  const gate = r.gate ?? null;
  const phrases = gate === null ? [] : verdictPhrases(gate.verdict);
  return h(
    'div',
    { className: 'provenance' },
    h(
      'p',
      { 'data-testid': `model-${r.task}` },
      'Model ',
      r.model
        ? h(
            'code',
            { title: r.model.weightsSha256 ?? '' },
            `${r.model.id} · ${shortHash(r.model.weightsSha256)}`,
          )
        : 'none ran',
    ),
    h(
      'p',
      { 'data-testid': `gate-${r.task}` },
      'Gate ',
      gate === null
        ? 'not run (this result says so: no suitability check)'
        : [
            h(
              'span',
              { className: `badge ${gate.passed ? 'answered' : 'refused'}` },
              gate.passed ? 'passed' : 'refused',
            ),
            ' ',
            gate.model
              ? h(
                  'code',
                  { title: gate.model.weightsSha256 ?? '' },
                  `${gate.model.id} · ${shortHash(gate.model.weightsSha256)}`,
                )
              : null,
            gate.reason ? ` — ${gate.reason}` : null,
          ],
    ),
    phrases.length === 0
      ? null
      : h(
          'details',
          {},
          h('summary', {}, "Gate's verdict"),
          h(
            'ul',
            {},
            phrases.map((p) => h('li', {}, p)),
          ),
        ),
  );
}

/** The state a verdict leads to. */
const STATE_OF_VERDICT = Object.freeze({ accept: 'accepted', correct: 'corrected', reject: 'rejected' });

/**
 * The review state, the latest review and the three review controls (answered results only: a refused film has
 * nothing to accept).
 * @param {Result} r
 * @param {(request: ReviewRequest) => Promise<void>} onReview
 */
function renderReview(r, onReview) {
  const state = r.reviewState ?? (r.review ? STATE_OF_VERDICT[r.review.verdict] : 'unreviewed');
  const review = r.review ?? null;
  const when = review?.reviewedAt ?? review?.createdAt;
  const status = h(
    'p',
    { className: 'review-state', 'data-testid': `review-state-${r.task}`, 'aria-live': 'polite' },
    'Review: ',
    h('strong', { className: `state ${state}` }, state),
    review === null
      ? null
      : [
          review.reviewer ? ` by ${review.reviewer}` : '',
          when ? ` at ${new Date(when).toLocaleString()}` : '',
          review.label ? ` · label ${review.label}` : '',
          review.note ? ` · note “${review.note}”` : '',
        ],
  );
  if (r.outcome !== 'answered') return h('div', { className: 'review' }, status);

  const id = (/** @type {string} */ name) => `${name}-${r.task}`;
  const labelInput = h('input', {
    id: id('review-label'),
    'data-testid': id('review-label'),
    type: 'text',
    placeholder: r.label ?? '',
    autocomplete: 'off',
  });
  const noteInput = h('input', {
    id: id('review-note'),
    'data-testid': id('review-note'),
    type: 'text',
    autocomplete: 'off',
  });
  /** @type {HTMLButtonElement[]} */
  const buttons = [];
  const send = async (/** @type {ReviewRequest} */ request) => {
    for (const b of buttons) b.disabled = true;
    try {
      await onReview(request);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };
  const accept = h(
    'button',
    {
      type: 'button',
      'data-testid': id('review-accept'),
      onclick: () => send({ task: r.task, verdict: 'accept' }),
    },
    'Accept',
  );
  const correct = h(
    'button',
    {
      type: 'button',
      'data-testid': id('review-correct'),
      onclick: () => {
        const label = labelInput.value.trim();
        if (label === '') {
          labelInput.setCustomValidity('A correction needs the right label.');
          labelInput.reportValidity();
          return;
        }
        labelInput.setCustomValidity('');
        return send({ task: r.task, verdict: 'correct', label });
      },
    },
    'Correct',
  );
  labelInput.addEventListener('input', () => labelInput.setCustomValidity(''));
  const reject = h(
    'button',
    {
      type: 'button',
      'data-testid': id('review-reject'),
      onclick: () => {
        const note = noteInput.value.trim();
        return send({ task: r.task, verdict: 'reject', ...(note === '' ? {} : { note }) });
      },
    },
    'Reject',
  );
  buttons.push(accept, correct, reject);
  return h(
    'div',
    { className: 'review' },
    status,
    h(
      'fieldset',
      { className: 'review-controls' },
      h('legend', {}, `Review ${r.task}`),
      h('div', { className: 'row' }, accept),
      h(
        'div',
        { className: 'row' },
        h('label', { for: id('review-label') }, 'Right label'),
        labelInput,
        correct,
      ),
      h('div', { className: 'row' }, h('label', { for: id('review-note') }, 'Note'), noteInput, reject),
    ),
  );
}
