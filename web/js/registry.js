/**
 * The registry list: `GET /api/instances` with its filters, one row per stored film, a page at a time. A row (or its
 * button, for the keyboard) opens that analysis.
 */
import { h } from './dom.js';
import { formatNumber } from './format.js';

/**
 * @typedef {object} RowResult
 * @property {string} task
 * @property {string | null} label
 * @property {number | null} confidence
 * @property {string} reviewState
 * @property {string} [modelId]
 */

/**
 * @typedef {object} RegistryRow
 * @property {number | null} instanceId - null for a quarantined file (nothing of it is stored but its reason)
 * @property {number} [fileId]
 * @property {string} status
 * @property {string} [reason] - why a file was quarantined
 * @property {string} [recordedAt]
 * @property {string | null} [modality]
 * @property {string | null} [bodyPart]
 * @property {string | null} [sex]
 * @property {number | null} [ageMonths]
 * @property {RowResult[]} results
 */

/**
 * The query string of the filter form: only the fields given, with the API's names.
 * @param {HTMLFormElement} form - fields named task, status, reviewState, confidenceBelow
 * @param {number} limit
 * @param {number} offset
 */
export function registryQuery(form, limit, offset) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === 'string' && value.trim() !== '') params.set(name, value.trim());
  }
  params.set('limit', String(limit));
  params.set('offset', String(offset));
  return params.toString();
}

/**
 * The table body's rows.
 * @param {RegistryRow[]} rows
 * @param {(instanceId: number) => void} open
 * @returns {HTMLTableRowElement[]}
 */
export function renderRegistryRows(rows, open) {
  if (rows.length === 0) {
    return [
      h(
        'tr',
        {},
        h(
          'td',
          { colspan: 6, className: 'muted', 'data-testid': 'registry-empty' },
          'No stored film matches these filters.',
        ),
      ),
    ];
  }
  return rows.map((row) => {
    const id = row.instanceId;
    if (id === null || id === undefined) {
      return h(
        'tr',
        { 'data-testid': 'registry-row', 'data-file-id': row.fileId },
        h('td', { className: 'muted' }, `file ${row.fileId ?? '?'}`),
        h('td', {}, row.recordedAt ? new Date(row.recordedAt).toLocaleString() : '—'),
        h('td', {}, row.status),
        h('td', { colspan: 3 }, row.reason ?? '—'),
      );
    }
    return h(
      'tr',
      {
        'data-testid': 'registry-row',
        'data-instance-id': id,
        onclick: () => open(id),
        className: 'clickable',
      },
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            className: 'link',
            'data-testid': `open-instance-${id}`,
            'aria-label': `Open instance ${id}`,
            onclick: (/** @type {Event} */ e) => {
              e.stopPropagation();
              open(id);
            },
          },
          `#${id}`,
        ),
      ),
      h('td', {}, row.recordedAt ? new Date(row.recordedAt).toLocaleString() : '—'),
      h('td', {}, row.status),
      h('td', {}, [row.modality, row.bodyPart].filter((x) => x).join(' ') || '—'),
      h(
        'td',
        {},
        [
          row.sex,
          row.ageMonths === null || row.ageMonths === undefined ? null : `${formatNumber(row.ageMonths)} mo`,
        ]
          .filter((x) => x)
          .join(', ') || '—',
      ),
      h(
        'td',
        {},
        row.results.length === 0
          ? '—'
          : h(
              'ul',
              { className: 'compact' },
              row.results.map((r) =>
                h(
                  'li',
                  {},
                  h('span', { className: 'task' }, r.task),
                  ` ${r.label ?? '—'}`,
                  r.confidence === null || r.confidence === undefined
                    ? ''
                    : ` (${formatNumber(r.confidence * 100)}%)`,
                  ' · ',
                  h('span', { className: `state ${r.reviewState}` }, r.reviewState),
                ),
              ),
            ),
      ),
    );
  });
}
