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
import jStat from 'jstat';

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
 * The log indexed for the bootstrap: per decision its reward, its weight for uniform, the reward
 * model's cell (context, chosen arm) and its candidate group (context, candidates). Refitting the
 * model on a resample then needs only sums per cell, and DR's direct term only counts per group:
 * O(n) per resample instead of O(n × candidates) string look-ups.
 */
interface IndexedLog {
  readonly n: number;
  readonly reward: Float64Array;
  readonly weight: Float64Array;
  readonly cell: Int32Array;
  readonly group: Int32Array;
  /** The arm of each cell (cells are every (context, arm) that is a candidate somewhere). */
  readonly cellArm: Int32Array;
  readonly arms: number;
  /** Each group's candidate cells, in the decisions' order (a repeated candidate counts twice, as in estimate). */
  readonly groupCells: readonly Int32Array[];
  /** Each group's uniform probability per candidate. */
  readonly groupP: Float64Array;
}

function indexLog(log: readonly LoggedDecision[]): IndexedLog {
  const n = log.length;
  const arms = new Map<string, number>();
  const cellArm: number[] = [];
  const groupCells: Int32Array[] = [];
  const groupP: number[] = [];
  // Per context: its cells by arm, and a trie of candidate lists whose leaves are groups (cheaper
  // than a joined string key per decision on a large log).
  interface Node { group: number; next: Map<string, Node> }
  const contexts = new Map<string, { cells: Map<string, number>; groups: Node }>();
  const reward = new Float64Array(n);
  const weight = new Float64Array(n);
  const cell = new Int32Array(n);
  const group = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = log[i]!;
    let ctx = contexts.get(d.context);
    if (ctx === undefined) contexts.set(d.context, (ctx = { cells: new Map(), groups: { group: -1, next: new Map() } }));
    const cells = ctx.cells;
    const cellOf = (arm: string) => {
      let c = cells.get(arm);
      if (c === undefined) {
        let a = arms.get(arm);
        if (a === undefined) arms.set(arm, (a = arms.size));
        cells.set(arm, (c = cellArm.length));
        cellArm.push(a);
      }
      return c;
    };
    let node = ctx.groups;
    for (const a of d.candidates) {
      let next = node.next.get(a);
      if (next === undefined) node.next.set(a, (next = { group: -1, next: new Map() }));
      node = next;
    }
    if (node.group < 0) {
      node.group = groupCells.length;
      groupCells.push(Int32Array.from(d.candidates, cellOf));
      groupP.push(1 / d.candidates.length);
    }
    reward[i] = d.reward;
    weight[i] = uniformPolicy(d, d.chosen) / d.propensity;
    cell[i] = cellOf(d.chosen);
    group[i] = node.group;
  }
  return { n, reward, weight, cell, group, cellArm: Int32Array.from(cellArm), arms: arms.size, groupCells, groupP: Float64Array.from(groupP) };
}

/**
 * The deployed policy's mean reward and uniform's value by each estimator, on the sample that takes
 * decision i `count[i]` times (all ones: the log itself). The same arithmetic as estimate() with
 * fitRewardModel refitted on the sample, summed per cell and group.
 */
function sampleValues(x: IndexedLog, count: Int32Array): { deployed: number; u: Record<EstimatorName, number>; q: Float64Array } {
  const cells = x.cellArm.length;
  const s = new Float64Array(cells);
  const c = new Float64Array(cells);
  const ws = new Float64Array(cells);
  const wrs = new Float64Array(cells);
  const g = new Float64Array(x.groupCells.length);
  let total = 0;
  for (let i = 0; i < x.n; i++) {
    const k = count[i]!;
    if (k === 0) continue;
    const j = x.cell[i]!;
    const r = x.reward[i]!;
    const w = x.weight[i]!;
    total += k * r;
    s[j]! += k * r;
    c[j]! += k;
    ws[j]! += k * w;
    wrs[j]! += k * w * r;
    g[x.group[i]!]! += k;
  }
  const n = x.n;
  const strength = 2;
  const overall = total / n;
  const armS = new Float64Array(x.arms);
  const armN = new Float64Array(x.arms);
  for (let j = 0; j < cells; j++) {
    armS[x.cellArm[j]!]! += s[j]!;
    armN[x.cellArm[j]!]! += c[j]!;
  }
  const q = new Float64Array(cells);
  let ips = 0;
  let wsum = 0;
  let residual = 0;
  for (let j = 0; j < cells; j++) {
    const a = x.cellArm[j]!;
    const armMean = (armS[a]! + strength * overall) / (armN[a]! + strength);
    q[j] = (s[j]! + strength * armMean) / (c[j]! + strength);
    ips += wrs[j]!;
    wsum += ws[j]!;
    residual += wrs[j]! - q[j]! * ws[j]!;
  }
  let direct = 0;
  for (let k = 0; k < g.length; k++) {
    if (g[k] === 0) continue;
    let v = 0;
    for (const j of x.groupCells[k]!) v += q[j]!;
    direct += g[k]! * x.groupP[k]! * v;
  }
  return { deployed: total / n, u: { ips: ips / n, snips: wsum > 0 ? ips / wsum : NaN, dr: (direct + residual) / n }, q };
}

/**
 * The deployed policy's value and its lift over uniform, with percentile bootstrap intervals
 * (resampling decisions with replacement; the reward model is refitted on every resample so its
 * uncertainty is in the interval too), clipped to [0, 1] for pass rates and [−1, 1] for lifts.
 * Cost: O(n × candidates) once, then O(n) per resample.
 * @param seed the bootstrap stream, so reports are reproducible
 */
export function liftOverUniform(log: readonly LoggedDecision[], seed: string, resamples = 1000, level = 0.95): LiftEstimate {
  const n = log.length;
  if (n === 0) throw new RangeError('no logged decisions with outcomes');
  const x = indexLog(log);
  const count = new Int32Array(n);
  const p0 = sampleValues(x, count.fill(1));
  const rng = createRng(`ope\u0000${seed}`);
  const dep = new Float64Array(resamples);
  const uni: Record<EstimatorName, Float64Array> = { ips: new Float64Array(resamples), snips: new Float64Array(resamples), dr: new Float64Array(resamples) };
  const lift: Record<EstimatorName, Float64Array> = { ips: new Float64Array(resamples), snips: new Float64Array(resamples), dr: new Float64Array(resamples) };
  for (let b = 0; b < resamples; b++) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[Math.floor(rng.next() * n)]!++;
    const p = sampleValues(x, count);
    dep[b] = p.deployed;
    for (const e of ESTIMATORS) {
      uni[e][b] = p.u[e];
      lift[e][b] = p.deployed - p.u[e];
    }
  }
  const tail = (1 - level) / 2;
  const interval = (est: number, xs: Float64Array, lo: number): Interval => {
    const sorted = Float64Array.from(xs.filter(Number.isFinite)).sort();
    return clipped(est, quantileSorted(sorted, tail), quantileSorted(sorted, 1 - tail), lo);
  };
  return {
    decisions: n,
    deployed: interval(p0.deployed, dep, 0),
    effectiveSampleSize: effectiveSampleSize(log, uniformPolicy),
    meanWeight: x.weight.reduce((s, w) => s + w, 0) / n,
    uniform: byEstimator((e) => interval(p0.u[e], uni[e], 0)),
    lift: byEstimator((e) => interval(p0.deployed - p0.u[e], lift[e], -1)),
  };
}

// Rewards lie in [0, 1], so a pass rate does too and a lift in [−1, 1]: IPS's unnormalised weights can
// push an estimate or its interval outside (an interval of 37.6–151.7% was printed), which clipping
// removes without changing any interval that made sense.
function clipped(estimate: number, low: number, high: number, lo: number): Interval {
  const clip = (v: number) => Math.min(1, Math.max(lo, v));
  return { estimate: clip(estimate), ciLow: clip(low), ciHigh: clip(high) };
}

const byEstimator = (f: (e: EstimatorName) => Interval) => Object.fromEntries(ESTIMATORS.map((e) => [e, f(e)])) as Record<EstimatorName, Interval>;

/**
 * The same point estimates as liftOverUniform with normal intervals from each estimator's influence
 * function (sandwich standard errors): O(n) and no resampling, for logs where the bootstrap costs
 * too much and the central limit theorem has long taken over. Per decision i, with weight wᵢ and the
 * reward model q̂ fitted on the whole log,
 *   deployed  rᵢ − r̄            IPS  wᵢrᵢ − V        SNIPS  wᵢ(rᵢ − V) / w̄
 *   DR        Σₐ π(a|xᵢ) q̂(xᵢ,a) + wᵢ(rᵢ − q̂(xᵢ,aᵢ)) − V
 * and each lift's is the deployed one minus the estimator's (paired, as the bootstrap is). q̂'s own
 * estimation error does not enter DR's to first order when propensities are known (its derivative,
 * E[π(a|x) − w·1{A = a}], is 0), which the bootstrap's refitting includes; at the sizes this is
 * meant for the two agree (test/ope/influence.stat.test.ts).
 */
export function liftOverUniformInfluence(log: readonly LoggedDecision[], level = 0.95): LiftEstimate {
  const n = log.length;
  if (n === 0) throw new RangeError('no logged decisions with outcomes');
  const x = indexLog(log);
  const p0 = sampleValues(x, new Int32Array(n).fill(1));
  const direct = x.groupCells.map((cells, g) => cells.reduce((v, j) => v + p0.q[j]!, 0) * x.groupP[g]!);
  const wbar = x.weight.reduce((s, w) => s + w, 0) / n;
  const v = p0.u;
  // Sums of squares of the influence functions of the three values and the three lifts.
  const sq = { deployed: 0, ips: 0, snips: 0, dr: 0, liftIps: 0, liftSnips: 0, liftDr: 0 };
  for (let i = 0; i < n; i++) {
    const r = x.reward[i]!;
    const w = x.weight[i]!;
    const dep = r - p0.deployed;
    const ips = w * r - v.ips;
    const snips = wbar > 0 ? (w * (r - v.snips)) / wbar : 0;
    const dr = direct[x.group[i]!]! + w * (r - p0.q[x.cell[i]!]!) - v.dr;
    sq.deployed += dep * dep;
    sq.ips += ips * ips;
    sq.snips += snips * snips;
    sq.dr += dr * dr;
    sq.liftIps += (dep - ips) ** 2;
    sq.liftSnips += (dep - snips) ** 2;
    sq.liftDr += (dep - dr) ** 2;
  }
  const z = jStat.normal.inv(1 - (1 - level) / 2, 0, 1);
  // Standard error of a mean from its influence function's sum of squares (n − 1 degrees of freedom).
  const half = (ss: number) => (n > 1 ? z * Math.sqrt(ss / (n - 1) / n) : Infinity);
  const normal = (est: number, ss: number, lo: number) => clipped(est, est - half(ss), est + half(ss), lo);
  const liftSq: Record<EstimatorName, number> = { ips: sq.liftIps, snips: sq.liftSnips, dr: sq.liftDr };
  return {
    decisions: n,
    deployed: normal(p0.deployed, sq.deployed, 0),
    effectiveSampleSize: effectiveSampleSize(log, uniformPolicy),
    meanWeight: wbar,
    uniform: byEstimator((e) => normal(v[e], sq[e], 0)),
    lift: byEstimator((e) => normal(p0.deployed - v[e], liftSq[e], -1)),
  };
}

/** How a lift estimate's intervals were made. */
export interface LiftMethod {
  readonly interval: 'bootstrap' | 'influence';
  /** Bootstrap resamples; 0 for influence-function intervals. */
  readonly resamples: number;
}

/** Fewest bootstrap resamples worth running: a 95% percentile endpoint from 200 moves by about 0.19 standard errors between seeds. */
export const MIN_RESAMPLES = 200;

/**
 * The lift with a bounded cost: the percentile bootstrap (as `report lift`) with up to `resamples`
 * resamples while decisions × resamples stays within `budget`, and at least MIN_RESAMPLES of them;
 * past that, influence-function intervals, whose cost is one pass.
 */
export function boundedLift(log: readonly LoggedDecision[], seed: string, budget: number, resamples = 1000, level = 0.95): LiftEstimate & { readonly method: LiftMethod } {
  const affordable = Math.min(resamples, Math.floor(budget / Math.max(1, log.length)));
  if (affordable >= MIN_RESAMPLES) return { ...liftOverUniform(log, seed, affordable, level), method: { interval: 'bootstrap', resamples: affordable } };
  return { ...liftOverUniformInfluence(log, level), method: { interval: 'influence', resamples: 0 } };
}
