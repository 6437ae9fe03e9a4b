/** Learning-rate schedules as pure functions step → lr (0-based steps). */

/**
 * Linear warm-up from baseLr/warmupSteps to baseLr over `warmupSteps`, then cosine annealing to `minLr` at
 * `totalSteps` (Loshchilov & Hutter 2017, SGDR without restarts; Goyal et al. 2017 warm-up).
 */
export function warmupCosine(o: {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  minLr?: number;
}): (step: number) => number {
  const minLr = o.minLr ?? 0;
  return (step: number): number => {
    if (step < o.warmupSteps) return (o.baseLr * (step + 1)) / o.warmupSteps;
    const span = Math.max(1, o.totalSteps - o.warmupSteps);
    const progress = Math.min(1, (step - o.warmupSteps) / span);
    return minLr + 0.5 * (o.baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * One-cycle policy (Smith & Topin 2019) as torch.optim.lr_scheduler.OneCycleLR with cosine annealing, two phases:
 * maxLr/divFactor → maxLr over pctStart of the steps, then → maxLr/(divFactor·finalDivFactor).
 */
export function oneCycle(o: {
  maxLr: number;
  totalSteps: number;
  pctStart?: number;
  divFactor?: number;
  finalDivFactor?: number;
}): (step: number) => number {
  const pctStart = o.pctStart ?? 0.3;
  const initial = o.maxLr / (o.divFactor ?? 25);
  const min = initial / (o.finalDivFactor ?? 1e4);
  const end1 = pctStart * o.totalSteps - 1;
  const end2 = o.totalSteps - 1;
  const anneal = (start: number, end: number, pct: number): number =>
    end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  return (step: number): number => {
    if (step <= end1) return anneal(initial, o.maxLr, end1 > 0 ? step / end1 : 1);
    return anneal(o.maxLr, min, Math.min(1, (step - end1) / (end2 - end1)));
  };
}
