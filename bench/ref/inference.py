"""PyTorch eager reference for bench/inference.bench.ts.

Builds torchvision's densenet121 / efficientnet_v2_s with a 1-channel stem and a 1-output head, loads the very
weights the Physis side benchmarks (safetensors read with struct + json: Debian has no python3-safetensors),
and times inference per image at the batch sizes asked for, with the same thread count and the same iteration
rule as the TypeScript side. Prints one JSON document on stdout.

usage: inference.py <spec.json>
  spec: {"threads": 2, "size": 512, "models": [{"name": "densenet121", "weights": "/tmp/...safetensors",
         "runs": [{"batch": 1, "warmup": 1, "iters": 5}, ...]}]}
"""
import json
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torchvision

DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'I64': torch.int64, 'BOOL': torch.bool}


def load_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[b:end]), dtype=DTYPES[e['dtype']]).reshape(e['shape'])
    return out


def build(name):
    if name == 'densenet121':
        m = torchvision.models.densenet121(num_classes=1)
        m.features.conv0 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    elif name == 'efficientnet_v2_s':
        m = torchvision.models.efficientnet_v2_s(num_classes=1)
        m.features[0][0] = torch.nn.Conv2d(1, 24, kernel_size=3, stride=2, padding=1, bias=False)
    else:
        raise SystemExit(f'inference.py: unknown model {name}')
    return m


def bench_input(batch, size):
    # Same formula as bench/inference.bench.ts benchInput().
    i = np.arange(batch * size * size, dtype=np.float64)
    return torch.from_numpy(np.sin(i * 0.37).astype(np.float32)).reshape(batch, 1, size, size)


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec['threads'])
    size = spec['size']
    result = {'threads': torch.get_num_threads(), 'torch': torch.__version__, 'models': []}
    for ms in spec['models']:
        m = build(ms['name'])
        m.load_state_dict(load_safetensors(ms['weights']), strict=True)
        m.eval()
        runs = []
        with torch.inference_mode():
            for r in ms['runs']:
                x = bench_input(r['batch'], size)
                for _ in range(r['warmup']):
                    y = m(x)
                times = []
                for _ in range(r['iters']):
                    t0 = time.perf_counter()
                    y = m(x)
                    times.append((time.perf_counter() - t0) * 1000)
                runs.append({'batch': r['batch'], 'msPerImage': statistics.median(times) / r['batch'],
                             'timesMs': times, 'output': y.flatten()[:4].tolist()})
        result['models'].append({'name': ms['name'], 'runs': runs})
    print(json.dumps(result))


if __name__ == '__main__':
    main()
