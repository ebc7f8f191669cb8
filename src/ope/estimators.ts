/**
 * Off-policy evaluation from logged decisions (pure: no I/O, seeded randomness only).
 *
 * Each logged decision records the candidates, the chosen arm, the probability the logging policy
 * had of choosing it (the propensity) and the observed reward. From these, the value of another
 * policy π (here: uniform over the same candidates) is estimated by
 *   IPS    V = (1/n) Σ wᵢ rᵢ,                  wᵢ = π(aᵢ|xᵢ) / μ(aᵢ|xᵢ)
 *   SNIPS  V = Σ wᵢ rᵢ / Σ wᵢ
 *   DR     V = (1/n) Σ [ Σₐ π(a|xᵢ) q̂(xᵢ,a) + wᵢ (rᵢ − q̂(xᵢ,aᵢ)) ]
 * References: Horvitz & Thompson (1952); Swaminathan & Joachims (2015) for SNIPS;
 * Dudík, Langford & Li (2011), "Doubly robust policy evaluation and learning".
 */
import { createRng, quantileSorted } from '../bandit/index.js';

export interface LoggedDecision {
  /** Context key the reward model may condition on (e.g. task class and repository). */
  readonly context: string;
  readonly candidates: readonly string[];
  readonly chosen: string;
  /** μ(chosen | context) as logged, in (0, 1]. */
  readonly propensity: number;
  /** Observed reward in [0, 1]. */
  readonly reward: number;
}

/** A target policy: the probability it would choose `arm` among `d.candidates`. */
export type TargetPolicy = (d: LoggedDecision, arm: string) => number;

export const uniformPolicy: TargetPolicy = (d, arm) => (d.candidates.includes(arm) ? 1 / d.candidates.length : 0);
/** The logging policy itself: every weight is 1 and every estimator reduces to the on-policy mean. */
export const loggingPolicy: TargetPolicy = (d, arm) => (arm === d.chosen ? d.propensity : 0);

export type EstimatorName = 'ips' | 'snips' | 'dr';
export const ESTIMATORS: readonly EstimatorName[] = ['ips', 'snips', 'dr'];

/**
 * Reward model for DR: per (context, arm) mean reward in the log, shrunk towards the arm's overall
 * mean, which is shrunk towards the log's mean (a few pseudo-observations at each level). It need
 * not be right: DR stays unbiased when propensities are correct.
 */
export function fitRewardModel(log: readonly LoggedDecision[], strength = 2): (context: string, arm: string) => number {
  let total = 0;
  const arm = new Map<string, [number, number]>();
  const cell = new Map<string, [number, number]>();
  for (const d of log) {
    total += d.reward;
    const a = arm.get(d.chosen) ?? [0, 0];
    arm.set(d.chosen, [a[0] + d.reward, a[1] + 1]);
    const k = `${d.context}\u0000${d.chosen}`;
    const c = cell.get(k) ?? [0, 0];
    cell.set(k, [c[0] + d.reward, c[1] + 1]);
  }
  const overall = log.length > 0 ? total / log.length : 0.5;
  return (context, a) => {
    const [as, an] = arm.get(a) ?? [0, 0];
    const armMean = (as + strength * overall) / (an + strength);
    const [cs, cn] = cell.get(`${context}\u0000${a}`) ?? [0, 0];
    return (cs + strength * armMean) / (cn + strength);
  };
}

/** Point estimates of V(π) by each estimator on one sample of decisions. */
export function estimate(log: readonly LoggedDecision[], target: TargetPolicy, q?: (context: string, arm: string) => number): Record<EstimatorName, number> {
  const model = q ?? fitRewardModel(log);
  let ips = 0;
  let wsum = 0;
  let dr = 0;
  for (const d of log) {
    const w = target(d, d.chosen) / d.propensity;
    ips += w * d.reward;
    wsum += w;
    let direct = 0;
    for (const a of d.candidates) {
      const p = target(d, a);
      if (p > 0) direct += p * model(d.context, a);
    }
    dr += direct + w * (d.reward - model(d.context, d.chosen));
  }
  const n = log.length;
  return { ips: ips / n, snips: wsum > 0 ? ips / wsum : NaN, dr: dr / n };
}

/** Kish's effective sample size of the importance weights: (Σw)² / Σw². */
export function effectiveSampleSize(log: readonly LoggedDecision[], target: TargetPolicy): number {
  let s = 0;
  let s2 = 0;
  for (const d of log) {
    const w = target(d, d.chosen) / d.propensity;
    s += w;
    s2 += w * w;
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

export interface Interval {
  readonly estimate: number;
  readonly ciLow: number;
  readonly ciHigh: number;
}

export interface LiftEstimate {
  readonly decisions: number;
  /** Estimated pass rate of the deployed (logging) policy: the on-policy mean, same for all estimators. */
  readonly deployed: Interval;
  /** Effective sample size of the weights that re-weight the log to uniform. */
  readonly effectiveSampleSize: number;
  /**
   * Mean importance weight for uniform. Its expectation is exactly 1 when every candidate had a
   * positive logged propensity; far below 1 means candidates the policy (almost) never ran, whose
   * value IPS and SNIPS cannot see: trust DR's reward model, or none, then.
   */
  readonly meanWeight: number;
  readonly uniform: Record<EstimatorName, Interval>;
  /** deployed − uniform, per estimator, with a paired bootstrap interval. */
  readonly lift: Record<EstimatorName, Interval>;
}

/**
 * The deployed policy's value and its lift over uniform, with percentile bootstrap intervals
 * (resampling decisions with replacement; the reward model is refitted on every resample so its
 * uncertainty is in the interval too), clipped to [0, 1] for pass rates and [−1, 1] for lifts.
 * @param seed the bootstrap stream, so reports are reproducible
 */
export function liftOverUniform(log: readonly LoggedDecision[], seed: string, resamples = 1000, level = 0.95): LiftEstimate {
  const n = log.length;
  if (n === 0) throw new RangeError('no logged decisions with outcomes');
  const point = (sample: readonly LoggedDecision[]) => {
    const deployed = sample.reduce((s, d) => s + d.reward, 0) / sample.length;
    const u = estimate(sample, uniformPolicy);
    return { deployed, u };
  };
  const p0 = point(log);
  const rng = createRng(`ope\u0000${seed}`);
  const dep = new Float64Array(resamples);
  const uni: Record<EstimatorName, Float64Array> = { ips: new Float64Array(resamples), snips: new Float64Array(resamples), dr: new Float64Array(resamples) };
  const lift: Record<EstimatorName, Float64Array> = { ips: new Float64Array(resamples), snips: new Float64Array(resamples), dr: new Float64Array(resamples) };
  const sample: LoggedDecision[] = new Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) sample[i] = log[Math.floor(rng.next() * n)]!;
    const p = point(sample);
    dep[b] = p.deployed;
    for (const e of ESTIMATORS) {
      uni[e][b] = p.u[e];
      lift[e][b] = p.deployed - p.u[e];
    }
  }
  const tail = (1 - level) / 2;
  // Rewards lie in [0, 1], so a pass rate does too and a lift in [−1, 1]: IPS's unnormalised weights can
  // push an estimate or its bootstrap quantiles outside (an interval of 37.6–151.7% was printed), which
  // clipping removes without changing any interval that made sense.
  const interval = (est: number, xs: Float64Array, lo: number): Interval => {
    const sorted = Float64Array.from(xs.filter(Number.isFinite)).sort();
    const clip = (x: number) => Math.min(1, Math.max(lo, x));
    return { estimate: clip(est), ciLow: clip(quantileSorted(sorted, tail)), ciHigh: clip(quantileSorted(sorted, 1 - tail)) };
  };
  const by = (f: (e: EstimatorName) => Interval) => Object.fromEntries(ESTIMATORS.map((e) => [e, f(e)])) as Record<EstimatorName, Interval>;
  return {
    decisions: n,
    deployed: interval(p0.deployed, dep, 0),
    effectiveSampleSize: effectiveSampleSize(log, uniformPolicy),
    meanWeight: log.reduce((s, d) => s + uniformPolicy(d, d.chosen) / d.propensity, 0) / n,
    uniform: by((e) => interval(p0.u[e], uni[e], 0)),
    lift: by((e) => interval(p0.deployed - p0.u[e], lift[e], -1)),
  };
}
