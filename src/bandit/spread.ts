/**
 * How much groups at one level of the hierarchy really differ: the between-group standard deviation τ
 * of pass rates on the logit scale, learned from every group at that level (all repositories within
 * their task classes, all task classes within their templates' global records), as a grid posterior.
 *
 * Model (normal approximation on the logit scale, Gelman et al., BDA3 §5.4–5.5): group i of one
 * template in one parent (a repository of a task class, or a task class of a template) has empirical
 * logit yᵢ = ln((rᵢ + ½)/(nᵢ − rᵢ + ½)) with sampling variance vᵢ = 1/(rᵢ + ½) + 1/(nᵢ − rᵢ + ½), and
 * yᵢ ~ N(θ, τ² + vᵢ) around the parent's own logit θ, which is integrated out under a flat prior.
 * For each τ on a fixed grid the marginal log-likelihood of one parent's groups is
 *   ½ Σ ln wᵢ − ½ (Σ wᵢyᵢ² − (Σ wᵢyᵢ)² / Σ wᵢ) − ½ ln Σ wᵢ,   wᵢ = 1/(τ² + vᵢ),
 * a function of four sums per grid point, so the projection keeps those sums per parent (adding and
 * removing a group as its record changes) and the level's total per template; a decision adds the
 * candidates' totals and reads the posterior of τ. A parent with one group says nothing about τ (its
 * log-likelihood is 0), so a task class seen in one repository only neither widens nor narrows anything.
 * The hyperprior is half-Cauchy(0, 1) on τ (Gelman 2006, "Prior distributions for variance parameters
 * in hierarchical models"): proper, and weak enough that five established groups dominate it.
 */
import { effectiveEvidence } from './evidence.js';
import type { Evidence } from './types.js';

/** Grid points of τ (logit sd between groups). */
export const SPREAD_GRID_SIZE = 32;
const TAU_MAX = 4;
/** τⱼ = 4 (j / 31)²: dense near 0, where "groups barely differ" must be told from "they do not". */
export const SPREAD_GRID: readonly number[] = Array.from({ length: SPREAD_GRID_SIZE }, (_, j) => TAU_MAX * (j / (SPREAD_GRID_SIZE - 1)) ** 2);
/** ln of the half-Cauchy(0, 1) density times each grid point's width. */
const LOG_HYPERPRIOR: readonly number[] = SPREAD_GRID.map((tau, j) => {
  const lo = j === 0 ? 0 : (SPREAD_GRID[j - 1]! + tau) / 2;
  const hi = j === SPREAD_GRID_SIZE - 1 ? tau : (tau + SPREAD_GRID[j + 1]!) / 2;
  return Math.log(2 / Math.PI / (1 + tau * tau)) + Math.log(Math.max(hi - lo, 1e-12));
});

/** The four sums of one parent's groups at each grid point, how many groups have runs, and Σ nᵢ². */
export interface GroupSums {
  /**
   * 'parent-rate' (PolicyConfig.groupSpreadVariance, policy /9): the sums are on {@link VARIANCE_GRID}, with each
   * group's sampling variance read at its parent's pass rate ({@link replaceGroup}); absent, on SPREAD_GRID with
   * the variance at the group's own rate.
   */
  readonly variance?: 'parent-rate';
  readonly count: number;
  /** Σ of the groups' squared run counts: how concentrated the parent's record is in few groups. */
  readonly squares: number;
  readonly w: readonly number[];
  readonly wy: readonly number[];
  readonly wyy: readonly number[];
  readonly lnW: readonly number[];
}

/** What a stats record keeps for the spread of the groups below it (only under `groupSpread: 'learned'`). */
export interface SpreadRecord {
  /** The groups one level down: a task-class record's repositories, a global record's task classes. */
  readonly groups: GroupSums;
  /**
   * Global records only: Σ over the template's task classes of their repositories' marginal
   * log-likelihood at each grid point (kept as the classes' records change).
   */
  readonly nested?: readonly number[];
  /**
   * Global records under `classlessSpread: 'learned'`: the template's repositories as groups of the
   * template itself (its ('', repo) records), what a context without a task class pools over.
   */
  readonly repos?: GroupSums;
}

const zeros = (n = SPREAD_GRID_SIZE) => new Array<number>(n).fill(0);
export const EMPTY_GROUP_SUMS: GroupSums = Object.freeze({ count: 0, squares: 0, w: zeros(), wy: zeros(), wyy: zeros(), lnW: zeros() });

/**
 * Policy /9's grid for sums at the parent's rate: u = τ²·p(1 − p), the between-group variance in units of one run's
 * logit variance at the parent's pass rate p. 0, then 63 points log-spaced from 1e-8 to 16 (τ ≤ 4 and p(1 − p) ≤ ¼
 * keep u ≤ 4, so every point read has grid points on both sides for the cubic: with 4 as the last point, groups of
 * one run read 0.01 nats off; below 1e-8 no group of fewer than a million runs can tell u from 0).
 */
export const VARIANCE_GRID_SIZE = 64;
const U_MIN = 1e-8;
const U_MAX = 16;
export const VARIANCE_GRID: readonly number[] = Array.from({ length: VARIANCE_GRID_SIZE }, (_, k) =>
  k === 0 ? 0 : U_MIN * Math.pow(U_MAX / U_MIN, (k - 1) / (VARIANCE_GRID_SIZE - 2)),
);
const LOG_U_STEP = Math.log(U_MAX / U_MIN) / (VARIANCE_GRID_SIZE - 2);
export const EMPTY_PARENT_RATE_SUMS: GroupSums = Object.freeze({
  variance: 'parent-rate',
  count: 0,
  squares: 0,
  w: zeros(VARIANCE_GRID_SIZE),
  wy: zeros(VARIANCE_GRID_SIZE),
  wyy: zeros(VARIANCE_GRID_SIZE),
  lnW: zeros(VARIANCE_GRID_SIZE),
});

/**
 * `sums` with one group's record replaced: `before` taken out (if it had runs) and `after` put in.
 * Removal subtracts exactly what adding put in, so the sums are a pure function of the event order.
 * @param effective read each decayed record as its Kish effective counts (PolicyConfig.groupSpreadCounts,
 *   policy /7). They do not change when decay scales a whole record, so a group's term is the same at its
 *   last run and at any later reading of the clock: the sums stay exact although each group is only
 *   re-added when it runs. Decayed Σw read as runs (≤ /6) overstated every group's sampling variance and
 *   learned half the spread (a logit sd of 0.23 for a true 0.5 at a half-life of 50 runs).
 */
export function replaceGroup(sums: GroupSums, before: Evidence | undefined, after: Evidence, effective = false): GroupSums {
  const w = [...sums.w];
  const wy = [...sums.wy];
  const wyy = [...sums.wyy];
  const lnW = [...sums.lnW];
  let count = sums.count;
  let squares = sums.squares;
  const atParentRate = sums.variance === 'parent-rate';
  const apply = (record: Evidence, sign: 1 | -1) => {
    const e = effective ? effectiveEvidence(record) : record;
    if (!(e.trials > 0)) return;
    const r = Math.min(Math.max(e.reward, 0), e.trials);
    const y = Math.log((r + 0.5) / (e.trials - r + 0.5));
    const v = 1 / (r + 0.5) + 1 / (e.trials - r + 0.5);
    for (let j = 0; j < w.length; j++) {
      // At the parent's rate p the weight is 1/(τ² + 1/(n p(1 − p))) = p(1 − p) · n/(n u + 1): the sums keep n/(n u + 1).
      const wj = atParentRate ? e.trials / (e.trials * VARIANCE_GRID[j]! + 1) : 1 / (SPREAD_GRID[j]! ** 2 + v);
      w[j] = w[j]! + sign * wj;
      wy[j] = wy[j]! + sign * wj * y;
      wyy[j] = wyy[j]! + sign * wj * y * y;
      lnW[j] = lnW[j]! + sign * Math.log(wj);
    }
    count += sign;
    squares += sign * e.trials * e.trials;
  };
  if (before !== undefined) apply(before, -1);
  apply(after, 1);
  return { ...(atParentRate ? { variance: 'parent-rate' as const } : {}), count, squares: Math.max(0, squares), w, wy, wyy, lnW };
}

/**
 * The marginal log-likelihood of one parent's groups at each point of SPREAD_GRID (0 with fewer than two groups).
 * @param parent the parent's record (a task class for its repositories, the global record for its task classes or
 *   repositories), read for its pass rate by sums kept at the parent's rate (policy /9); ignored by the others
 */
export function groupLogLikelihood(sums: GroupSums, parent?: Evidence): number[] {
  if (sums.count < 2) return zeros();
  if (sums.variance === 'parent-rate') return atParentRate(sums, parent);
  return sums.w.map((w, j) => 0.5 * sums.lnW[j]! - 0.5 * (sums.wyy[j]! - sums.wy[j]! ** 2 / w) - 0.5 * Math.log(w));
}

/**
 * Policy /9 (groupSpreadVariance 'parent-rate'): each group's empirical logit yᵢ has sampling variance
 * 1/(nᵢ p(1 − p)) at its parent's pass rate p, not 1/(rᵢ + ½) + 1/(nᵢ − rᵢ + ½) at its own. The own-rate variance
 * grows as a group's rate moves away from its parent's, so the groups that differ most were read as the
 * noisiest, and the spread was learned too small: with 6 repositories of 40 runs at a true logit sd of 0.5,
 * a new repository's 95% interval covered 89–93% (the spread's exact binomial likelihood, or this one,
 * 93–95%; docs/adr/0008-spread-at-the-parent-rate.md). With c = 1/(p(1 − p)) the weights are ωᵢ/c where
 * ωᵢ = nᵢ/(nᵢ u + 1) and u = τ²/c, so the log-likelihood at τ is read from the sums of ω on the u grid at
 * u = τ²/c (a cubic in ln u between grid points 0.34 apart in ln u: within 0.004 nats of the direct sum, or 0.1%
 * of it, test/bandit/spread.test.ts).
 */
function atParentRate(sums: GroupSums, parent: Evidence | undefined): number[] {
  const e = parent === undefined ? undefined : effectiveEvidence(parent);
  const p = e === undefined || !(e.trials > 0) ? 0.5 : Math.min(Math.max((Math.max(e.reward, 0) + 0.5) / (e.trials + 1), 1e-6), 1 - 1e-6);
  const c = 1 / (p * (1 - p));
  const lnC = Math.log(c);
  const n = sums.count;
  const node = sums.w.map((w, k) => 0.5 * (sums.lnW[k]! - n * lnC) - (0.5 / c) * (sums.wyy[k]! - sums.wy[k]! ** 2 / w) - 0.5 * (Math.log(w) - lnC));
  return SPREAD_GRID.map((tau) => interpolate(node, (tau * tau) / c));
}

/** A function tabulated on VARIANCE_GRID, read at u: linear in u below the first positive node, else a Catmull–Rom cubic in ln u. */
function interpolate(node: readonly number[], u: number): number {
  if (!(u > 0)) return node[0]!;
  if (u <= U_MIN) return node[0]! + (u / U_MIN) * (node[1]! - node[0]!);
  const x = Math.min(Math.log(u / U_MIN) / LOG_U_STEP, VARIANCE_GRID_SIZE - 2);
  const i = Math.min(Math.floor(x), VARIANCE_GRID_SIZE - 3);
  const t = x - i;
  // Positive nodes 1..63 are index i + 1 for x's integer part i; clamp the outer neighbours at the ends.
  const at = (k: number) => node[Math.min(Math.max(k, 1), VARIANCE_GRID_SIZE - 1)]!;
  const p0 = at(i);
  const p1 = at(i + 1);
  const p2 = at(i + 2);
  const p3 = at(i + 3);
  return p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
}

/** Element-wise a + b − c (the level total as one parent's groups change). */
export function addLogLikelihood(total: readonly number[] | undefined, add: readonly number[], remove?: readonly number[]): number[] {
  return add.map((x, j) => (total?.[j] ?? 0) + x - (remove?.[j] ?? 0));
}

/** Posterior weights of the grid's τ values given a level's summed log-likelihood. */
export function spreadPosterior(logLikelihood: readonly number[]): number[] {
  const score = LOG_HYPERPRIOR.map((p, j) => p + (logLikelihood[j] ?? 0));
  const max = Math.max(...score);
  const weights = score.map((s) => Math.exp(s - max));
  const total = weights.reduce((s, x) => s + x, 0);
  return weights.map((x) => x / total);
}

// Standard normal quadrature: 41 points on [−5, 5], normalised weights (smooth integrand, error ~1e-7).
const Z = Array.from({ length: 41 }, (_, i) => -5 + i * 0.25);
const ZW = (() => {
  const raw = Z.map((z) => Math.exp(-0.5 * z * z));
  const total = raw.reduce((s, x) => s + x, 0);
  return raw.map((x) => x / total);
})();
const WEIGHT_FLOOR = 1e-9;
// exp(−τⱼ zᵢ) for every grid τ and quadrature z: logistic(c + τz) = 1 / (1 + e^(−c) · exp(−τz)) then costs no exp.
const EXP_TAU_Z = Float64Array.from({ length: SPREAD_GRID_SIZE * Z.length }, (_, k) => Math.exp(-SPREAD_GRID[Math.floor(k / Z.length)]! * Z[k % Z.length]!));

/**
 * Variance of a new group's pass rate around a parent whose pass rate is `mean`, averaged over the
 * posterior of τ: E_τ Var(logistic(logit(mean) + τZ)). A new repository's (task class's) pass rate is
 * its parent's plus this much spread.
 * @param tabulated factor each logistic through a table of exp(−τz) (policy /7, which pools once per
 *   mixture component, so this runs several times per candidate): the same value up to rounding, and
 *   30× fewer exps; policies ≤ /6 keep the direct form so their replays stay bit-identical
 */
export function betweenGroupVariance(mean: number, weights: readonly number[], tabulated = false): number {
  const m = Math.min(Math.max(mean, 1e-6), 1 - 1e-6);
  const centre = Math.log(m / (1 - m));
  const odds = (1 - m) / m;
  let variance = 0;
  for (let j = 0; j < SPREAD_GRID_SIZE; j++) {
    const wj = weights[j]!;
    const tau = SPREAD_GRID[j]!;
    if (wj < WEIGHT_FLOOR || tau === 0) continue;
    let first = 0;
    let second = 0;
    for (let i = 0; i < Z.length; i++) {
      const p = tabulated ? 1 / (1 + odds * EXP_TAU_Z[j * Z.length + i]!) : 1 / (1 + Math.exp(-(centre + tau * Z[i]!)));
      first += ZW[i]! * p;
      second += ZW[i]! * p * p;
    }
    variance += wj * Math.max(0, second - first * first);
  }
  return variance;
}

/** Posterior mean and an upper 97.5% point of τ, for explanations and tests. */
export function spreadSummary(weights: readonly number[]): { mean: number; upper: number } {
  let mean = 0;
  let cumulative = 0;
  let upper = SPREAD_GRID[SPREAD_GRID_SIZE - 1]!;
  let found = false;
  for (let j = 0; j < SPREAD_GRID_SIZE; j++) {
    mean += weights[j]! * SPREAD_GRID[j]!;
    cumulative += weights[j]!;
    if (!found && cumulative >= 0.975) {
      upper = SPREAD_GRID[j]!;
      found = true;
    }
  }
  return { mean, upper };
}
