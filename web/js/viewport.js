/**
 * The film on a canvas of our own: 16-bit grey pixels through a linear window/level (DICOM PS3.3 C.11.2.1.2.1,
 * the `LINEAR` VOI function) into 8 bits, the heat map drawn over it with an opacity, both under the same zoom and
 * pan. Cornerstone3D would bring a rendering engine, loaders and a tool system for one 2-D grey image and one
 * overlay; this file is the part of it the viewer needs.
 *
 * Mouse: the primary button drags the chosen tool (window/level or pan), any other button or Shift + primary the
 * other one; the wheel zooms about the pointer. Keyboard (canvas focused): arrows pan, + and - zoom, 0 fits, r resets
 * the window.
 */

/** Whether this machine stores a uint16 little-endian, so that the bytes can be viewed without copying. */
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The film's grey values from the bytes of `GET /api/instances/:id/image` (rows × columns, uint16 little-endian).
 * @param {ArrayBuffer} buffer
 * @param {number} rows
 * @param {number} columns
 * @returns {Uint16Array}
 * @throws {Error} when the byte count is not rows × columns × 2
 */
export function decodeFilm(buffer, rows, columns) {
  const expected = rows * columns * 2;
  if (buffer.byteLength !== expected) {
    throw new Error(
      `the image has ${buffer.byteLength} bytes, not the ${expected} of ${rows} × ${columns} uint16 pixels`,
    );
  }
  if (IS_LITTLE_ENDIAN) return new Uint16Array(buffer);
  const view = new DataView(buffer);
  const out = new Uint16Array(rows * columns);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(2 * i, true);
  return out;
}

/**
 * The 8-bit grey level of every 16-bit value under a window: PS3.3 C.11.2.1.2.1, linear function.
 * @param {number} center - window center
 * @param {number} width - window width (≥ 1)
 * @returns {Uint8Array} 65536 entries
 */
export function windowLut(center, width) {
  const lut = new Uint8Array(65536);
  const w = Math.max(1, width);
  const low = center - 0.5 - (w - 1) / 2;
  const high = center - 0.5 + (w - 1) / 2;
  for (let x = 0; x < 65536; x++) {
    if (x <= low) lut[x] = 0;
    else if (x > high) lut[x] = 255;
    else lut[x] = Math.round(((x - (center - 0.5)) / (w - 1) + 0.5) * 255);
  }
  return lut;
}

/**
 * @typedef {object} Film
 * @property {Uint16Array} pixels - rows × columns grey values, bright = dense
 * @property {number} rows
 * @property {number} columns
 * @property {number} windowCenter - the default window
 * @property {number} windowWidth
 */

/** @typedef {'window' | 'pan'} DragTool */

export class FilmViewport {
  /**
   * @param {HTMLCanvasElement} canvas - the visible canvas; its CSS size decides the drawing size
   * @param {{ onWindowChange?: (center: number, width: number) => void }} [hooks]
   */
  constructor(canvas, hooks = {}) {
    this.canvas = canvas;
    this.hooks = hooks;
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('this browser gives no 2-D canvas');
    this.ctx = ctx;
    /** @type {Film | null} */
    this.film = null;
    /** The windowed film at its own size; redrawn only when the window changes. */
    this.filmCanvas = document.createElement('canvas');
    /** @type {ImageBitmap | null} */
    this.heatmap = null;
    this.opacity = 0.5;
    this.center = 0;
    this.width = 1;
    /** Screen (CSS px) = film px × scale + offset. */
    this.scale = 1;
    this.offsetX = 0;
    this.offsetY = 0;
    /** @type {DragTool} */
    this.tool = 'window';
    /** @type {{ id: number, tool: DragTool, x: number, y: number } | null} */
    this.drag = null;
    this.frame = 0;
    this.windowDirty = true;
    this.attachInput();
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  /**
   * Show a film at its default window, fitted to the canvas; the heat map is cleared.
   * @param {Film} film
   */
  setFilm(film) {
    this.film = film;
    this.heatmap = null;
    this.filmCanvas.width = film.columns;
    this.filmCanvas.height = film.rows;
    this.setWindow(film.windowCenter, film.windowWidth);
    this.fit();
  }

  /** Remove the film and heat map. */
  clear() {
    this.film = null;
    this.heatmap = null;
    this.canvas.dataset['heatmap'] = 'none';
    this.requestRender();
  }

  /**
   * Draw this heat map (on the film's grid) over the film, or none.
   * @param {ImageBitmap | null} bitmap
   */
  setHeatmap(bitmap) {
    this.heatmap = bitmap;
    this.requestRender();
  }

  /** @param {number} opacity - 0 to 1 */
  setOpacity(opacity) {
    this.opacity = Math.min(1, Math.max(0, opacity));
    this.requestRender();
  }

  /**
   * @param {number} center
   * @param {number} width - clamped to at least 1
   */
  setWindow(center, width) {
    if (!Number.isFinite(center) || !Number.isFinite(width)) return;
    this.center = Math.round(center);
    this.width = Math.max(1, Math.round(width));
    this.windowDirty = true;
    this.hooks.onWindowChange?.(this.center, this.width);
    this.requestRender();
  }

  /** Back to the film's default window. */
  resetWindow() {
    if (this.film !== null) this.setWindow(this.film.windowCenter, this.film.windowWidth);
  }

  /** @param {DragTool} tool - what the primary button drags */
  setTool(tool) {
    this.tool = tool;
  }

  /** The whole film in the canvas, centred. */
  fit() {
    if (this.film === null) return;
    const { width, height } = this.cssSize();
    this.scale = Math.min(width / this.film.columns, height / this.film.rows) || 1;
    this.offsetX = (width - this.film.columns * this.scale) / 2;
    this.offsetY = (height - this.film.rows * this.scale) / 2;
    this.requestRender();
  }

  /**
   * Zoom by a factor about a point of the canvas (CSS px; default its centre).
   * @param {number} factor
   * @param {number} [x]
   * @param {number} [y]
   */
  zoomBy(factor, x, y) {
    const { width, height } = this.cssSize();
    const cx = x ?? width / 2;
    const cy = y ?? height / 2;
    const scale = Math.min(64, Math.max(0.02, this.scale * factor));
    const k = scale / this.scale;
    this.offsetX = cx - (cx - this.offsetX) * k;
    this.offsetY = cy - (cy - this.offsetY) * k;
    this.scale = scale;
    this.requestRender();
  }

  /**
   * @param {number} dx - CSS px
   * @param {number} dy
   */
  panBy(dx, dy) {
    this.offsetX += dx;
    this.offsetY += dy;
    this.requestRender();
  }

  /** The canvas' CSS size. */
  cssSize() {
    return { width: this.canvas.clientWidth || 1, height: this.canvas.clientHeight || 1 };
  }

  /** Match the drawing buffer to the CSS size and the screen's pixel ratio. */
  resize() {
    const ratio = window.devicePixelRatio || 1;
    const { width, height } = this.cssSize();
    const w = Math.round(width * ratio);
    const h = Math.round(height * ratio);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.fit();
    }
    this.requestRender();
  }

  /** Draw at the next animation frame (drags fire faster than the screen). */
  requestRender() {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draw now: the windowed film, then the heat map at its opacity, under one transform. */
  render() {
    const { ctx, canvas } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const film = this.film;
    if (film === null) {
      canvas.dataset['rendered'] = 'empty';
      return;
    }
    if (this.windowDirty) this.paintFilm(film);
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(
      ratio * this.scale,
      0,
      0,
      ratio * this.scale,
      ratio * this.offsetX,
      ratio * this.offsetY,
    );
    ctx.imageSmoothingEnabled = this.scale < 2;
    ctx.drawImage(this.filmCanvas, 0, 0);
    if (this.heatmap !== null && this.opacity > 0) {
      ctx.globalAlpha = this.opacity;
      // the heat map is on the film's grid; scale it there should the server send another size
      ctx.drawImage(this.heatmap, 0, 0, film.columns, film.rows);
      ctx.globalAlpha = 1;
    }
    canvas.dataset['heatmap'] = this.heatmap === null ? 'none' : 'drawn';
    canvas.dataset['opacity'] = String(this.opacity);
    canvas.dataset['rendered'] = 'film';
  }

  /**
   * Window the 16-bit film into the offscreen 8-bit canvas.
   * @param {Film} film
   */
  paintFilm(film) {
    const lut = windowLut(this.center, this.width);
    const fctx = this.filmCanvas.getContext('2d');
    if (fctx === null) return;
    const image = fctx.createImageData(film.columns, film.rows);
    const rgba = new Uint32Array(image.data.buffer);
    const { pixels } = film;
    const littleEndian = IS_LITTLE_ENDIAN;
    for (let i = 0; i < pixels.length; i++) {
      const g = lut[/** @type {number} */ (pixels[i])] ?? 0;
      rgba[i] = littleEndian
        ? 0xff000000 | (g << 16) | (g << 8) | g
        : ((g << 24) | (g << 16) | (g << 8) | 0xff) >>> 0;
    }
    fctx.putImageData(image, 0, 0);
    this.windowDirty = false;
  }

  /** Mouse, wheel and keyboard. */
  attachInput() {
    const canvas = this.canvas;
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    canvas.addEventListener('pointerdown', (e) => {
      if (this.film === null) return;
      const other = this.tool === 'window' ? 'pan' : 'window';
      const tool = e.button === 0 && !e.shiftKey ? this.tool : other;
      this.drag = { id: e.pointerId, tool, x: e.clientX, y: e.clientY };
      canvas.setPointerCapture(e.pointerId);
      canvas.focus({ preventScroll: true });
      e.preventDefault();
    });
    canvas.addEventListener('pointermove', (e) => {
      const drag = this.drag;
      if (drag === null || drag.id !== e.pointerId) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      drag.x = e.clientX;
      drag.y = e.clientY;
      if (drag.tool === 'pan') this.panBy(dx, dy);
      else {
        // one screen pixel moves the window by a fraction of the default width, so that the feel is the same for
        // a 12-bit and a 16-bit film
        const step = Math.max(1, (this.film?.windowWidth ?? 4096) / 400);
        this.setWindow(this.center + dy * step, this.width + dx * step);
      }
    });
    const end = (/** @type {PointerEvent} */ e) => {
      if (this.drag?.id === e.pointerId) this.drag = null;
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    canvas.addEventListener(
      'wheel',
      (e) => {
        if (this.film === null) return;
        e.preventDefault();
        const rect = canvas.getBoundingClientRect();
        this.zoomBy(Math.exp(-e.deltaY * 0.0015), e.clientX - rect.left, e.clientY - rect.top);
      },
      { passive: false },
    );
    canvas.addEventListener('keydown', (e) => {
      if (this.film === null) return;
      const step = 40;
      /** @type {Record<string, () => void>} */
      const keys = {
        ArrowLeft: () => this.panBy(step, 0),
        ArrowRight: () => this.panBy(-step, 0),
        ArrowUp: () => this.panBy(0, step),
        ArrowDown: () => this.panBy(0, -step),
        '+': () => this.zoomBy(1.25),
        '=': () => this.zoomBy(1.25),
        '-': () => this.zoomBy(0.8),
        0: () => this.fit(),
        r: () => this.resetWindow(),
      };
      const action = keys[e.key];
      if (action !== undefined) {
        e.preventDefault();
        action();
      }
    });
  }
}
