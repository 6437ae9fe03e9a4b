/**
 * Module: the container of parameters, buffers and child modules with PyTorch's dotted names
 * (`layer1.0.conv1.weight`), so state dicts map one-to-one onto torchvision/timm checkpoints.
 */
import type { Device, Tensor } from './tensor.js';
import { keep, noGrad } from './tensor.js';
import { StateDictError } from './errors.js';

/** A forward hook: sees the module and its output (Grad-CAM captures activations this way). */
export type ForwardHook = (module: Module, output: Tensor) => void;

function fmt(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

/** Base class of all layers and models (torch.nn.Module). */
export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, Tensor | null>();
  private readonly modules = new Map<string, Module>();
  private readonly hooks = new Set<ForwardHook>();

  /** Registers a parameter (sets requiresGrad) under `name`; null registers an absent one (e.g. bias=False). */
  protected registerParameter(name: string, t: Tensor | null): Tensor {
    this.checkName(name);
    if (t !== null) {
      if (!t.requiresGrad) t.requiresGrad_(true);
      keep(t); // a model built inside tidy() must keep its weights
    }
    this.params.set(name, t);
    return t as Tensor;
  }
  /** Registers a persistent buffer (saved in the state dict, not trained). */
  protected registerBuffer(name: string, t: Tensor | null): Tensor {
    this.checkName(name);
    if (t !== null) keep(t);
    this.buffers.set(name, t);
    return t as Tensor;
  }
  /** Registers a child module under `name`. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this.modules.set(name, m);
    return m;
  }
  private checkName(name: string): void {
    if (name === '' || name.includes('.'))
      throw new StateDictError(`invalid member name '${name}': must be non-empty without '.'`);
  }

  /** The computation; call modules through `call()` so hooks run. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** forward + forward hooks. */
  call(...inputs: Tensor[]): Tensor {
    const out = this.forward(...inputs);
    if (this.hooks.size > 0) for (const h of this.hooks) h(this, out);
    return out;
  }

  /** Adds a forward hook; returns a function that removes it. */
  registerForwardHook(fn: ForwardHook): () => void {
    this.hooks.add(fn);
    return () => {
      this.hooks.delete(fn);
    };
  }

  /** The direct children with their names. */
  children(): [string, Module][] {
    return [...this.modules.entries()];
  }
  /** This module ('' ) and all descendants with dotted names, depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.modules) out.push(...m.namedModules(prefix === '' ? n : `${prefix}.${n}`));
    return out;
  }
  /** All parameters with dotted names (registration order, like PyTorch). */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, t] of m.params) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([prefix === '' ? n : `${prefix}.${n}`, t]);
      }
    }
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  /** All buffers with dotted names. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, t] of m.buffers) if (t !== null) out.push([prefix === '' ? n : `${prefix}.${n}`, t]);
    }
    return out;
  }

  /** Sets training mode on this module and all descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters and buffers by dotted name, in PyTorch's order (per module: its parameters, then buffers, then
   * children). The tensors are the module's own (not copies): do not dispose them.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const visit = (m: Module, prefix: string): void => {
      for (const [n, t] of m.params) if (t !== null) out.set(prefix + n, t);
      for (const [n, t] of m.buffers) if (t !== null) out.set(prefix + n, t);
      for (const [n, c] of m.modules) visit(c, `${prefix}${n}.`);
    };
    visit(this, '');
    return out;
  }

  /**
   * Copies values from `sd` into this module's tensors (in place, so optimisers keep their references).
   * Strict (default) throws StateDictError naming the first missing or unexpected key; a shape mismatch always
   * throws. Values are converted to each target's dtype.
   */
  loadStateDict(
    sd: Map<string, Tensor>,
    o: { strict?: boolean } = {},
  ): { missing: string[]; unexpected: string[] } {
    const strict = o.strict ?? true;
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !sd.has(k));
    const unexpected = [...sd.keys()].filter((k) => !own.has(k));
    if (strict && missing.length > 0) {
      throw new StateDictError(
        `loadStateDict: missing key '${missing[0]}' (${missing.length} missing in all)`,
      );
    }
    if (strict && unexpected.length > 0) {
      throw new StateDictError(
        `loadStateDict: unexpected key '${unexpected[0]}' (${unexpected.length} unexpected in all)`,
      );
    }
    for (const [k, target] of own) {
      const src = sd.get(k);
      if (src === undefined) continue;
      if (src.shape.length !== target.shape.length || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new StateDictError(
          `loadStateDict: key '${k}' has shape ${fmt(src.shape)} in the state dict, the model expects ${fmt(target.shape)}`,
        );
      }
    }
    noGrad(() => {
      for (const [k, target] of own) {
        const src = sd.get(k);
        if (src !== undefined) target.copy_(src);
      }
    });
    return { missing, unexpected };
  }

  /**
   * Moves every parameter and buffer of this module and its descendants to a device, in place (torch.nn.Module.to):
   * layers and optimisers keep their references. Move before the optimiser's first step (its moments are made where
   * the parameters are then); gradients are dropped.
   */
  to(device: Device): this {
    for (const [, m] of this.namedModules()) {
      for (const t of m.params.values()) t?.moveTo_(device);
      for (const t of m.buffers.values()) t?.moveTo_(device);
    }
    return this;
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m.params.values()) t?.dispose();
      for (const t of m.buffers.values()) t?.dispose();
    }
  }
}

/** Runs children in order; children are named '0', '1', … (or by `add(name, m)`). */
export class Sequential extends Module {
  private readonly order: Module[] = [];
  constructor(...mods: Module[]) {
    super();
    for (const m of mods) this.add(String(this.order.length), m);
  }
  /** Appends a child under `name`. */
  add(name: string, m: Module): this {
    this.registerModule(name, m);
    this.order.push(m);
    return this;
  }
  get length(): number {
    return this.order.length;
  }
  /** The i-th child. */
  at(i: number): Module {
    const m = this.order[i];
    if (m === undefined) throw new RangeError(`Sequential: no child ${i} (length ${this.order.length})`);
    return m;
  }
  /** Feeds the input through every child in order (intermediates belong to the caller's tidy scope). */
  forward(x: Tensor): Tensor {
    let cur = x;
    for (const m of this.order) cur = m.call(cur);
    return cur;
  }
}

/** A list of modules registered as children '0', '1', …; has no forward of its own. */
export class ModuleList extends Module {
  private readonly items: Module[] = [];
  constructor(mods: Module[] = []) {
    super();
    for (const m of mods) this.push(m);
  }
  push(m: Module): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): Module {
    const m = this.items[i];
    if (m === undefined) throw new RangeError(`ModuleList: no item ${i} (length ${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }
  forward(): Tensor {
    throw new Error('ModuleList has no forward(); iterate over its items');
  }
}
