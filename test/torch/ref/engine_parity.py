#!/usr/bin/env python3
"""PyTorch reference for test/torch/parity.test.ts (test-only; PyTorch is never a runtime dependency).

Usage: /usr/bin/python3 engine_parity.py <dir>
Reads <dir>/cases.json and the raw little-endian tensors it names, computes every case's outputs with PyTorch
(and, where the case asks, gradients of sum(out_i * upstream_i) w.r.t. the inputs marked `grad`), and writes them
to <dir>/<case>.out<i>.bin / <case>.grad<j>.bin plus <dir>/result.json with shapes and dtypes.
Exit code 77 when torch cannot be imported (the test then skips).
"""
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001
    print(f"engine_parity: PyTorch unavailable: {e}", file=sys.stderr)
    sys.exit(77)

NP = {"float32": np.float32, "int64": np.int64, "bool": np.bool_}


def load(d, spec):
    a = np.fromfile(os.path.join(d, spec["file"]), dtype=NP[spec["dtype"]]).reshape(spec["shape"])
    t = torch.from_numpy(a.copy())
    if spec.get("grad"):
        t.requires_grad_(True)
    return t


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def bn_train(x, a):
    rm, rv = x[1].clone(), x[2].clone()
    y = F.batch_norm(x[0], rm, rv, x[3], x[4], True, a["momentum"], a["eps"])
    return [y, rm, rv]


def adamw(x, a):
    p = x[0].clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=a["lr"], betas=tuple(a["betas"]), eps=a["eps"], weight_decay=a["wd"])
    for g in x[1:]:
        p.grad = g.clone()
        opt.step()
    return [p.detach()]


def sgd(x, a):
    p = x[0].clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=a["lr"], momentum=a["momentum"], dampening=a["dampening"],
                          weight_decay=a["wd"], nesterov=a["nesterov"])
    for g in x[1:]:
        p.grad = g.clone()
        opt.step()
    return [p.detach()]


def clip(x, a):
    p1 = x[0].clone().requires_grad_(True)
    p2 = x[1].clone().requires_grad_(True)
    p1.grad, p2.grad = x[2].clone(), x[3].clone()
    n = torch.nn.utils.clip_grad_norm_([p1, p2], a["max"])
    return [n.reshape([]), p1.grad, p2.grad]


def one_cycle(x, a):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=a["maxLr"])
    s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a["maxLr"], total_steps=a["total"], pct_start=a["pct"],
                                            div_factor=a["div"], final_div_factor=a["finalDiv"])
    lrs = []
    for _ in range(a["total"]):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return [torch.tensor(lrs, dtype=torch.float32)]


def interpolate(x, a):
    kw = {"mode": a["mode"]}
    if a.get("size") is not None:
        kw["size"] = tuple(a["size"])
    else:
        kw["scale_factor"] = a["scale"]
    if a["mode"] == "bilinear":
        kw["align_corners"] = a.get("alignCorners", False)
    return F.interpolate(x[0], **kw)


OPS = {
    "add": lambda x, a: x[0] + x[1],
    "sub": lambda x, a: x[0] - x[1],
    "mul": lambda x, a: x[0] * x[1],
    "div": lambda x, a: x[0] / x[1],
    "add_s": lambda x, a: x[0] + a["s"],
    "mul_s": lambda x, a: x[0] * a["s"],
    "div_s": lambda x, a: x[0] / a["s"],
    "rsub_s": lambda x, a: a["s"] - x[0],
    "neg": lambda x, a: -x[0],
    "abs": lambda x, a: x[0].abs(),
    "sqrt": lambda x, a: x[0].sqrt(),
    "rsqrt": lambda x, a: x[0].rsqrt(),
    "exp": lambda x, a: x[0].exp(),
    "log": lambda x, a: x[0].log(),
    "pow": lambda x, a: x[0] ** a["e"],
    "clamp": lambda x, a: x[0].clamp(a["min"], a["max"]),
    "maximum": lambda x, a: torch.maximum(x[0], x[1]),
    "relu": lambda x, a: F.relu(x[0]),
    "relu6": lambda x, a: F.relu6(x[0]),
    "silu": lambda x, a: F.silu(x[0]),
    "gelu": lambda x, a: F.gelu(x[0]),
    "sigmoid": lambda x, a: torch.sigmoid(x[0]),
    "tanh": lambda x, a: torch.tanh(x[0]),
    "hardswish": lambda x, a: F.hardswish(x[0]),
    "hardsigmoid": lambda x, a: F.hardsigmoid(x[0]),
    "softmax": lambda x, a: F.softmax(x[0], a["dim"]),
    "log_softmax": lambda x, a: F.log_softmax(x[0], a["dim"]),
    "matmul": lambda x, a: x[0] @ x[1],
    "sum": lambda x, a: x[0].sum() if a["dims"] is None else x[0].sum(dim=a["dims"], keepdim=a["keep"]),
    "mean": lambda x, a: x[0].mean() if a["dims"] is None else x[0].mean(dim=a["dims"], keepdim=a["keep"]),
    "max_all": lambda x, a: x[0].max(),
    "max_dim": lambda x, a: list(x[0].max(a["dim"], keepdim=a["keep"])),
    "argmax": lambda x, a: x[0].argmax(a["dim"], keepdim=a["keep"]),
    "reshape": lambda x, a: x[0].reshape(a["shape"]),
    "permute": lambda x, a: x[0].permute(a["dims"]),
    "transpose": lambda x, a: x[0].transpose(a["d0"], a["d1"]),
    "flatten": lambda x, a: x[0].flatten(a["start"], a["end"]),
    "narrow": lambda x, a: x[0].narrow(a["dim"], a["start"], a["len"]),
    "expand": lambda x, a: x[0].expand(a["shape"]),
    "squeeze": lambda x, a: x[0].squeeze(a["dim"]),
    "unsqueeze": lambda x, a: x[0].unsqueeze(a["dim"]),
    "select0": lambda x, a: x[0][a["i"]],
    "cat": lambda x, a: torch.cat(x, a["dim"]),
    "stack": lambda x, a: torch.stack(x, a["dim"]),
    "split": lambda x, a: list(torch.split(x[0], a["size"], a["dim"])),
    "where": lambda x, a: torch.where(x[0], x[1], x[2]),
    "conv2d": lambda x, a: F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, a["stride"], a["padding"],
                                    a["dilation"], a["groups"]),
    "linear": lambda x, a: F.linear(x[0], x[1], x[2] if len(x) > 2 else None),
    "batch_norm_train": bn_train,
    "batch_norm_eval": lambda x, a: F.batch_norm(x[0], x[1], x[2], x[3], x[4], False, 0.1, a["eps"]),
    "layer_norm": lambda x, a: F.layer_norm(x[0], a["shape"], x[1], x[2], a["eps"]),
    "group_norm": lambda x, a: F.group_norm(x[0], a["groups"], x[1], x[2], a["eps"]),
    "max_pool2d": lambda x, a: F.max_pool2d(x[0], a["k"], a["s"], a["p"], a.get("d", 1), a.get("ceil", False)),
    "avg_pool2d": lambda x, a: F.avg_pool2d(x[0], a["k"], a["s"], a["p"], a.get("ceil", False), a.get("cip", True)),
    "adaptive_avg_pool2d": lambda x, a: F.adaptive_avg_pool2d(x[0], a["size"]),
    "interpolate": interpolate,
    "affine_grid": lambda x, a: F.affine_grid(x[0], a["size"], align_corners=a["alignCorners"]),
    "grid_sample": lambda x, a: F.grid_sample(x[0], x[1], mode=a["mode"], padding_mode=a["paddingMode"],
                                              align_corners=a["alignCorners"]),
    "pad": lambda x, a: F.pad(x[0], a["pads"], a["mode"], a.get("value", 0.0)) if a["mode"] == "constant"
    else F.pad(x[0], a["pads"], a["mode"]),
    "l1_loss": lambda x, a: F.l1_loss(x[0], x[1], reduction=a["r"]),
    "mse_loss": lambda x, a: F.mse_loss(x[0], x[1], reduction=a["r"]),
    "smooth_l1_loss": lambda x, a: F.smooth_l1_loss(x[0], x[1], reduction=a["r"], beta=a["beta"]),
    "cross_entropy": lambda x, a: F.cross_entropy(x[0], x[1], weight=x[2] if len(x) > 2 else None,
                                                  reduction=a["r"], label_smoothing=a["ls"]),
    "bce_logits": lambda x, a: F.binary_cross_entropy_with_logits(x[0], x[1], reduction=a["r"],
                                                                  pos_weight=x[2] if len(x) > 2 else None),
    "adamw": adamw,
    "sgd": sgd,
    "clip_grad_norm": clip,
    "one_cycle": one_cycle,
}


def save(d, name, t):
    t = t.detach().contiguous()
    dtype = {torch.float32: "float32", torch.int64: "int64", torch.bool: "bool"}[t.dtype]
    t.numpy().tofile(os.path.join(d, name))
    return {"file": name, "shape": list(t.shape), "dtype": dtype}


def main():
    d = sys.argv[1]
    spec = json.load(open(os.path.join(d, "cases.json")))
    torch.set_num_threads(spec["threads"])
    result = {}
    for case in spec["cases"]:
        name = case["name"]
        try:
            xs = [load(d, s) for s in case["inputs"]]
            out = OPS[case["op"]](xs, case.get("attrs", {}))
            outs = list(out) if isinstance(out, (list, tuple)) else [out]
            entry = {"outputs": [save(d, f"{name}.out{i}.bin", o) for i, o in enumerate(outs)], "grads": []}
            gin = [x for x, s in zip(xs, case["inputs"]) if s.get("grad")]
            ups = case.get("upstream", [])
            if gin and ups:
                used = [outs[u["index"]] for u in ups]
                gs = [load(d, u) for u in ups]
                grads = torch.autograd.grad(used, gin, gs, allow_unused=True)
                grads = [g if g is not None else torch.zeros_like(x) for g, x in zip(grads, gin)]
                entry["grads"] = [save(d, f"{name}.grad{j}.bin", g) for j, g in enumerate(grads)]
            result[name] = entry
        except Exception as e:  # noqa: BLE001
            result[name] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(result, open(os.path.join(d, "result.json"), "w"))


if __name__ == "__main__":
    main()
