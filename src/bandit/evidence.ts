import type { DecayConfig, PolicyConfig } from './config.js';
import type { Evidence, Outcome } from './types.js';

export const EMPTY_EVIDENCE: Evidence = Object.freeze({ reward: 0, trials: 0, stamp: 0 });

const MS_PER_DAY = 86_400_000;

/**
 * The reward an outcome teaches, or null when it teaches nothing.
 * Infra errors are not the template's fault, so they are recorded but never learned from; an
 * unverified run says nothing about whether the work was right, so it teaches nothing either.
 */
export function rewardOf(outcome: Outcome, config: PolicyConfig): number | null {
  switch (outcome) {
    case 'pass':
      return 1;
    case 'partial':
      return config.partialReward;
    case 'fail':
    case 'timeout':
      return 0;
    case 'infra_error':
    case 'unverified':
      return null;
  }
}

function decayFactor(decay: DecayConfig, elapsed: number): number {
  const units = decay.unit === 'days' ? elapsed / MS_PER_DAY : elapsed;
  return Math.pow(2, -units / decay.halfLife);
}

/**
 * Adds one run's reward to the evidence, forgetting old evidence when decay is on.
 * Day-based decay keeps the sum Σ wᵢ·2^(−(stamp − tᵢ)/halfLife) at the newest finish time,
 * so the result does not depend on the order runs arrive in.
 * @param reward in [0, 1]
 * @param finishedAtMs the run's finish time (used by day-based decay only)
 */
export function addReward(e: Evidence, reward: number, finishedAtMs: number, decay: DecayConfig | null): Evidence {
  if (decay === null) return { reward: e.reward + reward, trials: e.trials + 1, stamp: 0 };
  if (decay.unit === 'runs') {
    const f = decayFactor(decay, 1);
    return { reward: e.reward * f + reward, trials: e.trials * f + 1, stamp: e.stamp + 1 };
  }
  if (e.trials === 0 || finishedAtMs >= e.stamp) {
    const f = e.trials === 0 ? 1 : decayFactor(decay, finishedAtMs - e.stamp);
    return { reward: e.reward * f + reward, trials: e.trials * f + 1, stamp: finishedAtMs };
  }
  const w = decayFactor(decay, e.stamp - finishedAtMs);
  return { reward: e.reward + w * reward, trials: e.trials + w, stamp: e.stamp };
}

/**
 * The evidence as seen at `nowMs`: day-based decay also forgets between the last run and now.
 * Run-based decay and no decay return the evidence unchanged.
 */
export function evidenceAt(e: Evidence, nowMs: number, decay: DecayConfig | null): Evidence {
  if (decay === null || decay.unit === 'runs' || e.trials === 0 || nowMs <= e.stamp) return e;
  const f = decayFactor(decay, nowMs - e.stamp);
  return { reward: e.reward * f, trials: e.trials * f, stamp: nowMs };
}

/**
 * Evidence in `outer` that is not in `inner` (e.g. a task class's other repositories).
 * Both are first brought to the same decay clock; rounding can leave tiny negatives, clamped to 0.
 */
export function subtractEvidence(outer: Evidence, inner: Evidence, decay: DecayConfig | null): Evidence {
  let o = outer;
  let i = inner;
  if (decay !== null && decay.unit === 'days') {
    const t = Math.max(o.stamp, i.stamp);
    o = evidenceAt(o, t, decay);
    i = evidenceAt(i, t, decay);
  }
  const trials = Math.max(0, o.trials - i.trials);
  const reward = Math.min(trials, Math.max(0, o.reward - i.reward));
  return { reward, trials, stamp: o.stamp };
}
