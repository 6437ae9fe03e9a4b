"""Reference Grad-CAM (Selvaraju et al. 2017) and HiResCAM (Draelos & Carin 2020) in PyTorch for
test/explain/grad-cam-parity.test.ts.

Reads a safetensors state dict of a torchvision ResNet-18 with a 1-channel stem and the bone-age head
(avgpool -> features + sex -> fc -> ReLU), an input image and the sex value; prints the map of the output of
layer `stage` (1-4, default 4) weighed by the gradient's spatial mean per channel (grad-cam) or by the gradient at
each position (hirescam), summed over channels (bilinear upsampling, align_corners=False, ReLU, divided by its
maximum), and the score, as JSON.
usage: grad_cam_reference.py weights.safetensors input.f32 size sex [grad-cam|hirescam] [stage]
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        dtype = {'F32': np.float32, 'I64': np.int64}[info['dtype']]
        arr = np.frombuffer(body[start:end], dtype=dtype).reshape(info['shape'])
        out[name] = torch.from_numpy(arr.copy())
    return out


def main():
    weights, input_path, size, sex = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    method = sys.argv[5] if len(sys.argv) > 5 else 'grad-cam'
    stage = int(sys.argv[6]) if len(sys.argv) > 6 else 4
    model = torchvision.models.resnet18(num_classes=1)
    model.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    model.fc = torch.nn.Linear(513, 1)
    model.load_state_dict(read_safetensors(weights))
    model.eval()
    x = torch.from_numpy(np.fromfile(input_path, dtype=np.float32).reshape(1, 1, size, size))
    m = model
    layers = [m.layer1, m.layer2, m.layer3, m.layer4]
    h = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    for layer in layers[:stage]:
        h = layer(h)
    feats = h
    feats.retain_grad()
    for layer in layers[stage:]:
        h = layer(h)
    pooled = torch.flatten(m.avgpool(h), 1)
    score = F.relu(m.fc(torch.cat([pooled, torch.tensor([[sex]])], 1)))[0, 0]
    score.backward()
    weights_c = feats.grad if method == 'hirescam' else feats.grad.mean(dim=(2, 3), keepdim=True)
    cam = (feats.detach() * weights_c).sum(1, keepdim=True)
    cam = F.relu(F.interpolate(cam, size=(size, size), mode='bilinear', align_corners=False))
    cam = cam / cam.max() if cam.max() > 0 else cam
    print(json.dumps({'score': float(score), 'map': cam.flatten().tolist()}))


if __name__ == '__main__':
    main()
