/**
 * The viewer (web/) in a real browser against the real server: `physis serve` on a free port with a fresh data
 * folder, Debian's Chromium driven by playwright-core (never a downloaded browser). One film, samples/hand-0.png with
 * sex F, goes the whole way: token from the address, upload, the answer and its provenance, the film and its heat map
 * on the canvas (pixels change with the opacity slider, the window and the zoom), an accept then a correction, and
 * the analysis reopened from the registry list after a reload (token from storage). A file that is not a film must
 * give one error line. Screenshots go to test-artifacts/web/.
 *
 * Skips with one line when /usr/bin/chromium is absent (`apt-get install chromium`; scripts/bootstrap.sh does).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts/web');
const SAMPLE = join(ROOT, 'samples/hand-0.png');
/** Model loading and CPU inference on a shared machine are slow; every wait allows this much. */
const SLOW_MS = 180_000;

/** A running `physis serve` and the viewer address it printed. */
interface Served {
  readonly baseUrl: string;
  readonly token: string;
  readonly child: ChildProcess;
  readonly dataDir: string;
  log: string;
}

/**
 * Start `physis serve --port 0` with a fresh data folder and wait for the viewer's address it prints on first start
 * (`http://127.0.0.1:<port>/#token=…`, docs/server-api.md), then for `/api/ready`.
 */
async function startServer(): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'physis-viewer-test-'));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/physis.js'), 'serve', '--port', '0', '--data-dir', dataDir],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const served: Served = { baseUrl: '', token: '', child, dataDir, log: '' };
  const address = await new Promise<{ baseUrl: string; token: string }>((resolveAddress, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`physis serve printed no viewer address in ${SLOW_MS} ms:\n${served.log}`)),
      SLOW_MS,
    );
    const onData = (chunk: Buffer): void => {
      served.log += chunk.toString();
      const m = /(https?:\/\/[^\s#]+)\/?#token=([A-Za-z0-9_\-.~%]+)/.exec(served.log);
      if (m !== null) {
        clearTimeout(timer);
        resolveAddress({
          baseUrl: (m[1] as string).replace(/\/$/, ''),
          token: decodeURIComponent(m[2] as string),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`physis serve exited with code ${code} before printing the viewer address:\n${served.log}`),
      );
    });
  });
  Object.assign(served, address);
  const deadline = Date.now() + SLOW_MS;
  for (;;) {
    const ready = await fetch(`${served.baseUrl}/api/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return served;
    if (Date.now() > deadline)
      throw new Error(`/api/ready never answered 200 within ${SLOW_MS} ms:\n${served.log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stop the server and remove its data folder. */
async function stopServer(served: Served): Promise<void> {
  if (served.child.exitCode === null) {
    const exited = new Promise((r) => served.child.once('exit', r));
    served.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
  }
  rmSync(served.dataDir, { recursive: true, force: true });
}

/**
 * The share of pixels whose colour moves by more than `levels` grey levels in some channel between two screenshots.
 * Why beside the mean: a heat map concentrated on one bone changes few pixels strongly, which a mean over the whole
 * canvas dilutes.
 */
function changedShare(a: Buffer, b: Buffer, levels: number): number {
  const pa = PNG.sync.read(a);
  const pb = PNG.sync.read(b);
  assert.equal(pa.data.length, pb.data.length, 'screenshots of one canvas have one size');
  let changed = 0;
  for (let i = 0; i < pa.data.length; i += 4) {
    let moved = false;
    for (let c = 0; c < 3; c++) if (Math.abs((pa.data[i + c] as number) - (pb.data[i + c] as number)) > levels) moved = true;
    if (moved) changed++;
  }
  return changed / (pa.data.length / 4);
}

/**
 * Mean absolute difference of the RGB channels of two same-size PNG screenshots, 0–255.
 * @param a - a PNG
 * @param b - a PNG of the same size
 */
function meanAbsDiff(a: Buffer, b: Buffer): number {
  const pa = PNG.sync.read(a);
  const pb = PNG.sync.read(b);
  assert.equal(pa.width, pb.width, 'screenshots of one canvas have one width');
  assert.equal(pa.height, pb.height);
  let sum = 0;
  for (let i = 0; i < pa.data.length; i += 4) {
    for (let c = 0; c < 3; c++) sum += Math.abs((pa.data[i + c] as number) - (pb.data[i + c] as number));
  }
  return sum / ((pa.data.length / 4) * 3);
}

/**
 * The canvas as a PNG once it has drawn with this opacity (the viewport writes `data-opacity` when it draws).
 * @param page - the viewer
 * @param opacity - the slider's value
 */
async function canvasAtOpacity(page: Page, opacity: string): Promise<Buffer> {
  await page.getByTestId('opacity').fill(opacity);
  await page.waitForSelector(`[data-testid="film-canvas"][data-opacity="${opacity}"]`);
  return page.getByTestId('film-canvas').screenshot();
}

/**
 * Wait until a test id's text matches.
 * @param page - the viewer
 * @param testId - its `data-testid`
 * @param pattern - what its text must match
 */
async function textMatches(page: Page, testId: string, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + SLOW_MS;
  let text = '';
  for (;;) {
    text =
      (await page
        .getByTestId(testId)
        .textContent()
        .catch(() => null)) ?? '';
    if (pattern.test(text)) return text;
    const error = page.getByTestId('error-line');
    if (await error.isVisible())
      throw new Error(`the viewer shows an error while waiting for ${testId}: ${await error.textContent()}`);
    if (Date.now() > deadline) throw new Error(`${testId} never matched ${pattern}; last text: '${text}'`);
    await page.waitForTimeout(200);
  }
}

if (!existsSync(CHROMIUM)) {
  void test(
    'web viewer in a real browser',
    { skip: `no ${CHROMIUM}: install Debian's chromium (scripts/bootstrap.sh) to run the viewer test` },
    () => {},
  );
} else {
  let served: Served | undefined;
  let browser: Browser | undefined;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    rmSync(join(ARTIFACTS, 'failure.png'), { force: true });
    served = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking'],
      headless: true,
    });
  });

  after(async () => {
    await browser?.close();
    if (served !== undefined) await stopServer(served);
  });

  void test(
    'web viewer: upload a hand film, see the answer and heat map, review it, reopen it from the registry',
    { timeout: 10 * SLOW_MS },
    async () => {
      assert.ok(served !== undefined && browser !== undefined);
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      try {
        // the token from the address' fragment, then removed from the address bar
        await page.goto(`${served.baseUrl}/#token=${encodeURIComponent(served.token)}`);
        await page.waitForSelector('[data-testid="task-select"] option[value="hand-bone-age"]', {
          state: 'attached',
          timeout: SLOW_MS,
        });
        assert.doesNotMatch(page.url(), /token=/, 'the token is removed from the address bar');

        // upload the sample with sex F
        await page.getByTestId('film-input').setInputFiles(SAMPLE);
        await page.getByTestId('input-sex').selectOption('F');
        await page.getByTestId('analyse').click();
        const summary = await textMatches(page, 'summary-hand-bone-age', /bone age [\d.]+ months/);
        const months = Number(/bone age ([\d.]+) months/.exec(summary)?.[1]);
        assert.ok(months > 0 && months < 240, `a child's bone age: ${summary}`);
        assert.match(await page.getByTestId('answer-hand-bone-age').innerText(), /90% interval/);
        assert.match(
          await page.getByTestId('model-hand-bone-age').innerText(),
          /hand-bone-age\S* · [0-9a-f]{12}/,
        );
        assert.match(await page.getByTestId('gate-hand-bone-age').innerText(), /passed/);
        assert.match(await page.getByTestId('review-state-hand-bone-age').innerText(), /unreviewed/);
        const instanceId = /instance=(\d+)/.exec(page.url())?.[1];
        assert.ok(instanceId !== undefined, `the address names the instance: ${page.url()}`);

        // the film and its heat map on the canvas: the overlay changes the pixels as the opacity moves
        await page.waitForSelector(
          '[data-testid="film-canvas"][data-rendered="film"][data-heatmap="drawn"]',
          { timeout: SLOW_MS },
        );
        // what the colours are, in words, under the heat-map controls
        assert.match(await page.getByTestId('heatmap-method').innerText(), /^HiResCAM of the bone age on the \d+×\d+ feature map/);
        const none = await canvasAtOpacity(page, '0');
        const full = await canvasAtOpacity(page, '1');
        const overlayShare = changedShare(none, full, 32);
        if (!(overlayShare > 0.005)) {
          assert.fail(`the heat map changes the canvas (${(overlayShare * 100).toFixed(2)}% of its pixels by more than 32 of 255; mean |Δ| ${meanAbsDiff(none, full).toFixed(2)})`);
        }
        await canvasAtOpacity(page, '0.5');
        await page.screenshot({ path: join(ARTIFACTS, '01-answer.png'), fullPage: true });

        // window/level by dragging, back with the reset button; zoom with the wheel
        const defaultCenter = await page.getByTestId('window-center').inputValue();
        const box = await page.getByTestId('film-canvas').boundingBox();
        assert.ok(box !== null);
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 80, { steps: 5 });
        await page.mouse.up();
        assert.notEqual(
          await page.getByTestId('window-center').inputValue(),
          defaultCenter,
          'dragging moves the window',
        );
        await page.getByTestId('window-reset').click();
        assert.equal(
          await page.getByTestId('window-center').inputValue(),
          defaultCenter,
          'the reset restores the default window',
        );
        const before = await page.getByTestId('film-canvas').screenshot();
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, -400);
        await page.waitForTimeout(300);
        const zoomed = await page.getByTestId('film-canvas').screenshot();
        assert.ok(meanAbsDiff(before, zoomed) > 1, 'the wheel zooms');
        await page.getByTestId('zoom-fit').click();

        // review: accept, then a correction
        await page.getByTestId('review-accept-hand-bone-age').click();
        await textMatches(page, 'review-state-hand-bone-age', /accepted/);
        await page.getByTestId('review-label-hand-bone-age').fill('18');
        await page.getByTestId('review-correct-hand-bone-age').click();
        await textMatches(page, 'review-state-hand-bone-age', /corrected.*label 18/);
        await page.screenshot({ path: join(ARTIFACTS, '02-reviewed.png'), fullPage: true });

        // reopen from the registry list after a reload: the token comes from storage this time
        await page.goto(`${served.baseUrl}/`);
        const row = page.locator(`[data-testid="registry-row"][data-instance-id="${instanceId}"]`);
        await row.waitFor({ timeout: SLOW_MS });
        assert.match(await row.innerText(), /hand-bone-age.*corrected/s);
        await page.getByTestId('filter-review-state').selectOption('corrected');
        await page.getByTestId('registry-search').click();
        await row.waitFor({ timeout: SLOW_MS });
        await row.click();
        await textMatches(page, 'summary-hand-bone-age', /bone age [\d.]+ months/);
        await textMatches(page, 'review-state-hand-bone-age', /corrected.*label 18/);
        await page.waitForSelector(
          '[data-testid="film-canvas"][data-rendered="film"][data-heatmap="drawn"]',
          { timeout: SLOW_MS },
        );
        await page.screenshot({ path: join(ARTIFACTS, '03-reopened.png'), fullPage: true });

        // a file that is not a film: one clear error line, never a silent failure
        await page.getByTestId('film-input').setInputFiles({
          name: 'notes.txt',
          mimeType: 'text/plain',
          buffer: Buffer.from('not a radiograph\n'),
        });
        await page.getByTestId('analyse').click();
        const error = page.getByTestId('error-line');
        await error.waitFor({ state: 'visible', timeout: SLOW_MS });
        assert.match((await error.textContent()) ?? '', /^4\d\d \S+: .+/);
        await page.screenshot({ path: join(ARTIFACTS, '04-error.png'), fullPage: true });

        assert.deepEqual(pageErrors, [], 'no uncaught error in the page');
      } catch (e) {
        await page
          .screenshot({ path: join(ARTIFACTS, 'failure.png'), fullPage: true })
          .catch(() => undefined);
        throw e;
      } finally {
        await context.close();
      }
    },
  );
}
