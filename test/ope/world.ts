import type { Rng } from '../../src/bandit/index.js';
import type { LoggedDecision } from '../../src/ope/index.js';

/** Contexts drawn uniformly, arms drawn from fixed per-context propensities, Bernoulli rewards at known rates. */
export interface World {
  readonly contexts: readonly string[];
  readonly arms: readonly string[];
  readonly rates: Readonly<Record<string, readonly number[]>>;
  readonly probs: Readonly<Record<string, readonly number[]>>;
}

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The true values of uniform and of the logging policy, in closed form from the world. */
export const truths = (w: World) => ({
  uniform: mean(w.contexts.map((c) => mean(w.rates[c]!))),
  logging: mean(w.contexts.map((c) => w.rates[c]!.reduce((a, r, i) => a + r * w.probs[c]![i]!, 0))),
});

export function logOf(w: World, n: number, rng: Rng): LoggedDecision[] {
  const out: LoggedDecision[] = [];
  for (let i = 0; i < n; i++) {
    const context = w.contexts[Math.floor(rng.next() * w.contexts.length)]!;
    const probs = w.probs[context]!;
    let u = rng.next();
    let k = 0;
    while (k < probs.length - 1 && (u -= probs[k]!) >= 0) k++;
    const reward = rng.next() < w.rates[context]![k]! ? 1 : 0;
    out.push({ context, candidates: w.arms, chosen: w.arms[k]!, propensity: probs[k]!, reward });
  }
  return out;
}

/** A logging policy with moderate propensities (0.08–0.55). */
