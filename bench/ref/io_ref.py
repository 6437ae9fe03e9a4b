#!/usr/bin/env python3
"""Reference for bench/io.bench.ts: the same decode + preprocess work done with Debian's pydicom, numpy and
Pillow (python3-pydicom, python3-numpy, python3-pil). Reads one file path per line on stdin and answers one
JSON line per file with the time it spent (perf_counter around read + decode + work, nothing else), so the
benchmark can interleave it with Physis file by file under the same machine load.

Work per image, as Physis's preprocess(size=512, crop=False, no laterality):
  decode -> modality LUT (rescale) -> VOI (first window, PS3.3 LINEAR; else the image's range; PNG: 0..2^bits-1)
  -> MONOCHROME1 inverted after VOI -> percentiles 0.5/99.5 to [0, 1] clipped -> antialiased bilinear resize
  of the long side to 512 (Pillow BILINEAR) -> centred zero padding to 512x512 float32.
"""
import json
import sys
import time

import numpy as np
import pydicom
from PIL import Image
from pydicom.pixel_data_handlers.util import apply_modality_lut

SIZE = 512


def window_linear(x, c, w):
    # PS3.3 C.11.2.1.2.1
    if w <= 1:
        return np.clip((x - c) / w + 0.5, 0.0, 1.0)
    return np.clip((x - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0)


def first_number(value):
    if value is None:
        return None
    if isinstance(value, pydicom.multival.MultiValue):
        value = value[0] if len(value) else None
    return None if value is None else float(value)


def display(path):
    if path.lower().endswith('.png'):
        im = Image.open(path)
        maxv = 65535.0 if im.mode.startswith('I') else 255.0
        a = np.asarray(im.convert('F') if im.mode != 'I;16' else im, dtype=np.float32)
        if a.ndim == 3:
            a = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
        return a / maxv
    d = pydicom.dcmread(path)
    a = d.pixel_array
    frames = int(getattr(d, 'NumberOfFrames', 1) or 1)
    if frames > 1:
        a = a[0]
    spp = int(getattr(d, 'SamplesPerPixel', 1) or 1)
    if spp == 3:
        a = a.astype(np.float32)
        return (a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114) / 255.0
    x = np.asarray(apply_modality_lut(a, d), dtype=np.float32)
    c = first_number(d.get('WindowCenter'))
    w = first_number(d.get('WindowWidth'))
    if c is not None and w is not None and w >= 1:
        y = window_linear(x, c, w)
    else:
        lo, hi = float(x.min()), float(x.max())
        y = (x - lo) / (hi - lo if hi > lo else 1.0)
    if str(d.get('PhotometricInterpretation', '')).strip() == 'MONOCHROME1':
        y = 1.0 - y
    return y.astype(np.float32)


def preprocess(path):
    y = display(path)
    lo, hi = np.percentile(y, [0.5, 99.5])
    y = np.clip((y - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(y)
    h, w = y.shape
    scale = SIZE / max(h, w)
    cw, ch = max(1, min(SIZE, round(w * scale))), max(1, min(SIZE, round(h * scale)))
    resized = np.asarray(Image.fromarray(y.astype(np.float32), mode='F').resize((cw, ch), Image.BILINEAR))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    ox, oy = (SIZE - cw) // 2, (SIZE - ch) // 2
    out[oy:oy + ch, ox:ox + cw] = resized
    return out


def main():
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        t0 = time.perf_counter()
        try:
            out = preprocess(path)
            ms = (time.perf_counter() - t0) * 1000.0
            reply = {'ok': True, 'ms': ms, 'mean': float(out.mean())}
        except Exception as e:  # the reference only needs to say which files it cannot do
            reply = {'ok': False, 'error': f'{type(e).__name__}: {str(e)[:120]}'}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
