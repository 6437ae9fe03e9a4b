#!/usr/bin/python3
"""Reference fixtures for the model-zoo parity tests (test/models/parity.test.ts).

For each torchvision architecture: build it with a fixed seed, give every normalisation layer non-trivial
statistics and affine parameters (fresh BatchNorm is the identity in eval mode, and ConvNeXt's layer scale of 1e-6
would hide its blocks, so an untouched model would let a wrong block pass), switch to eval mode, and run a fixed
input at a reduced size. Writes, per architecture, ``<name>.safetensors`` (the full state dict, as
``model.state_dict()`` names it, num_batches_tracked included) and ``<name>.io.safetensors`` (``input``,
``output``, ``features``, ``weighting`` and ``inputGrad``, the gradient of sum(output * weighting) w.r.t. the input; ``trainFeatures`` and ``after.<buffer>``,
the feature map of one train-mode pass in float64 and every buffer after it, with ``torchErr.<name>``, PyTorch's
own float32 error on each), then ``manifest.json`` last, so a partial run is never mistaken for a complete one.

Safetensors is written by hand (Debian has no python3-safetensors): an 8-byte little-endian header length, the
JSON header, the raw little-endian bytes (https://github.com/huggingface/safetensors, "Format").

Usage: /usr/bin/python3 test/models/ref/make_fixtures.py OUT_DIR [--size N] [NAME ...]
(--size runs every architecture at N x N instead of its reduced default; the slow suite uses 224.)
"""
import copy
import json
import os
import struct
import sys
import time

import torch
import torchvision
import torchvision.models as tvm

# name, input side, batch. Sizes are the smallest that keep every stage's map >= 2x2 (stride 32), except the
# wide B6/V2-M, run at 32 to keep the default test suite fast (1x1 maps still exercise every layer).
CASES = [
    ("resnet18", 64, 2),
    ("resnet50", 64, 2),
    ("densenet121", 64, 2),
    ("efficientnet_b0", 64, 2),
    ("efficientnet_b6", 32, 2),
    ("efficientnet_v2_s", 64, 2),
    ("efficientnet_v2_m", 32, 2),
    ("convnext_tiny", 64, 2),
    ("convnext_small", 32, 2),
]

DTYPES = {torch.float32: "F32", torch.int64: "I64"}


def write_safetensors(path, tensors, metadata=None):
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)  # pad so the data starts 8-byte aligned, as the reference writer does
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def perturb(model, gen):
    """Non-trivial norm statistics and affine parameters, and a visible ConvNeXt layer scale."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
                m.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
            elif isinstance(m, torch.nn.LayerNorm):
                shape = m.weight.shape
                m.weight.copy_(torch.rand(shape, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(shape, generator=gen) * 0.1)
            elif type(m).__name__ == "CNBlock":
                m.layer_scale.copy_(torch.rand(m.layer_scale.shape, generator=gen) * 0.2 + 0.1)


def features(name, model, x):
    """The last convolutional feature map, as Physis' forwardFeatures returns it (the input of global pooling)."""
    if name.startswith("resnet"):
        m = model
        y = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        return m.layer4(m.layer3(m.layer2(m.layer1(y))))
    if name.startswith("densenet"):
        return torch.relu(model.features(x))
    return model.features(x)


def main():
    args = sys.argv[2:]
    size_override = None
    if args[:1] == ["--size"]:
        size_override = int(args[1])
        args = args[2:]
    out = sys.argv[1]
    names = set(args)
    os.makedirs(out, exist_ok=True)
    # One thread: with two, this machine spent 80 s instead of 6 s on EfficientNet-B6 (OpenMP contention).
    torch.set_num_threads(1)
    manifest = {"torch": torch.__version__, "torchvision": torchvision.__version__, "cases": []}
    for name, size, batch in CASES:
        if names and name not in names:
            continue
        size = size_override or size
        t0 = time.time()
        torch.manual_seed(0)
        # No stochastic depth, so that the train-mode pass below is deterministic (it has no parameters, so the
        # weights are the same either way).
        kwargs = {"stochastic_depth_prob": 0.0} if name.startswith(("efficientnet", "convnext")) else {}
        model = getattr(tvm, name)(**kwargs)
        gen = torch.Generator().manual_seed(1)
        perturb(model, gen)
        write_safetensors(os.path.join(out, name + ".safetensors"), model.state_dict(), {"arch": name})
        model.eval()
        x = torch.randn(batch, 3, size, size, generator=gen)
        with torch.no_grad():
            y = model(x)
            f = features(name, model, x)
        # Gradient of a fixed weighting of the logits with respect to the input: backward through every block.
        weighting = torch.randn(y.shape, generator=gen)
        xg = x.clone().requires_grad_(True)
        (model(xg) * weighting).sum().backward()
        # PyTorch's own float32 error on that gradient (against float64): max pooling and long sums make it large
        # relative to the gradient at 224x224 (1e-2 for DenseNet-121), so it scales the bound Physis is held to.
        model64 = copy.deepcopy(model).double()
        xg64 = x.double().requires_grad_(True)
        (model64(xg64) * weighting.double()).sum().backward()
        grad_err = (xg.grad.double() - xg64.grad).abs().max().float()
        # One train-mode pass: BatchNorm normalises with batch statistics and updates its running statistics with
        # the architecture's momentum (0.01 for B6). Batch statistics over few values are ill-conditioned (at 1x1
        # maps PyTorch's own float32 result differs from float64 by O(1)), so the reference is the float64 pass and
        # each quantity carries PyTorch's own float32 error ("torchErr.*"), the scale Physis is held to.
        model.train()
        model64.train()
        with torch.no_grad():
            f32 = features(name, model, x)
            f64 = features(name, model64, x.double())
        io = {
            "input": x,
            "output": y,
            "features": f,
            "weighting": weighting,
            "inputGrad": xg.grad,
            "torchErr.inputGrad": grad_err,
            "trainFeatures": f64.float(),
            "torchErr.trainFeatures": (f32.double() - f64).abs().max().float(),
        }
        buffers32 = dict(model.named_buffers())
        for key, buf in model64.named_buffers():
            if buf.dtype == torch.int64:
                io["after." + key] = buf
            else:
                io["after." + key] = buf.float()
                io["torchErr." + key] = (buffers32[key].double() - buf).abs().max().float()
        write_safetensors(os.path.join(out, name + ".io.safetensors"), io, {"arch": name})
        manifest["cases"].append(
            {"name": name, "size": size, "batch": batch, "outputAbsMax": float(y.abs().max()),
             "featuresAbsMax": float(f.abs().max()),
             "inputGradAbsMax": float(xg.grad.abs().max()), "seconds": time.time() - t0}
        )
        print(f"{name}: input {list(x.shape)} output {list(y.shape)} |y|max {float(y.abs().max()):.3f} "
              f"features {list(f.shape)} |f|max {float(f.abs().max()):.3f} "
              f"{time.time() - t0:.1f}s", file=sys.stderr)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
