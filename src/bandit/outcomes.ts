/**
 * Pass / partial / fail: what each number in an answer is. The policy decides on expected reward (a
 * pass earns 1, a partial `partialReward`, anything else 0), so its Beta posterior is of expected
 * reward, not of the pass rate. Beside it the core keeps each level's (decayed) pass count and pools it
 * into a second Beta with the *same* pooling weights: at every level the pass Beta has the strength the
 * reward Beta has, from the same base-prior strength, pooling strengths and effective sample sizes. The
 * two are then the marginals of one Dirichlet over (pass, partial, fail) with pseudo-counts
 * P = passAlpha, Q = (alpha − P)/partialReward and F = the rest, which gives each number its interval:
 *   pass rate        θ_pass ~ Beta(P, Q + F), exact for the pass indicator;
 *   expected reward  θ_pass + partialReward·θ_partial, whose Dirichlet variance is
 *                    (P + r²Q)/S − μ²)/(S + 1) ≤ the Beta's μ(1 − μ)/(S + 1): a partial is a half-success, not
 *                    a coin flip, so the Beta's interval was too wide whenever partials occur (a
 *                    moment-matched Beta gives the interval).
 * Two Betas sharing weights rather than a Dirichlet of its own: the pooling machinery (base prior,
 * between-level strengths, decay) stays one piece of code, and the decision's posterior is unchanged.
 * Reference: Gelman et al., BDA3 §3.4 (multinomial / Dirichlet).
 */
import type { PolicyConfig } from './config.js';
import { betaInterval } from './distributions.js';
import { effectiveEvidence } from './evidence.js';
import { pooledPosterior, type BasePrior, type PoolStrengths } from './pooling.js';
import type { ArmEvidence, Evidence, Posterior } from './types.js';

/** Passes in place of rewards (records projected before passes were counted read their reward). */
const passesOf = (e: Evidence): Evidence => ({ ...e, reward: e.passes ?? e.reward });
const passesOfLevel = (e: Evidence | undefined) => (e === undefined ? undefined : passesOf(e));

function passView(arm: ArmEvidence): ArmEvidence {
  const { global, taskClass, repoTaskClass } = arm.evidence;
  return {
    armId: arm.armId,
    // Whatever else the levels carry (the learned spread of groups) is the reward Beta's, and stays.
    evidence: { ...arm.evidence, global: passesOf(global), taskClass: passesOfLevel(taskClass), repoTaskClass: passesOfLevel(repoTaskClass) },
    parent: arm.parent === undefined ? undefined : passView(arm.parent),
  };
}

/**
 * The base prior for pass rates: the reward prior's strength, centred on the candidates' mean pass rate
 * smoothed as fitBasePrior smooths rewards (so its mean is at most the reward prior's, and the
 * Dirichlet's prior pseudo-counts are never negative). Without enough records it is the reward prior.
 */
export function passBasePrior(globals: readonly Evidence[], base: BasePrior, config: PolicyConfig): BasePrior {
  const seen = globals.map(effectiveEvidence).filter((r) => r.trials >= 1);
  if (!config.empiricalBayes || seen.length < config.empiricalBayesMinArms) return base;
  const a0 = config.priorAlpha;
  const b0 = config.priorBeta;
  let reward = 0;
  let pass = 0;
  for (const r of seen) {
    reward += (r.reward + a0) / (r.trials + a0 + b0);
    pass += ((r.passes ?? r.reward) + a0) / (r.trials + a0 + b0);
  }
  const strength = base.alpha + base.beta;
  // Rounding aside the ratio is ≤ 1: every run's passes are at most its reward.
  const mean = Math.min(1, pass / reward) * (base.alpha / strength);
  return { alpha: mean * strength, beta: (1 - mean) * strength };
}

/** The candidates' posteriors with each one's pooled pass Beta alongside (`passAlpha`). */
export function withPassRates(arms: readonly ArmEvidence[], posteriors: readonly Posterior[], base: BasePrior, strengths: PoolStrengths, config: PolicyConfig, nowMs: number): Posterior[] {
  const passBase = passBasePrior(arms.map((a) => a.evidence.global), base, config);
  return posteriors.map((p, i) => withPassRate(arms[i]!, p, passBase, strengths, config, nowMs));
}

/** One candidate's reward posterior `p` with its pooled pass Beta alongside, from the pass base prior. */
export function withPassRate(arm: ArmEvidence, p: Posterior, passBase: BasePrior, strengths: PoolStrengths, config: PolicyConfig, nowMs: number): Posterior {
  const pass = pooledPosterior(passView(arm), passBase, config, nowMs, strengths);
  // The same weights give the same strength; the pass alpha is at most the reward alpha.
  return { ...p, passAlpha: Math.min(p.alpha, pass.alpha * ((p.alpha + p.beta) / (pass.alpha + pass.beta))) };
}

/** A rate with its 95% equal-tailed credible interval. */
export interface RateInterval {
  readonly mean: number;
  readonly ciLow: number;
  readonly ciHigh: number;
}

/** The pass rate and the expected reward of a posterior, each with its 95% interval. */
export function outcomeIntervals(p: Posterior, partialReward: number): { passRate: RateInterval; expectedReward: RateInterval } {
  const s = p.alpha + p.beta;
  const mu = p.alpha / s;
  const pass = Math.min(p.alpha, Math.max(0, p.passAlpha ?? p.alpha));
  const [pLow, pHigh] = betaInterval(Math.max(pass, 1e-9), Math.max(s - pass, 1e-9), 0.95);
  const passRate = { mean: pass / s, ciLow: pLow, ciHigh: pHigh };
  // Partials' pseudo-count Q = (alpha − P)/r; E[reward²] per run = (P + r²Q)/S = (P + r(alpha − P))/S.
  const r = partialReward;
  const second = r > 0 && r < 1 ? (pass + r * (p.alpha - pass)) / s : mu;
  const variance = Math.max(0, second - mu * mu) / (s + 1);
  const betaVar = (mu * (1 - mu)) / (s + 1);
  // Moment-matched Beta of the same mean: its strength grows as partials shrink the variance.
  const strength = variance > 0 && variance < betaVar ? (mu * (1 - mu)) / variance - 1 : s;
  const [rLow, rHigh] = betaInterval(Math.max(mu * strength, 1e-9), Math.max((1 - mu) * strength, 1e-9), 0.95);
  return { passRate, expectedReward: { mean: mu, ciLow: rLow, ciHigh: rHigh } };
}
