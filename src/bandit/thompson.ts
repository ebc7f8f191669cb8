import { betaMean, betaVariance, sampleBeta, sampleNormal } from './distributions.js';
import type { Rng } from './rng.js';

/** A candidate's Beta posterior parameters. */
export interface BetaParams {
  readonly alpha: number;
  readonly beta: number;
}

/**
 * Thompson sampling: draw one pass rate per candidate from its posterior and pick the highest.
 * Reference: Thompson (1933); Agrawal & Goyal (2012), "Analysis of Thompson sampling for the
 * multi-armed bandit problem".
 * @returns the index of the chosen candidate (ties go to the earlier one).
 */
export function thompsonPick(posteriors: readonly BetaParams[], rng: Rng): number {
  let best = 0;
  let bestDraw = -1;
  for (let i = 0; i < posteriors.length; i++) {
    const p = posteriors[i]!;
    const draw = sampleBeta(rng, p.alpha, p.beta);
    if (draw > bestDraw) {
      best = i;
      bestDraw = draw;
    }
  }
  return best;
}

/** How the policy turns one posterior draw per candidate into a pick. */
export interface PickRule {
  /** Satisficing tolerance ε on the drawn pass rates; 0 is plain Thompson sampling. */
  readonly tolerance: number;
  /** Candidate indices, preferred first (highest posterior mean, or most evidence): the satisficing rule takes the earliest within tolerance. */
  readonly order: readonly number[];
}

/**
 * Satisficing Thompson sampling: draw one pass rate per candidate, then pick the first candidate in
 * `rule.order` whose draw is within `rule.tolerance` of the highest draw. With many candidates,
 * plain Thompson sampling keeps paying to tell near-equal templates apart and to re-check weak ones;
 * accepting any template that is plausibly within ε of the best stops that. Taking the earliest in
 * `rule.order` (by default the highest posterior mean) makes the rule stick with the best-estimated
 * template unless a draw shows another to be plausibly more than ε better.
 * Reference: Russo & Van Roy (2022), "Satisficing in time-sensitive bandit learning", Math. of OR.
 * With tolerance 0 this is exactly `thompsonPick` (same draws, same pick).
 */
export function satisficingPick(posteriors: readonly BetaParams[], rule: PickRule, rng: Rng): number {
  if (rule.tolerance <= 0) return thompsonPick(posteriors, rng);
  const draws = new Float64Array(posteriors.length);
  let max = -1;
  for (let i = 0; i < posteriors.length; i++) {
    const p = posteriors[i]!;
    draws[i] = sampleBeta(rng, p.alpha, p.beta);
    if (draws[i]! > max) max = draws[i]!;
  }
  return firstWithin(draws, rule, max);
}

function firstWithin(draws: ArrayLike<number>, rule: PickRule, max: number, slot?: (i: number) => number | undefined): number {
  for (const i of rule.order) {
    const t = slot ? slot(i) : i;
    if (t !== undefined && draws[t]! >= max - rule.tolerance) return i;
  }
  // Unreachable: the candidate holding the maximum always qualifies.
  return rule.order[0]!;
}

/** Monte Carlo summary of a candidate set's posteriors. */
export interface SetSummary {
  /** P(candidate i has the highest pass rate). */
  readonly probBest: readonly number[];
  /** P(the policy picks candidate i): equals probBest under plain Thompson sampling, not under satisficing. */
  readonly propensity: readonly number[];
  /** For each candidate as the choice: 2.5% and 97.5% quantiles of θ_choice − mean(θ). */
  readonly liftIntervals: ReadonlyArray<readonly [number, number]>;
  /** Draws used per candidate. */
  readonly samples: number;
}

// Candidates whose mean is this many standard deviations below the best lower bound are treated
// as never best: their P(best) is below ~1e-9 and drawing them would make the work grow as
// candidates × samples.
const PRUNE_SDS = 6;
// Above this many contenders, draws per candidate shrink so the total stays bounded.
const FULL_SAMPLE_CONTENDERS = 16;
const MIN_SAMPLES = 256;

/**
 * Estimates P(best) for every candidate and the lift interval of any choice by Monte Carlo.
 * Work is bounded: candidates that cannot plausibly be best are pruned (normal bound, 6 sd),
 * and with more than 16 contenders the draws per candidate fall to keep the total near
 * 16 × `samples`. The pruned candidates enter the lift through a normal approximation of their sum.
 * @param samples draws per candidate, ≥ 100
 */
export function summarizeSet(posteriors: readonly BetaParams[], rng: Rng, samples: number, rule?: PickRule): SetSummary {
  const tolerance = rule?.tolerance ?? 0;
  const k = posteriors.length;
  const means = posteriors.map((p) => betaMean(p.alpha, p.beta));
  const sds = posteriors.map((p) => Math.sqrt(betaVariance(p.alpha, p.beta)));
  let bestLower = -Infinity;
  for (let i = 0; i < k; i++) bestLower = Math.max(bestLower, means[i]! - PRUNE_SDS * sds[i]!);
  // A satisficing pick can land on a candidate up to ε below the best draw, so keep those too.
  bestLower -= tolerance;
  const contenders: number[] = [];
  let restMean = 0;
  let restVar = 0;
  for (let i = 0; i < k; i++) {
    if (means[i]! + PRUNE_SDS * sds[i]! >= bestLower) contenders.push(i);
    else {
      restMean += means[i]!;
      restVar += sds[i]! * sds[i]!;
    }
  }
  const c = contenders.length;
  const m = c <= FULL_SAMPLE_CONTENDERS ? samples : Math.max(MIN_SAMPLES, Math.floor((samples * FULL_SAMPLE_CONTENDERS) / c));
  const restSd = Math.sqrt(restVar);
  const wins = new Float64Array(k);
  const picks = new Float64Array(k);
  const slotOf = new Int32Array(k).fill(-1);
  contenders.forEach((i, t) => (slotOf[i] = t));
  const slot = (i: number) => (slotOf[i]! >= 0 ? slotOf[i]! : undefined);
  // draws[j * c + t]: draw j of contender t; sums[j]: the sum of all k pass rates in draw j.
  const draws = new Float64Array(m * c);
  const sums = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let bestT = 0;
    let bestDraw = -1;
    let sum = restSd > 0 ? restMean + restSd * sampleNormal(rng) : restMean;
    for (let t = 0; t < c; t++) {
      const p = posteriors[contenders[t]!]!;
      const d = sampleBeta(rng, p.alpha, p.beta);
      draws[j * c + t] = d;
      sum += d;
      if (d > bestDraw) {
        bestDraw = d;
        bestT = t;
      }
    }
    sums[j] = sum;
    wins[contenders[bestT]!]! += 1;
    if (tolerance > 0 && rule !== undefined) {
      picks[firstWithin(draws.subarray(j * c, (j + 1) * c), rule, bestDraw, slot)]! += 1;
    }
  }
  const probBest = Array.from(wins, (w) => w / m);
  const propensity = tolerance > 0 ? Array.from(picks, (w) => w / m) : probBest;
  // Every candidate's interval now, so the summary keeps no draws (caches hold thousands of summaries).
  const lifts = new Float64Array(m);
  const contenderInterval = (t: number): readonly [number, number] => {
    for (let j = 0; j < m; j++) lifts[j] = draws[j * c + t]! - sums[j]! / k;
    lifts.sort();
    return [quantileSorted(lifts, 0.025), quantileSorted(lifts, 0.975)];
  };
  // A pruned choice is far below the best; its own spread is negligible next to the set's, so its
  // lift is its mean minus the mean pass rate, whose quantiles are shared.
  let rate: readonly [number, number] | undefined;
  const prunedInterval = (mean: number): readonly [number, number] => {
    if (rate === undefined) {
      const meanRate = Float64Array.from(sums, (x) => x / k).sort();
      rate = [quantileSorted(meanRate, 0.025), quantileSorted(meanRate, 0.975)];
    }
    return [mean - rate[1], mean - rate[0]];
  };
  const liftIntervals = means.map((mean, i): readonly [number, number] => {
    const t = slot(i);
    return t === undefined ? prunedInterval(mean) : contenderInterval(t);
  });
  return { probBest, propensity, liftIntervals, samples: m };
}

/** Linear-interpolated quantile of sorted values (type 7, as in R's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
