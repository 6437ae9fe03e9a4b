import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseSafetensors,
  serializeSafetensors,
  SafetensorsFormatError,
  rawToFloat16,
  rawToFloat32,
  float32ToFloat16Bits,
  type RawTensor,
} from '../../src/torch/safetensors-format.js';
import { loadSafetensors, saveSafetensors } from '../../src/torch/safetensors.js';
import { BatchNorm2d, Conv2d, ReLU, Sequential, manualSeed, noGrad, tensor } from '../../src/torch/index.js';

const PYTHON = '/usr/bin/python3';
const hasTorchPython = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
const noPython = hasTorchPython
  ? false
  : `${PYTHON} with torch is not installed (scripts/bootstrap.sh installs it)`;

function raw(dtype: RawTensor['dtype'], shape: number[], data: ArrayBufferView): RawTensor {
  return { dtype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** A hand-made file: header JSON (unpadded) + data, for the malformed-header cases. */
function handMade(header: unknown, data: Uint8Array, headerLenOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, headerLenOverride ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

void test('serialize -> parse round-trips every dtype, shape and metadata bit for bit', () => {
  const tensors = new Map<string, RawTensor>([
    [
      'conv.weight',
      raw(
        'F32',
        [2, 1, 3, 3],
        Float32Array.from({ length: 18 }, (_, i) => i * 0.5 - 3),
      ),
    ],
    ['half', raw('F16', [3], Uint16Array.from([0x3c00, 0xc000, 0x7bff]))],
    ['brain', raw('BF16', [2], Uint16Array.from([0x3f80, 0xbf00]))],
    ['bn.num_batches_tracked', raw('I64', [], BigInt64Array.from([-7n]))],
    ['mask', raw('BOOL', [2, 2], Uint8Array.from([1, 0, 0, 1]))],
    ['empty', raw('F32', [0, 4], new Float32Array(0))],
  ]);
  const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'ramp_18' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLen % 8, 0, 'header padded to 8 bytes so tensors are aligned');
  const parsed = parseSafetensors(bytes, 'roundtrip.safetensors');
  assert.deepEqual(parsed.metadata, { format: 'pt', note: 'ramp_18' });
  assert.deepEqual([...parsed.tensors.keys()].sort(), [...tensors.keys()].sort());
  for (const [name, t] of tensors) {
    const p = parsed.tensors.get(name);
    assert.ok(p, name);
    assert.equal(p.dtype, t.dtype, name);
    assert.deepEqual([...p.shape], [...t.shape], name);
    assert.deepEqual([...p.bytes], [...t.bytes], name);
    const itemSize = { F32: 4, F16: 2, BF16: 2, I64: 8, BOOL: 1 }[p.dtype as 'F32'];
    assert.equal(p.bytes.byteOffset % itemSize, 0, `${name} aligned to its item size`);
  }
});

const HEADER_CASES: { name: string; file: () => Uint8Array; match: RegExp }[] = [
  { name: 'file shorter than 8 bytes', file: () => new Uint8Array(5), match: /shorter than the 8-byte/ },
  {
    name: 'header length past end of file',
    file: () => handMade({}, new Uint8Array(0), 1000n),
    match: /runs past the end/,
  },
  {
    name: 'header length over the 100 MB bound',
    file: () => handMade({}, new Uint8Array(0), 1n << 40n),
    match: /exceeds the 100000000-byte limit/,
  },
  {
    name: 'header not JSON',
    file: () => {
      const f = handMade({ a: 1 }, new Uint8Array(0));
      f[8] = 0x5b; // '[' starts an unterminated array
      return f;
    },
    match: /not valid UTF-8 JSON|not a JSON object/,
  },
  {
    name: 'unknown dtype',
    file: () => handMade({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)),
    match: /tensor 'w': unsupported dtype "C64"/,
  },
  {
    name: 'size does not match shape',
    file: () => handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
    match: /tensor 'w': 8 bytes in data_offsets but shape \[3\] of F32 needs 12/,
  },
  {
    name: 'offsets out of bounds',
    file: () => handMade({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)),
    match: /past the 8-byte data section/,
  },
  {
    name: 'overlapping tensors',
    file: () =>
      handMade(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        new Uint8Array(12),
      ),
    match: /tensor 'b': bytes \[4, 12\) overlap/,
  },
  {
    name: 'gap in data section',
    file: () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
    match: /gap of 4 bytes/,
  },
  {
    name: 'trailing bytes',
    file: () => handMade({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
    match: /4 trailing bytes/,
  },
  {
    name: 'negative shape',
    file: () => handMade({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)),
    match: /not a list of non-negative integers/,
  },
  {
    name: 'non-string metadata',
    file: () => handMade({ __metadata__: { epoch: 3 } }, new Uint8Array(0)),
    match: /__metadata__\.epoch is not a string/,
  },
];
for (const c of HEADER_CASES) {
  void test(`parseSafetensors rejects ${c.name} with SafetensorsFormatError naming the file`, () => {
    assert.throws(
      () => parseSafetensors(c.file(), 'bad.safetensors'),
      (e: unknown) =>
        e instanceof SafetensorsFormatError &&
        e.name === 'SafetensorsFormatError' &&
        /^bad\.safetensors: /.test(e.message) &&
        c.match.test(e.message),
    );
  });
}

void test('serializeSafetensors refuses a byte length that disagrees with the shape', () => {
  assert.throws(
    () => serializeSafetensors(new Map([['w', raw('F32', [3], new Float32Array(2))]])),
    /tensor 'w': 8 bytes but shape \[3\] of F32 needs 12/,
  );
});

// Interop with PyTorch: Debian has no python3-safetensors, so the reference side writes and reads the format
// by hand with struct + json from torch tensors, independently of our implementation.
const PY_WRITE = String.raw`
import json, struct, sys, torch
torch.manual_seed(0)
ts = {
  'features.conv0.weight': torch.randn(4, 1, 3, 3),
  'half': torch.randn(5).half(),
  'bf': torch.randn(3).bfloat16(),
  'features.norm0.num_batches_tracked': torch.tensor(123456789012, dtype=torch.int64),
  'mask': torch.tensor([True, False, True]),
}
codes = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64', torch.bool: 'BOOL'}
header, blobs, off = {'__metadata__': {'format': 'pt'}}, [], 0
for name in sorted(ts):
    t = ts[name].contiguous()
    # numpy has no bfloat16: take its bits as int16
    b = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
    header[name] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
    blobs.append(b); off += len(b)
h = json.dumps(header).encode()
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<Q', len(h))); f.write(h)
    for b in blobs: f.write(b)
json.dump({k: v.float().flatten().tolist() if v.dtype != torch.int64 else [int(v)] for k, v in ts.items()}, open(sys.argv[2], 'w'))
`;

void test(
  'a safetensors file written by PyTorch (struct + json) parses to identical values',
  { skip: noPython },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'physis-st-'));
    const file = join(dir, 'py.safetensors');
    const expectedFile = join(dir, 'expected.json');
    const r = spawnSync(PYTHON, ['-c', PY_WRITE, file, expectedFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Record<string, number[]>;
    const { tensors, metadata } = parseSafetensors(readFileSync(file), file);
    assert.deepEqual(metadata, { format: 'pt' });
    const w = tensors.get('features.conv0.weight');
    assert.ok(w);
    assert.deepEqual([...w.shape], [4, 1, 3, 3]);
    const f32 = new Float32Array(Uint8Array.from(w.bytes).buffer);
    assert.deepEqual([...f32], expected['features.conv0.weight']);
    const nbt = tensors.get('features.norm0.num_batches_tracked');
    assert.ok(nbt);
    assert.deepEqual([...nbt.shape], []);
    assert.equal(new BigInt64Array(Uint8Array.from(nbt.bytes).buffer)[0], 123456789012n);
    const mask = tensors.get('mask');
    assert.ok(mask);
    assert.deepEqual([...mask.bytes], [1, 0, 1]);
    // F16 and BF16 carry their bits; the reference printed them widened to float32.
    const bf = tensors.get('bf');
    assert.ok(bf);
    const bfBits = new Uint16Array(Uint8Array.from(bf.bytes).buffer);
    const widened = [...bfBits].map((b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
    assert.deepEqual(widened, expected['bf']);
  },
);

const PY_READ = String.raw`
import json, struct, sys, torch
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
codes = {'F32': torch.float32, 'F16': torch.float16, 'I64': torch.int64, 'BOOL': torch.bool}
out = {'__metadata__': header.pop('__metadata__', {})}
for name, e in header.items():
    b, end = e['data_offsets']
    t = torch.frombuffer(bytearray(data[b:end]), dtype=codes[e['dtype']]).reshape(e['shape'])
    out[name] = [float(x) for x in t.flatten().tolist()]
print(json.dumps(out))
`;

void test(
  'a safetensors file written by Physis reads back in PyTorch with identical values',
  { skip: noPython },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'physis-st-'));
    const file = join(dir, 'ts.safetensors');
    const w = Float32Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(i) * 10));
    writeFileSync(
      file,
      serializeSafetensors(
        new Map([
          ['layer1.0.conv1.weight', raw('F32', [2, 3, 2, 2], w)],
          ['fc.bias', raw('F16', [2], Uint16Array.from([0x3c00, 0xb800]))],
          ['bn1.num_batches_tracked', raw('I64', [], BigInt64Array.from([42n]))],
          ['flags', raw('BOOL', [2], Uint8Array.from([0, 1]))],
        ]),
        { physis: 'yes' },
      ),
    );
    const r = spawnSync(PYTHON, ['-c', PY_READ, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(got['__metadata__'], { physis: 'yes' });
    assert.deepEqual(got['layer1.0.conv1.weight'], [...w]);
    assert.deepEqual(got['fc.bias'], [1, -0.5]);
    assert.deepEqual(got['bn1.num_batches_tracked'], [42]);
    assert.deepEqual(got['flags'], [0, 1]);
  },
);

void test(
  'float32 -> float16 rounding matches PyTorch bit for bit, and widening is exact',
  { skip: noPython },
  () => {
    const values = [
      0,
      1,
      -2.5,
      65504,
      65520,
      1e6,
      -1e6,
      6.1e-5,
      5.96e-8,
      2.98e-8,
      2.99e-8,
      1e-9,
      0.1,
      1 / 3,
      1.00048828125,
      1.000732421875,
      3.14159,
      -7.123e-6,
      Infinity,
      -Infinity,
    ];
    for (let i = 0; i < 200; i++) values.push(Math.sin(i * 12.9898) * 10 ** ((i % 13) - 8));
    const r = spawnSync(
      PYTHON,
      [
        '-c',
        'import json,sys,torch; v=json.loads(sys.stdin.read()); print(json.dumps(torch.tensor(v,dtype=torch.float32).half().view(torch.int16).tolist()))',
      ],
      {
        input: JSON.stringify(values.map((v) => (Number.isFinite(v) ? v : v > 0 ? 1e39 : -1e39))),
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const want = (JSON.parse(r.stdout) as number[]).map((b) => b & 0xffff);
    const t = rawToFloat16(raw('F32', [values.length], Float32Array.from(values)));
    assert.equal(t.dtype, 'F16');
    const got = [...new Uint16Array(Uint8Array.from(t.bytes).buffer)];
    assert.deepEqual(got, want);
    assert.equal(
      float32ToFloat16Bits(-0),
      0x8000,
      'signed zero keeps its sign (JSON cannot carry -0 to Python)',
    );
    const back = rawToFloat32(t);
    for (let i = 0; i < got.length; i++)
      assert.equal(float32ToFloat16Bits(back[i] as number), got[i], `value ${values[i]}`);
  },
);

// ---- engine tensors ------------------------------------------------------------------------------------------

void test(
  'loadSafetensors turns a PyTorch-written file into engine tensors with identical values',
  { skip: noPython },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'physis-st-'));
    const file = join(dir, 'py.safetensors');
    const expectedFile = join(dir, 'expected.json');
    const r = spawnSync(PYTHON, ['-c', PY_WRITE, file, expectedFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Record<string, number[]>;
    const loaded = loadSafetensors(file);
    const cases: [string, string, number[]][] = [
      ['features.conv0.weight', 'float32', [4, 1, 3, 3]],
      ['half', 'float16', [5]],
      ['bf', 'float32', [3]], // the engine has no bfloat16: widened exactly
      ['features.norm0.num_batches_tracked', 'int64', []],
      ['mask', 'bool', [3]],
    ];
    for (const [name, dtype, shape] of cases) {
      const t = loaded.get(name);
      assert.ok(t, name);
      assert.equal(t.dtype, dtype, name);
      assert.deepEqual([...t.shape], shape, name);
      if (dtype === 'int64') assert.equal((t.data() as BigInt64Array)[0], 123456789012n);
      else assert.deepEqual([...t.toFloat32Array()], (expected[name] ?? []).map(Math.fround), name);
      t.dispose();
    }
  },
);

void test(
  'saveSafetensors of a module state dict loads in PyTorch into the same module with the same output',
  { skip: noPython },
  () => {
    manualSeed(3);
    const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU());
    const sd = model.stateDict();
    // Non-trivial running statistics so a mix-up of buffers would show in the output.
    noGrad(() => {
      sd.get('1.running_mean')?.copy_(tensor([0.1, -0.2, 0.3, -0.4], [4]));
      sd.get('1.running_var')?.copy_(tensor([1.5, 0.5, 2, 0.25], [4]));
    });
    model.eval();
    const dir = mkdtempSync(join(tmpdir(), 'physis-st-'));
    const file = join(dir, 'model.safetensors');
    saveSafetensors(file, sd, { format: 'pt' });
    const x = Float32Array.from({ length: 2 * 25 }, (_, i) => Math.sin(i * 0.7));
    const ours = noGrad(() => model.call(tensor(x, [2, 1, 5, 5]))).toFloat32Array();
    const py = String.raw`
import json, struct, sys, torch
raw = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]; h = json.loads(raw[8:8+n]); data = raw[8+n:]
h.pop('__metadata__')
codes = {'F32': torch.float32, 'I64': torch.int64}
sd = {k: torch.frombuffer(bytearray(data[e['data_offsets'][0]:e['data_offsets'][1]]), dtype=codes[e['dtype']]).reshape(e['shape']) for k, e in h.items()}
m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
m.load_state_dict(sd, strict=True); m.eval()
x = torch.tensor(json.loads(sys.stdin.read()), dtype=torch.float32).reshape(2, 1, 5, 5)
print(json.dumps(m(x).flatten().tolist()))
`;
    const r = spawnSync(PYTHON, ['-c', py, file], { input: JSON.stringify([...x]), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = JSON.parse(r.stdout) as number[];
    assert.equal(theirs.length, ours.length);
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((ours[i] ?? 0) - (theirs[i] ?? 0)));
    assert.ok(maxDiff < 1e-5, `max abs difference ${maxDiff}`);
    // And back: the file loads into a fresh module strictly.
    const fresh = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU());
    const loaded = loadSafetensors(file);
    fresh.loadStateDict(loaded);
    assert.deepEqual(
      [...(fresh.stateDict().get('1.running_var')?.toFloat32Array() ?? [])],
      [1.5, 0.5, 2, 0.25],
    );
    assert.equal((fresh.stateDict().get('1.num_batches_tracked')?.data() as BigInt64Array)[0], 0n);
  },
);
