// A one-rank c10d group over NCCL on the GPU this machine has: all-reduce, broadcast and barrier on CUDA tensors,
// through the addon built by build-addon-cuda.sh. One GPU cannot host two NCCL ranks (NCCL refuses a duplicate
// device), so this checks the NCCL path end to end with world size 1, not the scaling.
// Usage (repository root, after the build): node scripts/device-train/nccl-check.mjs
import { distributedBackends, initProcessGroup, tensor } from '../../dist/torch/index.js';

const backends = distributedBackends();
console.log(`c10d backends in this addon: ${backends.join(', ') || 'none'}`);
if (!backends.includes('nccl')) process.exit(2);
const t0 = Date.now();
const group = await initProcessGroup({ rank: 0, worldSize: 1, masterAddr: '127.0.0.1', masterPort: 29561, backend: 'nccl', timeoutMs: 60_000 });
const x = tensor([1, 2, 3, 4], [4]).to('cuda');
await group.allReduce(x);
await group.broadcast(x, 0);
await group.barrier();
const back = Array.from(x.to('cpu').toFloat32Array());
group.destroy();
const ok = back.join(',') === '1,2,3,4';
console.log(`nccl world size 1: all-reduce, broadcast, barrier on cuda ${ok ? 'ok' : `WRONG ${back.join(',')}`} (${Date.now() - t0} ms)`);
process.exit(ok ? 0 : 1);
