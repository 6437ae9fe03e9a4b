import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Module,
  Sequential,
  ModuleList,
  Conv2d,
  BatchNorm2d,
  Linear,
  ReLU,
  Flatten,
  AdaptiveAvgPool2d,
  LayerNorm,
  GroupNorm,
  Identity,
  Dropout,
  MaxPool2d,
  tensor,
  ones,
  zeros,
  randn,
  tidy,
  noGrad,
  init,
  StateDictError,
  ShapeError,
  type Tensor,
} from '../../src/torch/index.js';

class Block extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(c: number) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(c, c, 3, { padding: 1, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(c));
  }
  forward(x: Tensor): Tensor {
    return this.bn.call(this.conv.call(x)).relu();
  }
}

function tinyNet(): Sequential {
  return new Sequential(
    new Conv2d(3, 4, 3, { padding: 1 }),
    new Block(4),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(4, 2),
  );
}

void test('dotted names, order and shapes follow PyTorch', () => {
  const net = tinyNet();
  assert.deepEqual(
    [...net.stateDict().keys()],
    [
      '0.weight',
      '0.bias',
      '1.conv.weight',
      '1.bn.weight',
      '1.bn.bias',
      '1.bn.running_mean',
      '1.bn.running_var',
      '1.bn.num_batches_tracked',
      '4.weight',
      '4.bias',
    ],
  );
  assert.deepEqual(
    net.namedParameters().map(([n]) => n),
    ['0.weight', '0.bias', '1.conv.weight', '1.bn.weight', '1.bn.bias', '4.weight', '4.bias'],
  );
  assert.deepEqual(
    net.namedBuffers().map(([n]) => n),
    ['1.bn.running_mean', '1.bn.running_var', '1.bn.num_batches_tracked'],
  );
  assert.deepEqual(
    net.namedModules().map(([n]) => n),
    ['', '0', '1', '1.conv', '1.bn', '2', '3', '4'],
  );
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.equal(net.stateDict().get('1.bn.num_batches_tracked')?.dtype, 'int64');
  assert.deepEqual(net.stateDict().get('1.conv.weight')?.shape, [4, 4, 3, 3]);
  assert.deepEqual(net.call(randn([2, 3, 8, 8])).shape, [2, 2]);
});

void test('loadStateDict copies values in place and checks names and shapes strictly', () => {
  const a = tinyNet();
  const b = tinyNet();
  const wBefore = b.parameters()[0] as Tensor;
  const res = b.loadStateDict(a.stateDict());
  assert.deepEqual(res, { missing: [], unexpected: [] });
  assert.equal(b.parameters()[0], wBefore, 'same tensor object (optimisers keep their references)');
  const x = randn([2, 3, 8, 8]);
  a.eval();
  b.eval();
  assert.deepEqual([...b.call(x).toFloat32Array()], [...a.call(x).toFloat32Array()]);

  const missing = new Map(a.stateDict());
  missing.delete('1.bn.running_var');
  assert.throws(
    () => b.loadStateDict(missing),
    (e: Error) => e instanceof StateDictError && /'1\.bn\.running_var'/.test(e.message),
  );
  assert.deepEqual(b.loadStateDict(missing, { strict: false }).missing, ['1.bn.running_var']);
  const extra = new Map(a.stateDict());
  extra.set('fc.weight', ones([1]));
  assert.throws(
    () => b.loadStateDict(extra),
    (e: Error) => e instanceof StateDictError && /unexpected key 'fc\.weight'/.test(e.message),
  );
  const wrong = new Map(a.stateDict());
  wrong.set('4.weight', ones([3, 4]));
  assert.throws(
    () => b.loadStateDict(wrong, { strict: false }),
    (e: Error) =>
      e instanceof StateDictError && /'4\.weight' has shape \[3,4\].*expects \[2,4\]/.test(e.message),
  );
});

void test('train/eval propagate; BatchNorm updates running stats and num_batches_tracked only in training', () => {
  const bn = new BatchNorm2d(2);
  const x = tensor([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]);
  noGrad(() => bn.call(x));
  assert.equal(bn.numBatchesTracked.item(), 1);
  // running_mean = 0.9*0 + 0.1*batch mean
  assert.deepEqual(
    [...bn.runningMean.toFloat32Array()].map((v) => +v.toFixed(5)),
    [0.25, 2.5],
  );
  const net = new Sequential(bn, new Dropout(0.5));
  net.eval();
  assert.equal(bn.training, false);
  const y = bn.call(x);
  assert.equal(bn.numBatchesTracked.item(), 1);
  assert.deepEqual(y.shape, [1, 2, 2, 2]);
  const cum = new BatchNorm2d(1, { momentum: null });
  noGrad(() => {
    cum.call(ones([2, 1, 2, 2]));
    cum.call(full3());
  });
  // cumulative average of the batch means 1 and 3
  assert.ok(Math.abs((cum.runningMean.toFloat32Array()[0] ?? 0) - 2) < 1e-6);
});
function full3(): Tensor {
  return ones([2, 1, 2, 2]).mul(3);
}

void test('forward hooks see outputs and can be removed; retainGrad gives activation gradients (Grad-CAM)', () => {
  const net = tinyNet();
  const block = net.at(1);
  let act: Tensor | null = null;
  const remove = block.registerForwardHook((_m, out) => {
    act = out.retainGrad();
  });
  const out = net.call(randn([1, 3, 8, 8]));
  assert.ok(act !== null);
  out.index(0).index(1).backward();
  const g = (act as Tensor).grad;
  assert.ok(g !== null);
  assert.deepEqual(g.shape, [1, 4, 8, 8]);
  assert.ok(g.abs().sum().item() > 0);
  remove();
  act = null;
  net.call(randn([1, 3, 8, 8]));
  assert.equal(act, null);
});

void test('a model built inside tidy keeps its parameters', () => {
  const net = tidy(() => {
    const n = tinyNet();
    n.call(randn([1, 3, 8, 8]));
    return n;
  });
  assert.ok(net.parameters().every((p) => !p.isDisposed));
  assert.ok(net.namedBuffers().every(([, b]) => !b.isDisposed));
  net.dispose();
  assert.ok(net.parameters().every((p) => p.isDisposed));
});

void test('layers: shapes, defaults and errors', () => {
  assert.deepEqual(new LayerNorm(6).call(randn([2, 6])).shape, [2, 6]);
  assert.deepEqual(new GroupNorm(2, 4).call(randn([1, 4, 3, 3])).shape, [1, 4, 3, 3]);
  assert.throws(() => new GroupNorm(3, 4), ShapeError);
  const id = randn([2]);
  assert.equal(new Identity().call(id), id);
  assert.deepEqual(new MaxPool2d({ kernelSize: 2 }).call(randn([1, 1, 4, 4])).shape, [1, 1, 2, 2]);
  assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }), ShapeError);
  const dw = new Conv2d(4, 4, 3, { groups: 4 });
  assert.deepEqual(dw.weight.shape, [4, 1, 3, 3]);
  // PyTorch default init: |w| <= 1/sqrt(fanIn) (kaiming_uniform with a=sqrt(5)), bias likewise
  const lin = new Linear(100, 10);
  const bound = 1 / Math.sqrt(100);
  assert.ok(lin.weight.abs().max().item() <= bound + 1e-7);
  assert.ok(lin.bias !== null && lin.bias.abs().max().item() <= bound + 1e-7);
  const list = new ModuleList([new ReLU(), new Linear(2, 2)]);
  assert.deepEqual([...list.stateDict().keys()], ['1.weight', '1.bias']);
  assert.equal([...list].length, 2);
});

void test('init matches torch.nn.init statistics', () => {
  const w = zeros([256, 128, 3, 3]);
  init.kaimingNormal_(w, { mode: 'fanOut', nonlinearity: 'relu' });
  const std = Math.sqrt(w.pow(2).mean().item());
  assert.ok(Math.abs(std - Math.sqrt(2 / (256 * 9))) / Math.sqrt(2 / (256 * 9)) < 0.02, `std ${std}`);
  const t = zeros([10000]);
  init.truncNormal_(t, 0, 1, -2, 2);
  assert.ok(t.abs().max().item() <= 2);
  assert.ok(Math.abs(t.mean().item()) < 0.05);
  // variance of N(0,1) truncated to ±2 is 0.774
  assert.ok(Math.abs(t.pow(2).mean().item() - 0.774) < 0.04);
  const x = zeros([64, 32]);
  init.xavierUniform_(x);
  assert.ok(x.abs().max().item() <= Math.sqrt(6 / 96) + 1e-7);
  init.constant_(x, 3);
  assert.equal(x.mean().item(), 3);
});
