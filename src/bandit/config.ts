import { hashHex } from './hash.js';
import type { Violation } from './types.js';

/** Exponential forgetting of old evidence. */
export interface DecayConfig {
  /** Evidence loses half its weight every `halfLife` units. */
  readonly halfLife: number;
  readonly unit: 'days' | 'runs';
}

/** The learning policy's hyperparameters: an immutable, validated value. */
export interface PolicyConfig {
  /** Reward of an OUTCOME_PARTIAL run, in [0, 1] (a fractional Bernoulli update). */
  readonly partialReward: number;
  /** Base prior Beta(alpha, beta) when empirical Bayes has too little to go on. */
  readonly priorAlpha: number;
  readonly priorBeta: number;
  /**
   * Fit the base prior across the candidates' records (empirical Bayes) once at least
   * `empiricalBayesMinArms` of them have evidence. With dozens of candidates a flat Beta(1,1)
   * makes every untried arm look as good as a coin flip and Thompson sampling over-explores.
   */
  readonly empiricalBayes: boolean;
  readonly empiricalBayesMinArms: number;
  /**
   * Upper bound on the fitted prior's strength (alpha + beta), in pseudo-runs. High enough not to bind
   * on real spreads (templates 55–86% apart fit about 25; near-ties a few hundred): a cap that binds
   * reads near-identical templates as spread out, and over-explores them.
   */
  readonly empiricalBayesMaxStrength: number;
  /**
   * ln p(ln s) = this × ln s: the base prior's hyperprior on its log-strength grid. p(a, b) ∝ (a + b)^(−5/2)
   * (Gelman et al., BDA3 §5.3) is −0.5 there. A configuration stored before the field existed has none and
   * reads as −1.5, the exponent policies /2 and /3 used (a Jacobian error that under-estimated strengths).
   */
  readonly basePriorStrengthExponent?: number;
  /**
   * 'integrated' (policy /7): the base prior's strength is not one fitted value but its grid posterior
   * (the same marginal likelihood and hyperprior): each draw behind a pick, prob_best, the propensities and
   * the lift takes a strength from that posterior, and each candidate's reported posterior is the Beta of
   * the mixture's mean and variance. Absent (policies ≤ /6): the strength of highest posterior density.
   */
  readonly basePriorStrength?: 'integrated';
  /**
   * Estimate how many pseudo-runs a wider level lends a narrower one from the candidates' records
   * (empirical Bayes, between 1 and `empiricalBayesPoolingMaxStrength`) instead of the fixed
   * strengths below: a context whose records differ only by noise is pooled almost fully, one with
   * real differences much less.
   */
  readonly empiricalBayesPooling: boolean;
  readonly empiricalBayesPoolingMaxStrength: number;
  /** Without empirical-Bayes pooling: at most this many pseudo-runs flow from the template's global record into a task class. */
  readonly taskClassPoolStrength: number;
  /** Without empirical-Bayes pooling: at most this many pseudo-runs flow from the task-class record into one repository. */
  readonly repoPoolStrength: number;
  /**
   * How a wider level's belief becomes a narrower level's prior: 'add-variances' adds the uncertainty of
   * the wider mean and the spread of groups around it (policy /4); absent, the strength is capped at the
   * pooling strength, the larger of the two uncertainties only (policies ≤ /3).
   */
  readonly poolingCombination?: 'add-variances';
  /**
   * 'learned' (policy /5): how far a narrower group's rate may sit from its wider level's is the
   * between-group sd learned from every group at that level (all repositories within their task classes,
   * all task classes within their templates; spread.ts), as a grid posterior under a half-Cauchy
   * hyperprior, and a new group gets the predictive of a new group. The projection then keeps the
   * spread sums in task-class and global records. Absent: the strengths are fitted from this context's
   * cells only, or fixed (policies ≤ /4).
   */
  readonly groupSpread?: 'learned';
  /**
   * 'learned' (policy /6, with `groupSpread: 'learned'`): in a context without a task class, how far a
   * repository's rate may sit from the template's is learned from every template's repositories (the
   * global record keeps the sums of its ('', repo) records). Absent (/5): such a context learns nothing at
   * the repository level and widens every repository by the hyperprior's spread (about one logit), which
   * made repositories that do not differ nearly separate bandits (scenario context-noise: 0.56 of the lift
   * with the context against 0.79 under /4's per-context fit; ADR 0003's second amendment).
   */
  readonly classlessSpread?: 'learned';
  /**
   * 'effective' (policy /7): under decay each group enters the spread's likelihood (and Σn²) with its Kish
   * effective counts, which decay does not change, so the projection's sums are exact whenever each group
   * was last updated. Absent (≤ /6): its decayed Σw read as runs, which overstated every group's sampling
   * variance and learned about half the spread. No effect without decay. A different value rebuilds the
   * derived state (the sums are projected).
   */
  readonly groupSpreadCounts?: 'effective';
  /**
   * 'parent-rate' (policy /9): in the spread's likelihood each group's empirical logit has its sampling variance
   * at its parent's pass rate, 1/(n p(1 − p)), not at its own rate. The own-rate variance grows as a group's rate
   * moves away from its parent's, so the groups that differ most counted as the noisiest and the spread was learned
   * too small (a new repository at a true logit sd of 0.5 covered 89–93%; docs/adr/0008-spread-at-the-parent-rate.md).
   * Absent (≤ /8): the own-rate variance. A different value rebuilds the derived state (the sums are projected).
   */
  readonly groupSpreadVariance?: 'parent-rate';
  /** At most this many pseudo-runs a new version inherits from its parent. */
  readonly parentStrength: number;
  /**
   * 'fair-trial' (policy /5): a new version (a template with a parent) does not take its parent's failures
   * as its own: its prior is the better of its parent's mean and the base prior's, at most `parentStrength`
   * pseudo-runs and no stronger than the base prior; and until it has `trialRuns` runs of its own, a share
   * `trialShare` of every decision it is a candidate in is spent trying it (shared equally among the
   * versions on trial). 'inherit' or absent: it inherits its parent's posterior capped at `parentStrength` (≤ /4).
   * See docs/adr/0004-fair-trial.md.
   */
  readonly versionPrior?: 'fair-trial' | 'inherit';
  readonly trialRuns?: number;
  readonly trialShare?: number;
  /**
   * Satisficing tolerance, in standard deviations of pass rates across templates (the base prior's):
   * the pick is the candidate with the most evidence whose posterior draw is within
   * ε = satisficingTolerance × that sd of the best draw. 0 is plain Thompson sampling. Differences below
   * ε are not worth paying exploration for; see docs/adr/0002-many-candidates.md.
   */
  readonly satisficingTolerance: number;
  /**
   * Which of the candidates within ε of the best draw is picked: 'mean', the one with the highest
   * posterior mean (ties: most evidence); 'evidence', the one with the most evidence (policy
   * sts-pooled-eb/2). Preferring evidence locks onto the most-run template even when a better-estimated
   * one is within reach; see docs/adr/0002-many-candidates.md (amendment of 2026-11-27).
   */
  readonly satisficingOrder: 'mean' | 'evidence';
  /**
   * How ε grows with the number of candidates K: 'log-candidates-squared' multiplies it by (ln K / ln 8)²
   * (policy sts-pooled-eb/4), 'log-candidates' by ln K / ln 8 (/3); either way `satisficingTolerance`
   * is ε at 8 candidates; 'fixed' keeps it (/2). See toleranceScale() in recommend.ts and
   * docs/adr/0003-validation-matrix.md.
   */
  readonly satisficingScale: 'log-candidates-squared' | 'log-candidates' | 'fixed';
  /**
   * Clip each candidate's draw at μᵢ + horizonClip · sdᵢ · √(2 ln⁺(2N / (K nᵢ))) (MOTS, a horizon-aware Thompson sampling;
   * horizonClips() in recommend.ts), with N the candidate set's runs so far standing for the runs still to come; 1 with
   * `horizonClipShare` 'others-runs' from policy /10 (docs/adr/0003-validation-matrix.md, fifth amendment). Absent
   * (policies ≤ /9): draws are not clipped.
   */
  readonly horizonClip?: number;
  /**
   * With `horizonClip`, how much of the horizon a candidate has used: 'others-runs' counts Hᵢ = Σⱼ min(nᵢ, √(nᵢ nⱼ))
   * over the set (ADA-UCB's, Lattimore 2018) in place of K·nᵢ, so candidates with few runs count for little and a
   * candidate's share is spent only against others that have been run as much (policy /10). Absent: K·nᵢ (MOSS's).
   */
  readonly horizonClipShare?: 'others-runs';
  /** Optional forgetting; null keeps all evidence at full weight. */
  readonly decay: DecayConfig | null;
  /**
   * How decayed evidence is kept and read. 'template-clock' (policy /5): every level of a template decays on
   * the template's one clock (its learnable runs, or time), so a run carries one weight at every level and
   * "global minus task class" holds exactly the other classes' runs; and a posterior counts its evidence
   * as the Kish effective sample size (Σw)²/Σw² of the weights, not Σw (which read 1.4× too wide with
   * nothing changing). Absent (policies ≤ /4): run-based decay counts each level's own runs, and Σw.
   * No effect without decay.
   */
  readonly decayModel?: 'template-clock';
  /**
   * 'change-points' (policy /8, with run-based decay): a posterior reads a template's runs through a
   * Bayesian online change-point posterior (changes.ts): a mixture over when its rate last changed, with the
   * hazard learned across the candidates on a grid scaled by the half-life, so its interval includes the
   * chance of a change as far as the order of the runs allows (a decayed Beta put half its weight on the old
   * rate one half-life after a change and covered the new one 39% of the time). The projection keeps each
   * record's sums since every kept change point. Absent (≤ /7), or with day-based decay without
   * dayChangeHazard: the decayed sums alone. A different value rebuilds the derived state.
   */
  readonly decayChanges?: 'change-points';
  /**
   * 'elapsed-time' (policy /11, with day-based decay and decayChanges): day-based decay too reads a template
   * through its change points. The chance of a change between two of its runs grows with the time between
   * them (the half-life's per-day hazard over the days elapsed), and a decision adds the chance that the rate
   * changed since the template's last run, so an idle template's interval widens towards the prior as its
   * decayed sums did. Runs are taken in log order; one that finished before the latest adds no hazard.
   * Absent (≤ /10): day-based decay keeps the decayed sums alone (43.5% coverage one half-life after a change).
   * A different value rebuilds the derived state.
   */
  readonly dayChangeHazard?: 'elapsed-time';
  /**
   * How propensities are estimated from the summary's draws: 'rao-blackwell' averages each candidate's
   * exact pick probability given the others' draws (precise when small, never 0 for a pickable
   * template); 'counts' counts picks (policies up to /4; a configuration without the field reads so).
   */
  readonly propensityEstimator?: 'rao-blackwell' | 'counts';
  /** Monte Carlo draws per candidate for prob_best, propensities and the lift interval. */
  readonly summarySamples: number;
  /** Largest candidate set a Recommend may name. */
  readonly maxCandidates: number;
}

export const DEFAULT_POLICY_CONFIG: PolicyConfig = Object.freeze({
  partialReward: 0.5,
  priorAlpha: 1,
  priorBeta: 1,
  empiricalBayes: true,
  empiricalBayesMinArms: 3,
  empiricalBayesMaxStrength: 1000,
  basePriorStrengthExponent: -0.5,
  basePriorStrength: 'integrated',
  empiricalBayesPooling: true,
  empiricalBayesPoolingMaxStrength: 200,
  taskClassPoolStrength: 20,
  repoPoolStrength: 10,
  parentStrength: 10,
  versionPrior: 'fair-trial',
  trialRuns: 10,
  trialShare: 0.1,
  poolingCombination: 'add-variances',
  groupSpread: 'learned',
  classlessSpread: 'learned',
  groupSpreadCounts: 'effective',
  groupSpreadVariance: 'parent-rate',
  satisficingTolerance: 0.25,
  satisficingOrder: 'mean',
  satisficingScale: 'log-candidates-squared',
  horizonClip: 1,
  horizonClipShare: 'others-runs',
  decay: null,
  decayModel: 'template-clock',
  decayChanges: 'change-points',
  dayChangeHazard: 'elapsed-time',
  propensityEstimator: 'rao-blackwell',
  summarySamples: 2000,
  maxCandidates: 1000,
});

/** Code version of the policy; bump on any change that alters decisions for the same inputs. */
// /2: the empirical-Bayes prior counts every candidate once (beta-binomial marginal likelihood),
// and the pick is satisficing Thompson sampling (propensity no longer equals prob_best).
// /3: the satisficing pick prefers the highest posterior mean within ε of the best draw (satisficingOrder),
// and ε grows with ln(candidates) (satisficingScale).
// /4: the base prior's hyperprior has the right Jacobian on the log-strength grid (−0.5 ln s, /3 used
// −1.5 ln s and under-estimated strengths 0.23–0.93×), and its strength may reach 1,000 pseudo-runs
// (near-identical templates are no longer read as spread out); propensities are Rao–Blackwellised;
// ε grows with (ln K / ln 8)², chosen on the validation matrix (docs/adr/0003-validation-matrix.md);
// a narrower level's prior adds the wider mean's variance and the spread of groups (poolingCombination).
// /5: with decay on, every level of a template decays on the template's one clock and posteriors count
// the effective sample size of the weights (decayModel).
// /5 also: a new version (a template with a parent) gets a fair trial: it starts from the better of its parent's
// mean and the base prior's, weakly, and until it has `trialRuns` runs of its own `trialShare` of the
// decisions it is a candidate in try it (versionPrior 'fair-trial', docs/adr/0004-fair-trial.md).
// /5: the between-group spread is learned from every group at a level (groupSpread: 'learned').
// /6: a context without a task class learns how repositories differ from every template's repositories
// (classlessSpread), where /5 widened each repository by the hyperprior.
// /7: the base prior's strength is integrated over its posterior, one strength per draw (basePriorStrength);
// under decay the spread's groups count their effective sample size (groupSpreadCounts).
// /8: under run-based decay a posterior is a mixture over when the template's rate last changed (decayChanges).
// /9: the spread's likelihood reads each group's sampling variance at its parent's pass rate (groupSpreadVariance).
// /10: each draw is clipped at a horizon-aware bound (MOTS, c = 1), each candidate's share of the horizon counted as
// ADA-UCB counts it (horizonClip, horizonClipShare): on the validation matrix's 20 target cells 9 shortfalls against /9's 19.
// /11: under day-based decay too a posterior is a mixture over when the template's rate last changed, the hazard
// set by the time elapsed (dayChangeHazard); without day-based decay it decides as /10.
export const POLICY_CODE_VERSION = 'sts-pooled-eb/11';

const positive = (v: number) => Number.isFinite(v) && v > 0;
const nonNegative = (v: number) => Number.isFinite(v) && v >= 0;

/**
 * Every problem with a policy configuration (never throws).
 * @returns an empty array when the configuration is usable.
 */
export function validatePolicyConfig(c: PolicyConfig): Violation[] {
  const out: Violation[] = [];
  const check = (ok: boolean, field: string, want: string, got: unknown) => {
    if (!ok) out.push({ field, description: `must be ${want}; got ${String(got)}` });
  };
  check(nonNegative(c.partialReward) && c.partialReward <= 1, 'partialReward', 'a number in [0, 1]', c.partialReward);
  check(positive(c.priorAlpha), 'priorAlpha', 'a finite number > 0', c.priorAlpha);
  check(positive(c.priorBeta), 'priorBeta', 'a finite number > 0', c.priorBeta);
  check(Number.isInteger(c.empiricalBayesMinArms) && c.empiricalBayesMinArms >= 2, 'empiricalBayesMinArms', 'an integer >= 2', c.empiricalBayesMinArms);
  check(c.basePriorStrengthExponent === undefined || (Number.isFinite(c.basePriorStrengthExponent) && Math.abs(c.basePriorStrengthExponent) <= 5), 'basePriorStrengthExponent', 'a number in [-5, 5]', c.basePriorStrengthExponent);
  check(positive(c.empiricalBayesMaxStrength), 'empiricalBayesMaxStrength', 'a finite number > 0', c.empiricalBayesMaxStrength);
  check(c.empiricalBayesPooling !== true || (Number.isFinite(c.empiricalBayesPoolingMaxStrength) && c.empiricalBayesPoolingMaxStrength >= 1), 'empiricalBayesPoolingMaxStrength', 'a finite number >= 1', c.empiricalBayesPoolingMaxStrength);
  check(nonNegative(c.taskClassPoolStrength), 'taskClassPoolStrength', 'a finite number >= 0', c.taskClassPoolStrength);
  check(nonNegative(c.repoPoolStrength), 'repoPoolStrength', 'a finite number >= 0', c.repoPoolStrength);
  check(c.poolingCombination === undefined || c.poolingCombination === 'add-variances', 'poolingCombination', '"add-variances" or absent', c.poolingCombination);
  check(c.basePriorStrength === undefined || c.basePriorStrength === 'integrated', 'basePriorStrength', '"integrated" or absent', c.basePriorStrength);
  check(c.groupSpreadCounts === undefined || c.groupSpreadCounts === 'effective', 'groupSpreadCounts', '"effective" or absent', c.groupSpreadCounts);
  check(c.groupSpreadVariance === undefined || c.groupSpreadVariance === 'parent-rate', 'groupSpreadVariance', '"parent-rate" or absent', c.groupSpreadVariance);
  check(c.groupSpread === undefined || c.groupSpread === 'learned', 'groupSpread', '"learned" or absent', c.groupSpread);
  check(c.classlessSpread === undefined || c.classlessSpread === 'learned', 'classlessSpread', '"learned" or absent', c.classlessSpread);
  check(nonNegative(c.parentStrength), 'parentStrength', 'a finite number >= 0', c.parentStrength);
  check(c.versionPrior === undefined || c.versionPrior === 'fair-trial' || c.versionPrior === 'inherit', 'versionPrior', '"fair-trial", "inherit" or absent', c.versionPrior);
  check(c.trialRuns === undefined || (Number.isInteger(c.trialRuns) && c.trialRuns >= 0), 'trialRuns', 'an integer >= 0', c.trialRuns);
  check(c.trialShare === undefined || (Number.isFinite(c.trialShare) && c.trialShare >= 0 && c.trialShare < 1), 'trialShare', 'a number in [0, 1)', c.trialShare);
  check(c.horizonClip === undefined || (Number.isFinite(c.horizonClip) && c.horizonClip >= 0 && c.horizonClip <= 10), 'horizonClip', 'a number in [0, 10] or absent', c.horizonClip);
  check(c.horizonClipShare === undefined || c.horizonClipShare === 'others-runs', 'horizonClipShare', '"others-runs" or absent', c.horizonClipShare);
  check(nonNegative(c.satisficingTolerance) && c.satisficingTolerance <= 2, 'satisficingTolerance', 'a number in [0, 2]', c.satisficingTolerance);
  // A configuration stored before the field existed has none: it reads as 'evidence', as that policy was.
  check(c.satisficingOrder === undefined || c.satisficingOrder === 'mean' || c.satisficingOrder === 'evidence', 'satisficingOrder', '"mean" or "evidence"', c.satisficingOrder);
  check(c.satisficingScale === undefined || c.satisficingScale === 'log-candidates-squared' || c.satisficingScale === 'log-candidates' || c.satisficingScale === 'fixed', 'satisficingScale', '"log-candidates-squared", "log-candidates" or "fixed"', c.satisficingScale);
  check(c.decayModel === undefined || c.decayModel === 'template-clock', 'decayModel', '"template-clock" or absent', c.decayModel);
  check(c.decayChanges === undefined || c.decayChanges === 'change-points', 'decayChanges', '"change-points" or absent', c.decayChanges);
  check(c.dayChangeHazard === undefined || c.dayChangeHazard === 'elapsed-time', 'dayChangeHazard', '"elapsed-time" or absent', c.dayChangeHazard);
  check(c.propensityEstimator === undefined || c.propensityEstimator === 'rao-blackwell' || c.propensityEstimator === 'counts', 'propensityEstimator', '"rao-blackwell" or "counts"', c.propensityEstimator);
  check(Number.isInteger(c.summarySamples) && c.summarySamples >= 100, 'summarySamples', 'an integer >= 100', c.summarySamples);
  check(Number.isInteger(c.maxCandidates) && c.maxCandidates >= 1, 'maxCandidates', 'an integer >= 1', c.maxCandidates);
  if (c.decay !== null) {
    check(positive(c.decay.halfLife), 'decay.halfLife', 'a finite number > 0', c.decay.halfLife);
    check(c.decay.unit === 'days' || c.decay.unit === 'runs', 'decay.unit', '"days" or "runs"', c.decay.unit);
  }
  return out;
}

/** Short fingerprint of the configuration and code version, logged with every decision. */
export function policyVersion(c: PolicyConfig): string {
  let version = versions.get(c);
  if (version === undefined) {
    const canonical = JSON.stringify(c, Object.keys(c).sort());
    versions.set(c, (version = `${POLICY_CODE_VERSION}+${hashHex(canonical + JSON.stringify(c.decay)).slice(0, 12)}`));
  }
  return version;
}
// Configurations are immutable values, so each one's version is computed once (it is on every decision's path).
const versions = new WeakMap<PolicyConfig, string>();
