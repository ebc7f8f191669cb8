import { betaMean, betaSurvival, betaVariance, sampleBeta, sampleNormal } from './distributions.js';
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

/**
 * The candidates' joint posterior when a shared parameter is integrated out (the base prior's strength,
 * policy /7): component g, with probability weights[g], gives every candidate its Beta components[g][i].
 * One draw takes one component for all candidates, so their draws stay as correlated as the shared
 * parameter makes them.
 */
export interface PosteriorMixture {
  readonly weights: readonly number[];
  readonly components: ReadonlyArray<readonly BetaParams[]>;
}

/** The index of one mixture component, drawn by its weight. */
function drawComponent(weights: readonly number[], rng: Rng): number {
  let u = rng.next();
  for (let g = 0; g < weights.length - 1; g++) {
    u -= weights[g]!;
    if (u < 0) return g;
  }
  return weights.length - 1;
}

/** How the policy turns one posterior draw per candidate into a pick. */
export interface PickRule {
  /** Satisficing tolerance ε on the drawn pass rates; 0 is plain Thompson sampling. */
  readonly tolerance: number;
  /** Candidate indices, preferred first (highest posterior mean, or most evidence): the satisficing rule takes the earliest within tolerance. */
  readonly order: readonly number[];
  /**
   * How the summary estimates P(the rule picks i): 'rao-blackwell' averages exact conditional pick
   * probabilities (precise when small, never 0); absent, it counts picks in the draws (policies ≤ /4).
   */
  readonly propensities?: 'rao-blackwell';
  /** New versions on trial: with probability `share` the pick is one of `arms`, uniformly, instead of the draw. */
  readonly trial?: { readonly arms: readonly number[]; readonly share: number };
  /**
   * Per candidate, the highest value its draw may take (the `horizonClip` rule, off unless configured): a draw above it counts as
   * this value. Infinity leaves a draw as it is. Absent: no draw is clipped (policies ≤ /8).
   */
  readonly clip?: readonly number[];
}

/**
 * Satisficing Thompson sampling: draw one pass rate per candidate, then pick the first candidate in
 * `rule.order` whose draw is within `rule.tolerance` of the highest draw. With many candidates,
 * plain Thompson sampling keeps paying to tell near-equal templates apart and to re-check weak ones;
 * accepting any template that is plausibly within ε of the best stops that. Taking the earliest in
 * `rule.order` (by default the highest posterior mean) makes the rule stick with the best-estimated
 * template unless a draw shows another to be plausibly more than ε better.
 * Reference: Russo & Van Roy (2022), "Satisficing in time-sensitive bandit learning", Math. of OR.
 * With tolerance 0 this is exactly `thompsonPick` (same draws, same pick). With a `mixture` the draw
 * first takes one of its components, then draws every candidate from it.
 */
export function satisficingPick(posteriors: readonly BetaParams[], rule: PickRule, rng: Rng, mixture?: PosteriorMixture): number {
  if (rule.trial !== undefined && rng.next() < rule.trial.share) return rule.trial.arms[Math.floor(rng.next() * rule.trial.arms.length)]!;
  if (mixture !== undefined) posteriors = mixture.components[drawComponent(mixture.weights, rng)]!;
  if (rule.tolerance <= 0 && rule.clip === undefined) return thompsonPick(posteriors, rng);
  const draws = new Float64Array(posteriors.length);
  let max = -1;
  for (let i = 0; i < posteriors.length; i++) {
    const p = posteriors[i]!;
    const d = sampleBeta(rng, p.alpha, p.beta);
    draws[i] = rule.clip === undefined ? d : Math.min(d, rule.clip[i]!);
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
 * @param posteriors each candidate's marginal posterior (with a `mixture`, of the same mean and variance)
 * @param samples draws per candidate, ≥ 100
 * @param mixture the joint posterior to draw from, when it is not the independent `posteriors`
 */
export function summarizeSet(posteriors: readonly BetaParams[], rng: Rng, samples: number, rule?: PickRule, mixture?: PosteriorMixture): SetSummary {
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
  const slotOf = new Int32Array(k).fill(-1);
  contenders.forEach((i, t) => (slotOf[i] = t));
  const slot = (i: number) => (slotOf[i]! >= 0 ? slotOf[i]! : undefined);
  // draws[j * c + t]: draw j of contender t; sums[j]: the sum of all k pass rates in draw j.
  const draws = new Float64Array(m * c);
  const sums = new Float64Array(m);
  // rows[j]: the Betas draw j was drawn from (one mixture component for every candidate).
  const rows: Array<readonly BetaParams[]> = new Array(m);
  for (let j = 0; j < m; j++) {
    let bestT = 0;
    let bestDraw = -1;
    const row = mixture === undefined ? posteriors : mixture.components[drawComponent(mixture.weights, rng)]!;
    rows[j] = row;
    let sum = restSd > 0 ? restMean + restSd * sampleNormal(rng) : restMean;
    for (let t = 0; t < c; t++) {
      const p = row[contenders[t]!]!;
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
  }
  let probBest = Array.from(wins, (w) => w / m);
  let propensity = probBest;
  // The pick rule sees each draw clipped at its candidate's cap (policy /9); P(best) and the lift read the posterior's own draws.
  const clip = rule?.clip;
  let picked = draws;
  if (clip !== undefined) {
    picked = new Float64Array(m * c);
    for (let j = 0; j < m; j++) for (let t = 0; t < c; t++) picked[j * c + t] = Math.min(draws[j * c + t]!, clip[contenders[t]!]!);
  }
  const countPicks = (r: PickRule) => {
    const picks = new Float64Array(k);
    for (let j = 0; j < m; j++) {
      let bestDraw = -1;
      for (let t = 0; t < c; t++) bestDraw = Math.max(bestDraw, picked[j * c + t]!);
      picks[firstWithin(picked.subarray(j * c, (j + 1) * c), r, bestDraw, slot)]! += 1;
    }
    return Array.from(picks, (w) => w / m);
  };
  if (rule !== undefined && rule.propensities === 'rao-blackwell') {
    // P(best) is the pick probability of plain Thompson sampling (tolerance 0), estimated the same way.
    // Counted picks stand in where every conditional is 0 (degenerate Betas whose draws are all 0 or 1).
    probBest = pickProbabilities(rows, { tolerance: 0, order: rule.order }, contenders, draws, m) ?? probBest;
    propensity = tolerance > 0 || clip !== undefined ? (pickProbabilities(rows, rule, contenders, picked, m) ?? countPicks(rule)) : probBest;
  } else if ((tolerance > 0 || clip !== undefined) && rule !== undefined) {
    // Counting picks (policies up to /4 without the setting): kept so their logs replay exactly.
    propensity = countPicks(rule);
  }
  if (rule?.trial !== undefined) {
    // The pick is a mixture: a trial pick with probability `share`, else the rule's.
    const { arms, share } = rule.trial;
    propensity = propensity.map((p) => (1 - share) * p);
    for (const i of arms) propensity[i]! += share / arms.length;
  }
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

// Pruned candidates' pick probabilities (below ~1e-9) are averaged over this many of the draws: they
// only need to be positive and of the right order, and there may be hundreds of them.
const PRUNED_DRAWS = 32;
// A pickable candidate's propensity is never reported as 0 (an importance weight would be infinite).
const MIN_PROPENSITY = 1e-15;

/**
 * P(the pick rule picks candidate i), Rao–Blackwellised: for each joint draw of the others, the
 * probability over candidate i's own posterior that the rule picks it, averaged over draws. Given
 * the others' draws, with M the highest of them and E the highest of those earlier than i in
 * `rule.order`, the rule picks i exactly when θᵢ ≥ M − ε and (E < M − ε or θᵢ > E + ε), i.e. when
 * θᵢ exceeds max(M − ε, E + ε) if E ≥ M − ε, else M − ε. That is one Beta tail per draw: unbiased, far
 * less noisy than counting picks, and positive wherever i can be picked, so small propensities are
 * precise enough for importance weights (Monte Carlo counts were 0.5–1.6× off below 0.05).
 * Reference: Casella & Robert (1996), "Rao-Blackwellisation of sampling schemes".
 * @param rows the Betas each draw came from (a mixture draw conditions on its component too)
 */
function pickProbabilities(rows: ReadonlyArray<readonly BetaParams[]>, rule: PickRule, contenders: readonly number[], draws: Float64Array, m: number): number[] | undefined {
  const k = rows[0]!.length;
  const c = contenders.length;
  const eps = Math.max(0, rule.tolerance);
  const slotOf = new Int32Array(k).fill(-1);
  contenders.forEach((i, t) => (slotOf[i] = t));
  // Contender slots in pick order; pruned candidates are never near the top and are left out of M and E.
  const orderSlots = rule.order.map((i) => slotOf[i]!).filter((t) => t >= 0);
  const out = new Float64Array(k);
  // A clipped draw is min(θᵢ, capᵢ): it clears a threshold at or below the cap as θᵢ does, and never one above it.
  const cap = rule.clip;
  const tail = (row: readonly BetaParams[], i: number, max: number, earlier: number) => {
    const p = row[i]!;
    const threshold = earlier >= max - eps ? Math.max(max - eps, earlier + eps) : max - eps;
    return cap !== undefined && threshold > cap[i]! ? 0 : betaSurvival(threshold, p.alpha, p.beta);
  };
  for (let j = 0; j < m; j++) {
    const row = j * c;
    let top = -1;
    let topSlot = -1;
    let second = -1;
    for (let t = 0; t < c; t++) {
      const d = draws[row + t]!;
      if (d > top) {
        second = top;
        top = d;
        topSlot = t;
      } else if (d > second) second = d;
    }
    let earlier = -1;
    for (const t of orderSlots) {
      out[contenders[t]!]! += tail(rows[j]!, contenders[t]!, t === topSlot ? second : top, earlier);
      earlier = Math.max(earlier, draws[row + t]!);
    }
  }
  for (const t of orderSlots) out[contenders[t]!]! /= m;
  const pruned = rule.order.filter((i) => slotOf[i]! < 0);
  if (pruned.length > 0) {
    const n = Math.min(m, PRUNED_DRAWS);
    for (let j = 0; j < n; j++) {
      let top = -1;
      for (let t = 0; t < c; t++) top = Math.max(top, draws[j * c + t]!);
      // Every contender precedes a pruned candidate in any order that matters: E is the top draw.
      for (const i of pruned) out[i]! += tail(rows[j]!, i, top, top) / n;
    }
  }
  // Each draw's conditionals need not sum to 1 (they condition on different draws); their averages do in
  // expectation. Normalising keeps a distribution at a bias of order 1/draws.
  let total = 0;
  for (let i = 0; i < k; i++) total += out[i]!;
  // Every conditional 0: Betas so degenerate (alpha ~1e-7) that their draws and tails are all 0 or 1.
  if (!(total > 0)) return undefined;
  return Array.from(out, (p) => Math.max(MIN_PROPENSITY, p / total));
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
