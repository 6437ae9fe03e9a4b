# Recipe sweep for the hand bone-age model: a PyTorch mirror of Physis' bone-age trainer, to rank recipes on a GPU
# in minutes before spending two CPU hours on one (see README.md). Mirrors src/train: ResNet-18 with a 1-channel
# stem, GAP -> [features, sex] -> linear -> ReLU in months, final bias = training mean, L1 in months, AdamW,
# linear warm-up + cosine to 0.01 x lr per step, affine warp then gamma/contrast/brightness, dev MAE each epoch.
# It is a reference for choosing a recipe, never a runtime dependency; the shipped model is trained by Physis.
# usage: python3 sweep.py '<config json>' results.jsonl   (env DATA: folder from export-preprocessed.ts, DEV: cuda|cpu)
import json, math, sys, time, lzma, os
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F, torchvision
cfg = json.loads(sys.argv[1]); out = sys.argv[2]
torch.manual_seed(cfg.get('seed', 1)); np.random.seed(cfg.get('seed', 1))
dev = os.environ.get('DEV', 'cuda')
torch.backends.cudnn.benchmark = True
torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
data = os.environ.get('DATA', '.sweep')
meta = json.load(open(os.path.join(data, 'meta.json')))
raw = np.fromfile(os.path.join(data, 'images320.u8'), dtype=np.uint8).reshape(len(meta), 1, 320, 320)
X = torch.from_numpy(raw).to(dev).float() / 255
S = cfg['size']
if S != 320: X = F.interpolate(X, size=(S, S), mode='bilinear', antialias=True, align_corners=False)
age = torch.tensor([m['boneAgeMonths'] for m in meta], dtype=torch.float32, device=dev)
sex = torch.tensor([1.0 if m['sex'] == 'M' else 0.0 for m in meta], device=dev)
tr = torch.tensor([i for i, m in enumerate(meta) if m['split'] == 'train'], device=dev)
dv = torch.tensor([i for i, m in enumerate(meta) if m['split'] == 'dev'], device=dev)
class Net(nn.Module):
    def __init__(s, arch):
        super().__init__()
        m = getattr(torchvision.models, arch)()
        m.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        nf = m.fc.in_features; m.fc = nn.Identity(); s.b = m
        s.fc = nn.Linear(nf + 1, 1)
        with torch.no_grad(): s.fc.bias.fill_(float(age[tr].mean()))
    def forward(s, x, sx): return F.relu(s.fc(torch.cat([s.b(x), sx[:, None]], 1)))[:, 0]
net = Net(cfg.get('arch', 'resnet18')).to(dev).to(memory_format=torch.channels_last)
a = cfg.get('aug', {})
rot, sc, trn = a.get('rot', 15), a.get('scale', [0.9, 1.1]), a.get('translate', 0.06)
br, ct, gm = a.get('bright', 0.05), a.get('contrast', [0.85, 1.18]), a.get('gamma', [0.8, 1.25])
def logu(n, r): return torch.exp(torch.empty(n, device=dev).uniform_(math.log(r[0]), math.log(r[1])))
def augment(x):
    n = x.shape[0]
    th = torch.empty(n, device=dev).uniform_(-rot, rot) * math.pi / 180
    s = logu(n, sc); tx = torch.empty(n, device=dev).uniform_(-trn, trn) * 2; ty = torch.empty(n, device=dev).uniform_(-trn, trn) * 2
    # output->input map: inverse of (rotate by th, scale by s, translate)
    c, si = torch.cos(th) / s, torch.sin(th) / s
    A = torch.stack([torch.stack([c, si, -(c * tx + si * ty)], 1), torch.stack([-si, c, -(-si * tx + c * ty)], 1)], 1)
    g = F.affine_grid(A, list(x.shape), align_corners=False)
    x = F.grid_sample(x, g, mode='bilinear', padding_mode='zeros', align_corners=False)
    x = x.clamp(min=0) ** logu(n, gm)[:, None, None, None]
    m = x.mean((1, 2, 3), keepdim=True)
    x = (x - m) * logu(n, ct)[:, None, None, None] + m
    return x + torch.empty(n, 1, 1, 1, device=dev).uniform_(-br, br)
E, B, lr = cfg['epochs'], cfg.get('batch', 16), cfg.get('lr', 1e-3)
opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=cfg.get('wd', 1e-4))
spe = math.ceil(len(tr) / B); total = E * spe; warm = spe * cfg.get('warmup', 1)
def lr_at(k):
    if k < warm: return lr * (k + 1) / warm
    p = (k - warm) / max(1, total - warm); return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * p)))
def evaluate(tta=0):
    net.eval(); preds = []
    with torch.no_grad():
        for i in range(0, len(dv), 64):
            idx = dv[i:i + 64]; x = X[idx].contiguous(memory_format=torch.channels_last)
            p = net(x, sex[idx])
            if tta:
                for _ in range(tta - 1): p = p + net(augment(x), sex[idx])
                p = p / tta
            preds.append(p)
    net.train(); p = torch.cat(preds); e = p - age[dv]
    return float(e.abs().mean()), float(e.mean())
k = 0; t0 = time.time(); hist = []; best = (1e9, -1)
for ep in range(E):
    perm = tr[torch.randperm(len(tr), device=dev)]; tl = 0.0
    for i in range(0, len(perm), B):
        idx = perm[i:i + B]
        for gph in opt.param_groups: gph['lr'] = lr_at(k)
        x = augment(X[idx]).contiguous(memory_format=torch.channels_last)
        loss = (net(x, sex[idx]) - age[idx]).abs().mean()
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); k += 1; tl += float(loss) * len(idx)
    mae, bias = evaluate(); hist.append(round(mae, 2))
    if mae < best[0]: best = (mae, ep)
res = dict(cfg=cfg, final=hist[-1], best=round(best[0], 2), bestEpoch=best[1], tta8=round(evaluate(8)[0], 2), trainLoss=round(tl / len(tr), 2), last5=hist[-5:], sec=round(time.time() - t0, 1))
print(json.dumps(res)); open(out, 'a').write(json.dumps(res) + '\n')
