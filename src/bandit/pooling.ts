import type { PolicyConfig } from './config.js';
import { effectiveEvidence, evidenceAt, subtractEvidence } from './evidence.js';
import { betweenGroupVariance, spreadPosterior } from './spread.js';
import type { ArmEvidence, BorrowedEvidence, Evidence, EvidenceLevel, EvidenceSources, Posterior } from './types.js';

/** A Beta prior shared by every candidate before its own evidence. */
export interface BasePrior {
  readonly alpha: number;
  readonly beta: number;
}

const NO_CONTRIBUTIONS: Record<EvidenceLevel, number> = { prior: 0, global: 0, task_class: 0, repo_task_class: 0 };

/**
 * ln Γ(x) for x > 0: Stirling's series to the x⁻¹¹ term for x ≥ 10, after shifting smaller x up
 * with ln Γ(x) = ln Γ(x + k) − ln(x (x + 1) ⋯ (x + k − 1)). Within about 1e-14 of libm's lgamma (the next
 * term, 1/156·x⁻¹³, is below 1e-15 at x = 10; the rest is rounding). It is the inner loop of every
 * empirical-Bayes fit, where it replaced a Lanczos approximation that cost 1.5× as much; the fits
 * compare sums of these over a grid, so only absolute error matters there.
 * Reference: Abramowitz & Stegun 6.1.40, 6.1.41.
 */
export function logGamma(x: number): number {
  let shift = 0;
  if (x < 10) {
    let product = 1;
    while (x < 10) product *= x++;
    shift = Math.log(product);
  }
  const r = 1 / x;
  const r2 = r * r;
  const series = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 * (1 / 1188 - (r2 * 691) / 360360)))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_2PI + series - shift;
}
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Points of the strength grid the marginal likelihood is evaluated on (log-spaced). */
const STRENGTH_GRID = 24;

/**
 * Empirical-Bayes base prior: the Beta(m·s, (1−m)·s) that best explains the candidates' records
 * as draws from one population of templates.
 *
 * Every candidate counts once, however many runs it has. That matters under adaptive sampling:
 * the policy runs good templates far more often, so a run-weighted estimate (pooled pass rate,
 * run-weighted spread) drifts towards the leaders and makes every little-tried template look
 * optimistic, which is exactly what makes Thompson sampling over-explore with many candidates.
 * The mean m is the average of the candidates' smoothed pass rates; the strength s maximises the
 * beta-binomial marginal likelihood Σᵢ ln B(a + rᵢ, b + nᵢ − rᵢ) − ln B(a, b) plus the weakly
 * informative hyperprior p(a, b) ∝ (a + b)^(−5/2) (Gelman et al., BDA3 §5.3), on a log grid between
 * priorAlpha + priorBeta and empiricalBayesMaxStrength. The likelihood is valid under adaptive
 * designs (the choice of which arm to run depends only on past outcomes), and the hyperprior keeps
 * a handful of runs that show no spread yet from being read as "all templates are identical".
 * Falls back to the configured prior when fewer than `empiricalBayesMinArms` arms have evidence.
 * @param records each candidate's evidence at the global level
 */
export function fitBasePrior(records: readonly Evidence[], config: PolicyConfig): BasePrior {
  const grid = basePriorGrid(records, config);
  if (grid === undefined) return { alpha: config.priorAlpha, beta: config.priorBeta };
  let best = 0;
  for (let j = 1; j < grid.scores.length; j++) if (grid.scores[j]! > grid.scores[best]!) best = j;
  return { alpha: grid.mean * grid.strengths[best]!, beta: (1 - grid.mean) * grid.strengths[best]! };
}

/** The base prior's mean and the log posterior (up to a constant) of its strength at each grid point. */
interface StrengthGrid {
  readonly mean: number;
  readonly strengths: readonly number[];
  readonly scores: readonly number[];
}

/** fitBasePrior's grid: undefined where it falls back to the configured prior. */
function basePriorGrid(records: readonly Evidence[], config: PolicyConfig): StrengthGrid | undefined {
  if (!fitsBasePrior(records, config)) return undefined;
  const seen = records.map(effectiveEvidence).filter((r) => r.trials >= 1);
  const a0 = config.priorAlpha;
  const b0 = config.priorBeta;
  // The configured prior smooths each rate off 0 and 1, where a Beta mean cannot sit.
  let m = 0;
  for (const r of seen) m += (r.reward + a0) / (r.trials + a0 + b0);
  m /= seen.length;
  const minStrength = a0 + b0;
  const maxStrength = Math.max(minStrength, config.empiricalBayesMaxStrength);
  // Stored configurations from before the exponent was a setting used −1.5 (see PolicyConfig).
  const exponent = config.basePriorStrengthExponent ?? -1.5;
  const strengths: number[] = [];
  const scores: number[] = [];
  for (let j = 0; j < STRENGTH_GRID; j++) {
    const s = minStrength * Math.pow(maxStrength / minStrength, j / (STRENGTH_GRID - 1));
    const a = m * s;
    const b = (1 - m) * s;
    const lnB = logGamma(a) + logGamma(b) - logGamma(s);
    // p(a, b) ∝ (a + b)^(−5/2) is s^(−5/2); (a, b) → (m, s) has Jacobian s and s → ln s another s, so on
    // this log-strength grid ln p = −0.5 ln s.
    let score = exponent * Math.log(s);
    for (const r of seen) {
      score += logGamma(a + r.reward) + logGamma(b + r.trials - r.reward) - logGamma(s + r.trials) - lnB;
    }
    strengths.push(s);
    scores.push(score);
  }
  return { mean: m, strengths, scores };
}

/** Whether the base prior is fitted to `records` (else it is the configured prior): enough of them have runs. */
export function fitsBasePrior(records: readonly Evidence[], config: PolicyConfig): boolean {
  return config.empiricalBayes && records.map(effectiveEvidence).filter((r) => r.trials >= 1).length >= config.empiricalBayesMinArms;
}

/** One base prior of a mixture, with its posterior weight. */
export interface WeightedPrior extends BasePrior {
  readonly weight: number;
}

// Adjacent grid points merged into one component of the mixture (at its weighted mean log strength):
// each component costs a pooled posterior per candidate, and six nodes a factor of 2.8 apart in strength
// integrate a posterior that spans several of them as well as the 24 points do.
const POINTS_PER_COMPONENT = 4;
// Components whose posterior weights add up to less than this are dropped (and the rest renormalised).
const NEGLIGIBLE_MASS = 1e-4;

/**
 * The base prior with its strength integrated out (PolicyConfig.basePriorStrength 'integrated', policy /7):
 * the grid posterior of the strength under the same marginal likelihood and hyperprior fitBasePrior
 * maximises, as weighted priors (weights sum to 1). With a handful of templates the strength is poorly
 * determined (templates 0.44 ± 0.07 apart with 0–30 runs each are as consistent with 15 pseudo-runs as
 * with 500), and one fitted value made P(best) overconfident whenever the fit landed low.
 * Reference: Gelman et al., BDA3 §5.3 (the rat tumour grid): the strength's marginal posterior on a grid.
 */
export function basePriorMixture(records: readonly Evidence[], config: PolicyConfig): WeightedPrior[] {
  const grid = basePriorGrid(records, config);
  if (grid === undefined) return [{ alpha: config.priorAlpha, beta: config.priorBeta, weight: 1 }];
  const max = Math.max(...grid.scores);
  const raw = grid.scores.map((x) => Math.exp(x - max));
  const components: Array<{ strength: number; weight: number }> = [];
  for (let start = 0; start < raw.length; start += POINTS_PER_COMPONENT) {
    let weight = 0;
    let logStrength = 0;
    for (let j = start; j < Math.min(raw.length, start + POINTS_PER_COMPONENT); j++) {
      weight += raw[j]!;
      logStrength += raw[j]! * Math.log(grid.strengths[j]!);
    }
    if (weight > 0) components.push({ strength: Math.exp(logStrength / weight), weight });
  }
  const total = components.reduce((t, c) => t + c.weight, 0);
  const kept = components.filter((c) => c.weight >= NEGLIGIBLE_MASS * total);
  const mass = kept.reduce((t, c) => t + c.weight, 0);
  return kept.map((c) => ({ alpha: grid.mean * c.strength, beta: (1 - grid.mean) * c.strength, weight: c.weight / mass }));
}

/**
 * How uncertain the base prior's mean is at one strength: Var(m | s) ≈ 1 / Σᵢ nᵢ(s + 1) / (m(1 − m)(nᵢ + s)), the
 * inverse of the information each candidate's record carries about m (a record of n runs of a template whose rate
 * is Beta(m·s, (1 − m)·s) has variance m(1 − m)(n + s)/(n(s + 1)) around m). The fits plug the mean in as if known.
 * Infinity when no record has runs.
 * @param records the candidates' evidence the base prior was fitted to
 */
export function baseMeanVariance(records: readonly Evidence[], prior: BasePrior): number {
  const s = prior.alpha + prior.beta;
  const m = prior.alpha / s;
  let information = 0;
  for (const r of records.map(effectiveEvidence)) if (r.trials >= 1) information += (r.trials * (s + 1)) / (m * (1 - m) * (r.trials + s));
  return information > 0 ? 1 / information : Infinity;
}

/** How many pseudo-runs a wider level lends a narrower one, for one candidate set and context. */
export interface PoolStrengths {
  /** From the template's global record into the task class. */
  readonly taskClass: number;
  /** From the task class (or global) record into the repository cell. */
  readonly repo: number;
  /** Under `groupSpread: 'learned'` the strengths above are unused: each level widens by its learned spread. */
  readonly learned?: LearnedSpreads;
}

/**
 * Posterior weights of the between-group sd on spread.ts's grid, learned from every task class
 * (repository) of the candidates; undefined where no candidate has two groups at that level.
 */
export interface LearnedSpreads {
  readonly taskClass: readonly number[] | undefined;
  readonly repo: readonly number[] | undefined;
}

/**
 * The pooling strength that best explains how far the candidates' narrow records sit from their
 * wider records: the s maximising Σᵢ ln BB(rᵢ | nᵢ, μᵢ·s, (1 − μᵢ)·s), where (rᵢ, nᵢ) is candidate i's
 * narrow record and μᵢ its pass rate in the rest of the wider level (smoothed by the base prior).
 * If narrow records differ only by binomial noise the likelihood rises with s and the cap wins
 * (pool fully: the context carries no signal); real differences pull s down so the cell's own runs
 * soon dominate. A flat prior on log s over [1, cap]: with no narrow evidence yet, pool up to the
 * cap, as the fixed-strength policy did. Same estimator as the base prior, one level down.
 * Reference: Kass & Steffey (1989), parametric empirical Bayes for conditionally independent
 * hierarchical models; Gelman et al., BDA3 ch. 5.
 */
function fitStrength(pairs: ReadonlyArray<{ inner: Evidence; rest: Evidence }>, base: BasePrior, cap: number): number {
  if (cap <= 1) return cap;
  const data = pairs.filter((p) => p.inner.trials >= 1);
  if (data.length === 0) return cap;
  const mus = data.map((p) => (p.rest.reward + base.alpha) / (p.rest.trials + base.alpha + base.beta));
  let best = cap;
  let bestScore = -Infinity;
  for (let j = 0; j < STRENGTH_GRID; j++) {
    const s = Math.pow(cap, j / (STRENGTH_GRID - 1));
    let score = data.length * logGamma(s);
    for (let i = 0; i < data.length; i++) {
      const { reward: r, trials: n } = data[i]!.inner;
      const a = mus[i]! * s;
      const b = s - a;
      score += logGamma(a + r) + logGamma(b + n - r) - logGamma(s + n) - logGamma(a) - logGamma(b);
    }
    // ">=" keeps the largest strength among ties: no evidence of differences means pool.
    if (score >= bestScore - 1e-9) {
      bestScore = Math.max(score, bestScore);
      best = s;
    }
  }
  return best;
}

/**
 * Pooling strengths for one candidate set in one context: estimated from the candidates' records
 * when `empiricalBayesPooling` is on (at most `empiricalBayesPoolingMaxStrength`), else the fixed strengths.
 */
export function fitPoolStrengths(arms: readonly ArmEvidence[], base: BasePrior, config: PolicyConfig, nowMs: number): PoolStrengths {
  const fixed = { taskClass: config.taskClassPoolStrength, repo: config.repoPoolStrength };
  if (config.groupSpread === 'learned') return { ...fixed, learned: learnedSpreads(arms) };
  if (config.empiricalBayesPooling !== true) return fixed;
  const decay = config.decay;
  const tcPairs: Array<{ inner: Evidence; rest: Evidence }> = [];
  const cellPairs: Array<{ inner: Evidence; rest: Evidence }> = [];
  for (const arm of arms) {
    const { global, taskClass, repoTaskClass } = arm.evidence;
    const g = evidenceAt(global, nowMs, decay);
    const tc = taskClass && evidenceAt(taskClass, nowMs, decay);
    const cell = repoTaskClass && evidenceAt(repoTaskClass, nowMs, decay);
    if (tc !== undefined) tcPairs.push({ inner: effectiveEvidence(tc), rest: effectiveEvidence(subtractEvidence(g, tc, decay)) });
    if (cell !== undefined) {
      const outer = tc ?? g;
      cellPairs.push({ inner: effectiveEvidence(cell), rest: effectiveEvidence(subtractEvidence(outer, cell, decay)) });
    }
  }
  const max = config.empiricalBayesPoolingMaxStrength;
  return { taskClass: fitStrength(tcPairs, base, max), repo: fitStrength(cellPairs, base, max) };
}

/**
 * The between-group sd at each level, from every group of every candidate (pooled across templates: the
 * candidates' log-likelihoods add), as posterior weights over spread.ts's grid; undefined at a level where
 * no candidate has two groups (no task class seen in two repositories, no template in two task classes),
 * which says nothing about that level's spread (see pooledPosterior).
 */
function learnedSpreads(arms: readonly ArmEvidence[]): LearnedSpreads {
  const repo: number[] = [];
  const taskClass: number[] = [];
  for (const arm of arms) {
    const spread = arm.evidence.spread;
    if (spread === undefined) continue;
    spread.repo.forEach((x, j) => (repo[j] = (repo[j] ?? 0) + x));
    spread.taskClass.forEach((x, j) => (taskClass[j] = (taskClass[j] ?? 0) + x));
  }
  const posterior = (ll: number[]) => (ll.some((x) => x !== 0) ? spreadPosterior(ll) : undefined);
  return { taskClass: posterior(taskClass), repo: posterior(repo) };
}

// With nothing learned at a level, the spread is the hyperprior's.
const HYPERPRIOR_SPREAD = spreadPosterior([]);

interface Building {
  alpha: number;
  beta: number;
  contributions: Record<EvidenceLevel, number>;
}

/** Scales a Beta down to at most `cap` pseudo-runs, keeping its mean: a sparse cell's prior. */
function shrinkTo(b: Building, cap: number): Building {
  const strength = b.alpha + b.beta;
  if (strength <= cap) return b;
  const f = cap / strength;
  const contributions = { ...b.contributions };
  for (const k of Object.keys(contributions) as EvidenceLevel[]) contributions[k] *= f;
  return { alpha: b.alpha * f, beta: b.beta * f, contributions };
}

/**
 * The prior a narrower group (a task class, a repository) gets from a wider belief: the wider mean, with
 * the variance of that mean *plus* how far groups spread around it. In pseudo-runs, with the wider
 * belief's strength S and the pooling strength s (a group's rate ~ Beta(μs, (1 − μ)s) around a known μ),
 * Var = μ(1 − μ)/(S + 1) + μ(1 − μ)/(s + 1), so the strength is 1/(1/(S + 1) + 1/(s + 1)) − 1: below
 * both, where taking the smaller of the two (policy /3) took the larger variance instead of their sum.
 */
function combineWith(b: Building, s: number): Building {
  const strength = b.alpha + b.beta;
  const combined = 1 / (1 / (strength + 1) + 1 / (s + 1)) - 1;
  if (!(combined < strength)) return b;
  const f = Math.max(combined, 1e-6) / strength;
  const contributions = { ...b.contributions };
  for (const k of Object.keys(contributions) as EvidenceLevel[]) contributions[k] *= f;
  return { alpha: b.alpha * f, beta: b.beta * f, contributions };
}

/**
 * A narrower group's prior from a wider belief under a learned spread: the wider mean, with the variance
 * of that mean plus the between-group variance E_τ Var(logistic(logit μ + τZ)) (spread.ts) added, as a
 * Beta of the same mean. Groups that do not differ (τ near 0) keep nearly the whole wider belief.
 */
function widenBySpread(b: Building, weights: readonly number[], restSquares: number, tabulated: boolean): Building {
  restSquares = Math.max(0, restSquares);
  const strength = b.alpha + b.beta;
  const mean = b.alpha / strength;
  const between = betweenGroupVariance(mean, weights, tabulated);
  const spread = mean * (1 - mean);
  if (!(between > 0) || !(spread > 0)) return b;
  // The wider record pools groups that differ: its mean varies by Σ nᵢ² / S² times the between-group
  // variance beyond the binomial μ(1 − μ)/(S + 1) (runs within one group are not independent draws).
  const widerMean = spread / (strength + 1) + (between * restSquares) / (strength * strength);
  const combined = Math.max(spread / (widerMean + between) - 1, MIN_STRENGTH);
  if (!(combined < strength)) return b;
  const f = combined / strength;
  const contributions = { ...b.contributions };
  for (const k of Object.keys(contributions) as EvidenceLevel[]) contributions[k] *= f;
  return { alpha: b.alpha * f, beta: b.beta * f, contributions };
}
// Below one pseudo-run a Beta piles its mass at 0 and 1 and moment matching stops describing a spread of rates.
const MIN_STRENGTH = 1;

/** `b` plus a level's evidence, counted as its effective sample size under decay. */
function add(b: Building, evidence: Evidence, level: EvidenceLevel): Building {
  const e = effectiveEvidence(evidence);
  return {
    alpha: b.alpha + e.reward,
    beta: b.beta + (e.trials - e.reward),
    contributions: { ...b.contributions, [level]: b.contributions[level] + e.trials },
  };
}

/**
 * The arm's posterior in its context, pooled over three levels.
 *
 * Each level's evidence enters once: the global record without this task class, then the task
 * class without this repository, then the cell itself. Before each narrower level the belief so far
 * is capped at the pooling strengths (`strengths`, by default the configured caps) pseudo-runs, so a sparse cell borrows
 * the wider level's mean while a dense cell's own runs soon outweigh it. A new version starts from
 * its parent's posterior capped at `parentStrength` pseudo-runs instead of the base prior, or under
 * `versionPrior` 'fair-trial' from {@link fairTrialPrior}.
 * @param nowMs the decision time, for day-based decay
 */
export function pooledPosterior(arm: ArmEvidence, base: BasePrior, config: PolicyConfig, nowMs: number, strengths?: PoolStrengths): Posterior {
  const decay = config.decay;
  const pool = strengths ?? { taskClass: config.taskClassPoolStrength, repo: config.repoPoolStrength };
  let b: Building;
  if (arm.parent !== undefined) {
    const parent = pooledPosterior(arm.parent, base, config, nowMs, pool);
    const inherited = config.versionPrior === 'fair-trial' ? fairTrialPrior(parent, base, config.parentStrength) : shrinkTo(toBuilding(parent), config.parentStrength);
    b = { alpha: inherited.alpha, beta: inherited.beta, contributions: { ...NO_CONTRIBUTIONS, prior: inherited.alpha + inherited.beta } };
  } else {
    b = { alpha: base.alpha, beta: base.beta, contributions: { ...NO_CONTRIBUTIONS, prior: base.alpha + base.beta } };
  }
  const { global, taskClass, repoTaskClass } = arm.evidence;
  const g = evidenceAt(global, nowMs, decay);
  const tc = taskClass && evidenceAt(taskClass, nowMs, decay);
  const cell = repoTaskClass && evidenceAt(repoTaskClass, nowMs, decay);
  const inner = tc ?? cell;
  b = add(b, inner ? subtractEvidence(g, inner, decay) : g, 'global');
  // Configurations stored before poolingCombination existed capped the strength (policies ≤ /3).
  const narrow = config.poolingCombination === 'add-variances' ? combineWith : shrinkTo;
  const learned = config.groupSpread === 'learned' ? pool.learned : undefined;
  /**
   * Policy /5: the belief so far, widened by the spread of groups at a level. A new version's inherited
   * prior is its parent's posterior in this very context, the spread already in it: only what the
   * version's own records bring from wider levels is widened. A level whose spread nobody has measured
   * widens by the hyperprior when the wider record holds other groups' runs (one established repository
   * says nothing about how repositories differ); when it holds none (a task class seen in this
   * repository only), the wider level's spread already covers this group's difference, and widening
   * again would discard most of the borrowed record.
   */
  const widen = (b: Building, weights: readonly number[] | undefined, rest: Evidence, squares: number): Building => {
    if (arm.parent !== undefined && b.contributions.global + b.contributions.task_class === 0) return b;
    if (weights === undefined && !(rest.trials > 0)) return b;
    return widenBySpread(b, weights ?? HYPERPRIOR_SPREAD, squares, config.basePriorStrength === 'integrated');
  };
  const spread = arm.evidence.spread;
  // The spread sums' Σn² are of effective counts under groupSpreadCounts 'effective' (policy /7).
  const counted = (e: Evidence) => (config.groupSpreadCounts === 'effective' ? effectiveEvidence(e) : e).trials;
  if (tc !== undefined) {
    const rest = subtractEvidence(g, tc, decay);
    b = learned ? widen(b, learned.taskClass, rest, spread ? spread.classSquares - counted(tc) ** 2 : 0) : narrow(b, pool.taskClass);
    b = add(b, cell ? subtractEvidence(tc, cell, decay) : tc, 'task_class');
  }
  if (cell !== undefined) {
    const rest = subtractEvidence(tc ?? g, cell, decay);
    b = learned ? widen(b, learned.repo, rest, spread ? spread.repoSquares - counted(cell) ** 2 : 0) : narrow(b, pool.repo);
    b = add(b, cell, 'repo_task_class');
  }
  // A cap of 0 can empty a Beta; keep it proper.
  if (!(b.alpha > 0) || !(b.beta > 0)) {
    b = { ...b, alpha: Math.max(b.alpha, 1e-6), beta: Math.max(b.beta, 1e-6) };
  }
  return { alpha: b.alpha, beta: b.beta, contributions: b.contributions };
}

/**
 * A new version's prior under 'fair-trial' (policy /5): it was made to fix its parent, so the parent's
 * failures are not its own. It starts at the better of its parent's mean and the base prior's (a typical
 * template), with at most `cap` pseudo-runs and never more than the base prior's strength, so its own
 * runs soon outweigh whatever it was given.
 */
function fairTrialPrior(parent: Posterior, base: BasePrior, cap: number): Building {
  const baseStrength = base.alpha + base.beta;
  const mean = Math.max(parent.alpha / (parent.alpha + parent.beta), base.alpha / baseStrength);
  const strength = Math.min(cap, baseStrength);
  return { alpha: mean * strength, beta: (1 - mean) * strength, contributions: { ...NO_CONTRIBUTIONS, prior: strength } };
}

function toBuilding(p: Posterior): Building {
  return { alpha: p.alpha, beta: p.beta, contributions: { ...p.contributions } };
}

/** The level that contributed the most pseudo-runs (ties go to the narrower level). */
export function dominantLevel(p: Posterior): EvidenceLevel {
  const order: EvidenceLevel[] = ['repo_task_class', 'task_class', 'global', 'prior'];
  let best: EvidenceLevel = 'prior';
  let bestValue = -1;
  for (const level of order) {
    if (p.contributions[level] > bestValue + 1e-12) {
      best = level;
      bestValue = p.contributions[level];
    }
  }
  return best;
}

/**
 * Own and borrowed evidence behind an arm's pooled posterior in its context: its runs at the narrowest
 * level the context names, and for each wider level the runs recorded there beyond this context's with
 * what they count for after pooling (the posterior's contributions), then the parent version or the prior.
 */
export function evidenceSources(arm: ArmEvidence, p: Posterior, config: PolicyConfig, nowMs: number): EvidenceSources {
  const decay = config.decay;
  const g = evidenceAt(arm.evidence.global, nowMs, decay);
  const tc = arm.evidence.taskClass && evidenceAt(arm.evidence.taskClass, nowMs, decay);
  const cell = arm.evidence.repoTaskClass && evidenceAt(arm.evidence.repoTaskClass, nowMs, decay);
  const ownLevel = cell !== undefined ? 'repo_task_class' : tc !== undefined ? 'task_class' : 'global';
  const borrowed: BorrowedEvidence[] = [];
  if (cell !== undefined && tc !== undefined) borrowed.push({ source: 'task_class', runs: subtractEvidence(tc, cell, decay).trials, pseudoRuns: p.contributions.task_class });
  const inner = cell ?? tc;
  if (inner !== undefined) borrowed.push({ source: 'global', runs: subtractEvidence(g, tc ?? inner, decay).trials, pseudoRuns: p.contributions.global });
  borrowed.push({ source: arm.parent !== undefined ? 'parent' : 'prior', runs: 0, pseudoRuns: p.contributions.prior });
  const own = cell ?? tc ?? g;
  return { ownLevel, ownRuns: own.trials, ownPseudoRuns: p.contributions[ownLevel], borrowed: borrowed.filter((b) => b.runs > 0 || b.pseudoRuns > 0) };
}
