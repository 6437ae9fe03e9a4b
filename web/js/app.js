/**
 * The Physis viewer: wires the page (index.html) to the HTTP API of `physis serve` (docs/server-api.md). A reader
 * gives the token (from `#token=…` or the field), drops a film, and sees the answer with its heat map on the film;
 * a reviewer accepts, corrects or rejects it; the registry list reopens any stored analysis. Every API failure is
 * shown as one line in the error bar.
 */
import {
  ApiError,
  apiFetch,
  filmContentType,
  getJson,
  loadToken,
  postJson,
  saveToken,
  setToken,
  takeTokenFromLocation,
} from './api.js';
import { renderInstanceFacts, renderResults } from './answer.js';
import { byId, h, replaceChildren } from './dom.js';
import { readableKey } from './format.js';
import { registryQuery, renderRegistryRows } from './registry.js';
import { FilmViewport, decodeFilm } from './viewport.js';

/** @typedef {import('./answer.js').Analysis} Analysis */
/** @typedef {import('./answer.js').ReviewRequest} ReviewRequest */
/** @typedef {import('./registry.js').RegistryRow} RegistryRow */

/**
 * @typedef {object} TaskInput
 * @property {string} name
 * @property {string} [flag] - the query parameter's name (the server's `name` when absent)
 * @property {string} [description]
 * @property {string[]} [values]
 */

/**
 * @typedef {object} TaskInfo
 * @property {string} name
 * @property {string} [description]
 * @property {{ id: string, weightsSha256?: string }} [model]
 * @property {TaskInput[]} [inputs]
 */

/** Registry rows per page. */
const PAGE_SIZE = 25;

const el = {
  tokenForm: byId('token-form', HTMLFormElement),
  token: byId('token', HTMLInputElement),
  tokenForget: byId('token-forget', HTMLButtonElement),
  error: byId('error', HTMLParagraphElement),
  status: byId('status', HTMLParagraphElement),
  uploadForm: byId('upload-form', HTMLFormElement),
  dropZone: byId('drop-zone', HTMLDivElement),
  film: byId('film', HTMLInputElement),
  filmName: byId('film-name', HTMLParagraphElement),
  task: byId('task', HTMLSelectElement),
  inputs: byId('inputs', HTMLDivElement),
  analyse: byId('analyse', HTMLButtonElement),
  facts: byId('facts', HTMLDivElement),
  canvas: byId('film-canvas', HTMLCanvasElement),
  windowCenter: byId('window-center', HTMLInputElement),
  windowWidth: byId('window-width', HTMLInputElement),
  windowReset: byId('window-reset', HTMLButtonElement),
  zoomIn: byId('zoom-in', HTMLButtonElement),
  zoomOut: byId('zoom-out', HTMLButtonElement),
  zoomFit: byId('zoom-fit', HTMLButtonElement),
  heatmapTask: byId('heatmap-task', HTMLSelectElement),
  heatmapMethod: byId('heatmap-method', HTMLParagraphElement),
  opacity: byId('opacity', HTMLInputElement),
  opacityValue: byId('opacity-value', HTMLOutputElement),
  results: byId('results', HTMLDivElement),
  registryForm: byId('registry-form', HTMLFormElement),
  filterTask: byId('filter-task', HTMLSelectElement),
  registryRows: byId('registry-rows', HTMLTableSectionElement),
  pagePrev: byId('page-prev', HTMLButtonElement),
  pageNext: byId('page-next', HTMLButtonElement),
  pageInfo: byId('page-info', HTMLSpanElement),
};

const viewport = new FilmViewport(el.canvas, {
  onWindowChange: (center, width) => {
    el.windowCenter.value = String(center);
    el.windowWidth.value = String(width);
  },
});

/** @type {TaskInfo[]} */
let tasks = [];
/** @type {Analysis | null} */
let analysis = null;
/** The address of the film on the canvas, so that switching heat maps reloads it only when the grid differs. */
let shownFilmUrl = '';
/** @type {File | null} */
let chosenFilm = null;
let registryOffset = 0;
/** Bumped whenever another analysis is shown, so that a slower earlier load does not draw over it. */
let showSeq = 0;
/** @type {Map<string, ImageBitmap>} */
const heatmapCache = new Map();

// ---- messages ----

/**
 * Show an error as one line (never a silent failure).
 * @param {unknown} e
 */
function showError(e) {
  const line = e instanceof ApiError ? e.line : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  el.error.textContent = line;
  el.error.hidden = false;
  setStatus('');
  if (e instanceof ApiError && e.status === 401) el.token.focus();
}

function clearError() {
  el.error.hidden = true;
  el.error.textContent = '';
}

/** @param {string} text */
function setStatus(text) {
  el.status.textContent = text;
}

/**
 * Run a user action: clear the last error, show any new one.
 * @param {() => Promise<void>} action
 */
async function guarded(action) {
  clearError();
  try {
    await action();
  } catch (e) {
    showError(e);
  }
}

// ---- token ----

/** @param {string} token */
function useToken(token) {
  setToken(token);
  saveToken(token);
  el.token.value = token;
}

el.tokenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  useToken(el.token.value.trim());
  void guarded(async () => {
    await loadTasks();
    await loadRegistry();
    setStatus('Token accepted.');
  });
});

el.tokenForget.addEventListener('click', () => {
  useToken('');
  setStatus('Token forgotten on this browser.');
});

// ---- tasks and inputs ----

/** Fill the task choices and the input fields from `GET /api/tasks`. */
async function loadTasks() {
  tasks = /** @type {{ tasks: TaskInfo[] }} */ (await getJson('/api/tasks')).tasks;
  for (const select of [el.task, el.filterTask]) {
    const keep = select.value;
    const first = select.options[0];
    select.replaceChildren(...(first ? [first] : []));
    for (const t of tasks) {
      select.append(
        h(
          'option',
          { value: t.name, title: t.description ?? '' },
          t.model ? `${t.name} (${t.model.id})` : t.name,
        ),
      );
    }
    select.value = tasks.some((t) => t.name === keep) ? keep : '';
  }
  renderInputs();
}

/**
 * The query parameter of an input: its flag without dashes (`--age-months` → `age-months`), else its name.
 * @param {TaskInput} input
 */
function inputKey(input) {
  return (input.flag ?? input.name).replace(/^-+/, '');
}

/**
 * One field per input of the chosen task (of every task when the gate routes), values kept across redraws. Only
 * these are sent: the server refuses an input that none of the requested tasks takes.
 */
function renderInputs() {
  const chosen = tasks.filter((t) => el.task.value === '' || t.name === el.task.value);
  /** @type {Map<string, TaskInput>} */
  const byKey = new Map();
  for (const input of chosen.flatMap((t) => t.inputs ?? []))
    if (!byKey.has(inputKey(input))) byKey.set(inputKey(input), input);
  const kept = new Map(
    [...el.inputs.querySelectorAll('input, select')].map((n) => [
      n.getAttribute('name'),
      /** @type {HTMLInputElement} */ (n).value,
    ]),
  );
  replaceChildren(
    el.inputs,
    [...byKey.entries()].map(([key, input]) => {
      const id = `input-${key}`;
      const label = h('label', { for: id, title: input.description ?? '' }, readableKey(input.name));
      const field =
        input.values && input.values.length > 0
          ? h(
              'select',
              { id, name: key, 'data-testid': id },
              h('option', { value: '' }, 'unknown'),
              input.values.map((v) => h('option', { value: v }, v)),
            )
          : h('input', {
              id,
              name: key,
              'data-testid': id,
              type: /age|months|mm|days/i.test(key) ? 'number' : 'text',
              min: 0,
              step: 'any',
            });
      field.value = kept.get(key) ?? '';
      const hint = input.description ? h('small', { className: 'muted' }, input.description) : null;
      return h('div', { className: 'field' }, label, field, hint);
    }),
  );
}

el.task.addEventListener('change', renderInputs);

// ---- upload ----

/** @param {File | null} file */
function chooseFilm(file) {
  chosenFilm = file;
  el.filmName.textContent =
    file === null ? 'No film chosen.' : `${file.name} (${Math.round(file.size / 1024)} KiB)`;
  el.analyse.disabled = file === null;
}

el.film.addEventListener('change', () => chooseFilm(el.film.files?.[0] ?? null));
for (const type of ['dragenter', 'dragover']) {
  el.dropZone.addEventListener(type, (e) => {
    e.preventDefault();
    el.dropZone.classList.add('over');
  });
}
el.dropZone.addEventListener('dragleave', () => el.dropZone.classList.remove('over'));
el.dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  el.dropZone.classList.remove('over');
  const file = /** @type {DragEvent} */ (e).dataTransfer?.files[0];
  if (file !== undefined) chooseFilm(file);
});

el.uploadForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const film = chosenFilm;
  if (film === null) return;
  void guarded(async () => {
    const params = new URLSearchParams();
    if (el.task.value !== '') params.set('task', el.task.value);
    for (const field of el.inputs.querySelectorAll('input, select')) {
      const f = /** @type {HTMLInputElement} */ (field);
      if (f.value.trim() !== '') params.set(f.name, f.value.trim());
    }
    el.analyse.disabled = true;
    setStatus(`Analysing ${film.name}…`);
    try {
      const response = await apiFetch(`/api/analyses${params.toString() === '' ? '' : `?${params}`}`, {
        method: 'POST',
        headers: { 'Content-Type': filmContentType(film), Accept: 'application/json' },
        body: film,
      });
      const result = /** @type {Analysis} */ (await response.json());
      await showAnalysis(result);
      setStatus(`Analysed ${film.name}: instance ${result.instanceId}.`);
    } finally {
      el.analyse.disabled = chosenFilm === null;
    }
    await loadRegistry();
  });
});

// ---- the analysis ----

/**
 * Show an analysis: its facts and results, its film, its heat map.
 * @param {Analysis} next
 */
async function showAnalysis(next) {
  const seq = ++showSeq;
  analysis = next;
  renderAnalysisText(next);
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  hash.set('instance', String(next.instanceId));
  history.replaceState(null, '', `#${hash}`);

  const withHeatmap = next.results.filter((r) => typeof r.heatmapUrl === 'string' && r.heatmapUrl !== '');
  el.heatmapTask.replaceChildren(
    h('option', { value: '' }, 'none'),
    ...withHeatmap.map((r) => h('option', { value: r.task }, r.task)),
  );
  el.heatmapTask.value = withHeatmap[0]?.task ?? '';
  shownFilmUrl = '';
  viewport.clear();
  await showFilmAndHeatmap(seq);
}

/**
 * The facts and result cards of the current analysis.
 * @param {Analysis} shown
 */
function renderAnalysisText(shown) {
  replaceChildren(el.facts, renderInstanceFacts(shown));
  replaceChildren(el.results, renderResults(shown, postReview));
}

/**
 * The film a result's heat map lies on: the result's own image (`imageUrl`, the film as that task analysed it) on
 * the analysis' grid, else the analysis' image.
 * @param {Analysis} shown
 * @param {import('./answer.js').Result | undefined} result
 * @returns {import('./answer.js').ImageRef | null}
 */
function filmFor(shown, result) {
  const base = shown.image ?? null;
  if (base !== null && typeof result?.imageUrl === 'string' && result.imageUrl !== '')
    return { ...base, url: result.imageUrl };
  return base;
}

/**
 * The film's pixels.
 * @param {import('./answer.js').ImageRef} image
 */
async function fetchFilm(image) {
  const response = await apiFetch(image.url);
  return decodeFilm(await response.arrayBuffer(), image.rows, image.columns);
}

/**
 * Draw the film of the chosen heat map's task (fetched only when it is another film than the one shown), then the
 * heat map (fetched once per address).
 * @param {number} seq - the showAnalysis call this belongs to
 */
async function showFilmAndHeatmap(seq) {
  const shown = analysis;
  if (shown === null) return;
  const result = shown.results.find((r) => r.task === el.heatmapTask.value);
  let image = filmFor(shown, result);
  if (image === null) {
    viewport.clear();
    setStatus(`The server keeps no image of instance ${shown.instanceId}.`);
    return;
  }
  if (image.url !== shownFilmUrl) {
    let pixels;
    try {
      pixels = await fetchFilm(image);
    } catch (e) {
      // a task's own film on another grid than the analysis' image (the size is given for the latter only): show
      // the analysis' image; the heat map is scaled onto it
      if (shown.image === undefined || image.url === shown.image.url) throw e;
      image = shown.image;
      pixels = await fetchFilm(image);
    }
    if (seq !== showSeq) return;
    viewport.setFilm({
      pixels,
      rows: image.rows,
      columns: image.columns,
      windowCenter: image.windowCenter,
      windowWidth: image.windowWidth,
    });
    shownFilmUrl = image.url;
  }
  const url = result?.heatmapUrl ?? null;
  // what the colours mean: the method, the output explained and the feature map, as the server recorded them
  el.heatmapMethod.textContent = url === null || url === '' ? '' : (result?.heatmapMethod ?? '');
  if (url === null || url === '') {
    viewport.setHeatmap(null);
    return;
  }
  let bitmap = heatmapCache.get(url);
  if (bitmap === undefined) {
    const response = await apiFetch(url);
    bitmap = await createImageBitmap(await response.blob());
    heatmapCache.set(url, bitmap);
  }
  if (seq === showSeq) viewport.setHeatmap(bitmap);
}

/**
 * Open a stored analysis by its instance id.
 * @param {number} instanceId
 */
function openInstance(instanceId) {
  void guarded(async () => {
    setStatus(`Opening instance ${instanceId}…`);
    const next = /** @type {Analysis} */ (await getJson(`/api/instances/${instanceId}`));
    await showAnalysis(next);
    setStatus(`Instance ${instanceId}.`);
    el.canvas.scrollIntoView({ block: 'nearest' });
  });
}

/**
 * Post a review, then show the stored state as the server now has it.
 * @param {ReviewRequest} request
 */
async function postReview(request) {
  const shown = analysis;
  if (shown === null) return;
  await guarded(async () => {
    await postJson(`/api/instances/${shown.instanceId}/reviews`, request);
    const fresh = /** @type {Analysis} */ (await getJson(`/api/instances/${shown.instanceId}`));
    if (analysis?.instanceId === fresh.instanceId) {
      analysis = fresh;
      renderAnalysisText(fresh);
    }
    setStatus(`Review saved: ${request.verdict} ${request.task} of instance ${shown.instanceId}.`);
    await loadRegistry();
  });
}

// ---- viewer controls ----

el.heatmapTask.addEventListener('change', () => void guarded(() => showFilmAndHeatmap(showSeq)));
el.opacity.addEventListener('input', () => {
  const opacity = Number(el.opacity.value);
  viewport.setOpacity(opacity);
  el.opacityValue.textContent = `${Math.round(opacity * 100)}%`;
});
viewport.setOpacity(Number(el.opacity.value));
for (const field of [el.windowCenter, el.windowWidth]) {
  field.addEventListener('change', () =>
    viewport.setWindow(Number(el.windowCenter.value), Number(el.windowWidth.value)),
  );
}
el.windowReset.addEventListener('click', () => viewport.resetWindow());
el.zoomIn.addEventListener('click', () => viewport.zoomBy(1.25));
el.zoomOut.addEventListener('click', () => viewport.zoomBy(0.8));
el.zoomFit.addEventListener('click', () => viewport.fit());
for (const radio of document.querySelectorAll('input[name="tool"]')) {
  radio.addEventListener('change', (e) => {
    const value = /** @type {HTMLInputElement} */ (e.target).value;
    viewport.setTool(value === 'pan' ? 'pan' : 'window');
  });
}

// ---- registry ----

/** Load the current page of the registry list with the form's filters. */
async function loadRegistry() {
  const { rows } = /** @type {{ rows: RegistryRow[] }} */ (
    await getJson(`/api/instances?${registryQuery(el.registryForm, PAGE_SIZE + 1, registryOffset)}`)
  );
  const page = rows.slice(0, PAGE_SIZE);
  replaceChildren(el.registryRows, renderRegistryRows(page, openInstance));
  el.pagePrev.disabled = registryOffset === 0;
  // one row more than a page was asked for: there is a next page
  el.pageNext.disabled = rows.length <= PAGE_SIZE;
  el.pageInfo.textContent =
    page.length === 0 ? '' : `rows ${registryOffset + 1}–${registryOffset + page.length}`;
}

el.registryForm.addEventListener('submit', (e) => {
  e.preventDefault();
  registryOffset = 0;
  void guarded(loadRegistry);
});
el.pagePrev.addEventListener('click', () => {
  registryOffset = Math.max(0, registryOffset - PAGE_SIZE);
  void guarded(loadRegistry);
});
el.pageNext.addEventListener('click', () => {
  registryOffset += PAGE_SIZE;
  void guarded(loadRegistry);
});

// ---- start ----

const fromLocation = takeTokenFromLocation();
const token = fromLocation ?? loadToken();
useToken(token);
if (token === '') {
  setStatus('Give the access token that `physis serve` printed (or `physis serve token add` made).');
  el.token.focus();
} else {
  void guarded(async () => {
    await loadTasks();
    await loadRegistry();
    const instance = Number(new URLSearchParams(location.hash.replace(/^#/, '')).get('instance'));
    if (Number.isInteger(instance) && instance > 0) openInstance(instance);
  });
}
