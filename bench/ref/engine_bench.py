#!/usr/bin/env python3
"""PyTorch-eager side of bench/engine.bench.ts (same machine, same thread count, same run).

Runs as a small server so the TS side can interleave the two engines step by step (A/B/A/B): on a shared,
noisy machine both then see the same load. One JSON command per stdin line, one JSON reply per stdout line:
  {"cmd": "init", "threads": n}                  -> {"threads": n, "torch": version}
  {"cmd": "add", "calls": n}                     -> {"us": µs per tiny add}
  {"cmd": "load", "model": name, "batch": b, "size": s} -> {}
  {"cmd": "train"}                               -> {"ms": wall time, "cpu": process CPU time of one training step}
  {"cmd": "infer"}                               -> {"ms": …, "cpu": …} of one no-grad forward
The training step is torchvision's model, cross-entropy on fixed labels, backward, AdamW (foreach=False, PyTorch
1.13's default), zero_grad(set_to_none=True) — the identical step the TS side runs.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
import torchvision


def main():
    state = {}
    for line in sys.stdin:
        c = json.loads(line)
        cmd = c["cmd"]
        reply = {}
        if cmd == "init":
            torch.set_num_threads(c["threads"])
            torch.manual_seed(0)
            reply = {"threads": torch.get_num_threads(), "torch": torch.__version__}
        elif cmd == "add":
            a, b = torch.ones(1), torch.ones(1)
            for _ in range(1000):
                a + b
            c0 = time.process_time()
            for _ in range(c["calls"]):
                a + b
            reply = {"us": (time.process_time() - c0) / c["calls"] * 1e6}
        elif cmd == "load":
            state.clear()
            model = getattr(torchvision.models, c["model"])()
            state["model"] = model
            state["x"] = torch.randn(c["batch"], 3, c["size"], c["size"])
            state["y"] = torch.tensor([(i * 37) % 1000 for i in range(c["batch"])])
            state["opt"] = torch.optim.AdamW(model.parameters(), lr=1e-3, foreach=False)
        elif cmd == "train":
            m, opt = state["model"], state["opt"]
            m.train()
            t0, c0 = time.perf_counter(), time.process_time()
            loss = F.cross_entropy(m(state["x"]), state["y"])
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            reply = {"ms": (time.perf_counter() - t0) * 1e3, "cpu": (time.process_time() - c0) * 1e3}
        elif cmd == "infer":
            m = state["model"]
            m.eval()
            with torch.no_grad():
                t0, c0 = time.perf_counter(), time.process_time()
                m(state["x"])
                reply = {"ms": (time.perf_counter() - t0) * 1e3, "cpu": (time.process_time() - c0) * 1e3}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
