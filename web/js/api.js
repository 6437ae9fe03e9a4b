/**
 * The viewer's only door to the server: every request of docs/server-api.md goes through `apiFetch`, which adds the
 * bearer token and turns any failure (an `{error, message}` body, a non-JSON error page, a dropped connection) into
 * one `ApiError` whose `line` the page shows as it is. Nothing here touches the DOM.
 */

/** Where the token is kept between visits (this browser only; the server stores only its hash). */
const TOKEN_KEY = 'physis.token';

/**
 * An API failure, with the one line the page shows.
 */
export class ApiError extends Error {
  /**
   * @param {string} name - the server's error name (`Unauthorized`, `RefusedFilm`…) or `NetworkError`
   * @param {string} message - the server's one-line message
   * @param {number} status - the HTTP status, 0 when no answer came
   */
  constructor(name, message, status) {
    super(message);
    this.name = name;
    this.status = status;
  }

  /** The line shown to the user: status, name and message. */
  get line() {
    return this.status === 0
      ? `${this.name}: ${this.message}`
      : `${this.status} ${this.name}: ${this.message}`;
  }
}

/** The saved token, or '' when none. */
export function loadToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    // storage disabled (private mode, file: origin): the token lives only in the field for this visit
    return '';
  }
}

/**
 * Save (or with '' forget) the token.
 * @param {string} token
 */
export function saveToken(token) {
  try {
    if (token === '') localStorage.removeItem(TOKEN_KEY);
    else localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage disabled: nothing to keep
  }
}

/**
 * Take a token from the address' fragment (`#token=…`, as `physis serve` prints it) and remove it from the address
 * bar and history, so that it is not shared with a copied link or left in the history.
 * @returns {string | null} the token, or null when the fragment has none
 */
export function takeTokenFromLocation() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token === null || token === '') return null;
  params.delete('token');
  const rest = params.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${rest === '' ? '' : `#${rest}`}`);
  return token;
}

/** The token requests use; set by the page. */
let currentToken = '';

/**
 * Use this token for every later request.
 * @param {string} token
 */
export function setToken(token) {
  currentToken = token;
}

/**
 * A request to the API with the bearer token; resolves to the Response when its status is 2xx.
 * @param {string} path - e.g. `/api/tasks`
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 * @throws {ApiError} on a non-2xx answer or no answer
 */
export async function apiFetch(path, init = {}) {
  const headers = new Headers(init.headers);
  if (currentToken !== '') headers.set('Authorization', `Bearer ${currentToken}`);
  let response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (e) {
    throw new ApiError(
      'NetworkError',
      `no answer from the server for ${path} (${e instanceof Error ? e.message : String(e)})`,
      0,
    );
  }
  if (response.ok) return response;
  throw await errorOf(response, path);
}

/**
 * The ApiError of a failed response: its `{error, message}` body when it has one, else its status text.
 * @param {Response} response
 * @param {string} path
 * @returns {Promise<ApiError>}
 */
async function errorOf(response, path) {
  const text = await response.text().catch(() => '');
  try {
    const body = /** @type {{error?: unknown, message?: unknown}} */ (JSON.parse(text));
    if (typeof body.message === 'string') {
      return new ApiError(
        typeof body.error === 'string' ? body.error : 'Error',
        oneLine(body.message),
        response.status,
      );
    }
  } catch {
    // not JSON (a proxy's error page): fall through to the status line
  }
  const detail = oneLine(text).slice(0, 200);
  return new ApiError(
    response.statusText || 'Error',
    `${path} failed${detail === '' ? '' : `: ${detail}`}`,
    response.status,
  );
}

/**
 * Collapse whitespace so that a message is one line.
 * @param {string} s
 */
function oneLine(s) {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * GET a JSON document.
 * @template T
 * @param {string} path
 * @returns {Promise<T>}
 */
export async function getJson(path) {
  const response = await apiFetch(path, { headers: { Accept: 'application/json' } });
  return /** @type {Promise<T>} */ (response.json());
}

/**
 * POST a JSON body and read the JSON answer.
 * @template T
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<T>}
 */
export async function postJson(path, body) {
  const response = await apiFetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return /** @type {Promise<T>} */ (response.json());
}

/**
 * The Content-Type of a film for `POST /api/analyses`, from its type or name (DICOM files often have neither).
 * @param {File} file
 */
export function filmContentType(file) {
  if (file.type === 'image/png' || file.type === 'image/jpeg' || file.type === 'application/dicom')
    return file.type;
  const name = file.name.toLowerCase();
  if (name.endsWith('.png')) return 'image/png';
  if (name.endsWith('.jpg') || name.endsWith('.jpeg')) return 'image/jpeg';
  if (name.endsWith('.dcm') || name.endsWith('.dicom')) return 'application/dicom';
  return 'application/octet-stream';
}
