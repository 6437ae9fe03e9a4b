/** Process-wide engine settings: seeding, determinism, threads, devices, and autograd.grad. */
import { N, type Handle } from './native.js';
import type { Tensor } from './tensor.js';
import { emitMany } from './tensor.js';

/** Seeds libtorch's generators (torch.manual_seed). */
export function manualSeed(seed: number): void {
  N.manualSeed(seed);
}
/** Makes libtorch pick deterministic algorithms, erroring on ops that have none (torch.use_deterministic_algorithms). */
export function setDeterministic(on: boolean): void {
  N.setDeterministic(on);
}
/** Intra-op thread count (at::set_num_threads); benchmarks pin both sides to the same value. */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: need a positive integer, got ${n}`);
  N.setNumThreads(n);
}
/** Current intra-op thread count. */
export function getNumThreads(): number {
  return N.getNumThreads();
}
/** Whether the linked libtorch has CUDA and sees a GPU. */
export function cudaIsAvailable(): boolean {
  return N.cudaIsAvailable();
}
/** How many GPUs this process sees (torch.cuda.device_count(); 0 without CUDA). */
export function cudaDeviceCount(): number {
  return N.cudaDeviceCount();
}

/**
 * Gradients of `outputs` w.r.t. `inputs` without touching `.grad` (torch.autograd.grad). An input that the outputs
 * do not depend on yields a zero tensor of its shape.
 */
export function autogradGrad(
  outputs: Tensor[],
  inputs: Tensor[],
  gradOutputs?: Tensor[],
  o: { retainGraph?: boolean; createGraph?: boolean } = {},
): Tensor[] {
  const hs = N.autogradGrad(
    outputs.map((t) => t.handle),
    inputs.map((t) => t.handle),
    gradOutputs === undefined ? null : gradOutputs.map((t) => t.handle),
    o.retainGraph ?? null,
    o.createGraph ?? false,
    true,
  );
  const present = hs.filter((h): h is Handle => h !== null);
  const wrapped = emitMany('autogradGrad', present, [...outputs, ...inputs]);
  let k = 0;
  return hs.map((h, i) => {
    if (h !== null) return wrapped[k++] as Tensor;
    const inp = inputs[i] as Tensor;
    return inp.detach().mul(0);
  });
}
