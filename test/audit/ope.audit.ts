import { test } from 'vitest';
import { createRng } from '../../src/bandit/index.js';
import { ESTIMATORS, liftOverUniform } from '../../src/ope/index.js';
import { logOf, truths, type World } from '../ope/world.js';

const WORLDS: Record<string, World> = {
  // One template at 0.97 in every context, each other at 0.01: weights of 25.
  det: {
    contexts: ['x', 'y', 'z'], arms: ['a', 'b', 'c', 'd'],
    rates: { x: [0.6, 0.3, 0.8, 0.5], y: [0.4, 0.7, 0.2, 0.6], z: [0.7, 0.5, 0.4, 0.9] },
    probs: { x: [0.97, 0.01, 0.01, 0.01], y: [0.01, 0.97, 0.01, 0.01], z: [0.97, 0.01, 0.01, 0.01] },
  },
  // The rarely logged templates are the good ones with rare successes at the leader: rewards near 0/1 extremes.
  detlow: {
    contexts: ['x'], arms: ['a', 'b', 'c', 'd', 'e', 'f'],
    rates: { x: [0.1, 0.9, 0.05, 0.95, 0.5, 0.02] },
    probs: { x: [0.95, 0.01, 0.01, 0.01, 0.01, 0.01] },
  },
  // Two candidates, nearly deterministic.
  det2: {
    contexts: ['x', 'y'], arms: ['a', 'b'],
    rates: { x: [0.3, 0.8], y: [0.7, 0.2] },
    probs: { x: [0.99, 0.01], y: [0.01, 0.99] },
  },
};
test('ope', async () => {
  const name = process.env.SCEN!;
  const reps = Number(process.env.REPS ?? 1000);
  const w = WORLDS[name]!;
  const { uniform, logging } = truths(w);
  const lift = logging - uniform;
  for (const n of [400, 1500]) {
    const rng = createRng(`audit-ope-${name}-${n}`);
    const cov: Record<string, number> = {};
    const bias: Record<string, number> = {};
    const count = (k: string, iv: { ciLow: number; ciHigh: number; estimate: number }, t: number) => {
      cov[k] = (cov[k] ?? 0) + (iv.ciLow <= t && t <= iv.ciHigh ? 1 : 0);
      bias[k] = (bias[k] ?? 0) + (iv.estimate - t);
    };
    for (let r = 0; r < reps; r++) {
      const est = liftOverUniform(logOf(w, n, rng));
      count('deployed', est.deployed, logging);
      for (const e of ESTIMATORS) { count(`uniform ${e}`, est.uniform[e], uniform); count(`lift ${e}`, est.lift[e], lift); }
    }
    const se = Math.sqrt(0.95 * 0.05 / reps);
    console.info(`SCEN ope ${name} n ${n} reps ${reps} (SE at 95%: ${(100 * se).toFixed(1)}): ` + Object.keys(cov).map((k) => `${k} ${(100 * cov[k]! / reps).toFixed(1)}% (bias ${(100 * bias[k]! / reps).toFixed(2)})`).join('; '));
  }
});
