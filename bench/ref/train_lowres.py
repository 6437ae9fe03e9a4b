"""PyTorch reference training loop for bench/train-lowres.bench.ts.

The plain script a researcher would write for the RSNA films at 100 px: a Dataset that decodes each PNG once (PIL),
keeps the 100-px film in memory, resamples it to the input side, and augments it per sample (a random affine warp and
gamma/contrast/brightness, as torchvision transforms); a DataLoader with one worker process; the same network as the
Physis side (half-width ResNet-18, 1-channel stem, sex concatenated and one linear head per sex), AdamW, L1 loss.
Images per second are counted over the training steps of each epoch after its first, as on the Physis side.

usage: train_lowres.py <spec.json>
  spec: {"threads": 2, "size": 128, "batch": 32, "epochs": 3, "width": 32,
         "items": [{"path": "...png", "boneAgeMonths": 120, "male": 1}, ...]}
Prints one JSON document on stdout: {"imagesPerSecond": [epoch 1, epoch 2, ...]}.
"""
import json
import math
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision.models.resnet import BasicBlock, ResNet


class HalfResNet18(ResNet):
    """torchvision's ResNet-18 at base width `w`, 1-channel stem, sex concatenated, one linear head per sex."""

    def __init__(self, w):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = w, 1, 1, 64
        self.conv1 = nn.Conv2d(1, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(BasicBlock, w, 2)
        self.layer2 = self._make_layer(BasicBlock, 2 * w, 2, stride=2)
        self.layer3 = self._make_layer(BasicBlock, 4 * w, 2, stride=2)
        self.layer4 = self._make_layer(BasicBlock, 8 * w, 2, stride=2)
        self.fc = nn.Linear(8 * w + 1, 2)

    def forward(self, x, sex):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        out = self.fc(torch.cat([x, sex], 1))
        return F.relu(out[:, :1] * (1 - sex) + out[:, 1:] * sex)


class Films(torch.utils.data.Dataset):
    def __init__(self, items, size):
        self.items, self.size, self.cache = items, size, {}

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        it = self.items[i]
        img = self.cache.get(i)
        if img is None:
            a = np.asarray(Image.open(it['path']).convert('L'), dtype=np.float32) / 255.0
            lo, hi = np.percentile(a, [0.5, 99.5])
            a = np.clip((a - lo) / max(hi - lo, 1e-6), 0, 1)
            t = torch.from_numpy(a)[None, None]
            img = F.interpolate(t, size=(self.size, self.size), mode='bilinear', align_corners=False, antialias=True)[0]
            self.cache[i] = img
        # one affine warp (rotation ±15°, scale 0.9–1.1, translation ±6%), then gamma, contrast, brightness
        ang = math.radians(random.uniform(-15, 15))
        s = math.exp(random.uniform(math.log(0.9), math.log(1.1)))
        tx, ty = random.uniform(-0.12, 0.12), random.uniform(-0.12, 0.12)
        theta = torch.tensor([[math.cos(ang) / s, -math.sin(ang) / s, tx], [math.sin(ang) / s, math.cos(ang) / s, ty]], dtype=torch.float32)
        grid = F.affine_grid(theta[None], [1, 1, self.size, self.size], align_corners=False)
        x = F.grid_sample(img[None], grid, mode='bilinear', padding_mode='zeros', align_corners=False)[0]
        x = x.clamp(0, 1) ** random.uniform(0.8, 1.25)
        x = ((x - 0.5) * random.uniform(0.85, 1.18) + 0.5 + random.uniform(-0.05, 0.05)).clamp(0, 1)
        return x, torch.tensor([float(it['male'])]), torch.tensor([float(it['boneAgeMonths'])])


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec['threads'])
    torch.manual_seed(1)
    random.seed(1)
    net = HalfResNet18(spec['width'])
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
    # persistent workers keep the per-worker cache of decoded films between epochs, as Physis's loader workers do
    loader = torch.utils.data.DataLoader(Films(spec['items'], spec['size']), batch_size=spec['batch'], shuffle=True,
                                         num_workers=1, persistent_workers=True, drop_last=True)
    rates = []
    for _ in range(spec['epochs']):
        net.train()
        seen, t0 = 0, None
        for x, sex, y in loader:
            opt.zero_grad(set_to_none=True)
            loss = F.l1_loss(net(x, sex), y)
            loss.backward()
            opt.step()
            # timed from the end of the first step, as the Physis side times from its first progress event
            if t0 is None:
                t0 = time.perf_counter()
            else:
                seen += x.shape[0]
        rates.append(seen / (time.perf_counter() - t0))
    print(json.dumps({'imagesPerSecond': rates}))


if __name__ == '__main__':
    main()
