import type { PolicyConfig } from './config.js';
import { policyVersion } from './config.js';
import { betaMean, betaVariance } from './distributions.js';
import { hashHex } from './hash.js';
import { fitBasePrior, fitPoolStrengths, pooledPosterior } from './pooling.js';
import type { BasePrior } from './pooling.js';
import { createRng, rngForDecision } from './rng.js';
import type { Rng } from './rng.js';
import { summarizePosterior } from './summary.js';
import type { PickRule, SetSummary } from './thompson.js';
import { satisficingPick, summarizeSet } from './thompson.js';
import type { ArmEvidence, Context, Decision, DecisionId, EvidenceLevel, Posterior, PosteriorSummary, RankedArm } from './types.js';

export interface RecommendInput {
  readonly decisionId: DecisionId;
  readonly context: Context;
  /** Candidates with their pooled evidence, in the order the caller named them. At least one. */
  readonly arms: readonly ArmEvidence[];
  /** Decision time in ms since the epoch (for day-based decay only). */
  readonly nowMs: number;
  /** How many ranked arms to return; 0 returns all. */
  readonly topK: number;
}

/** Memo for Monte Carlo summaries, keyed by a fingerprint of the posteriors (injected by adapters). */
export interface SummaryCache {
  get(key: string): SetSummary | undefined;
  set(key: string, value: SetSummary): void;
}

/** The posteriors of a candidate set, with the base prior they share. */
export function candidatePosteriors(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number): Posterior[] {
  return posteriorsWithBase(arms, config, nowMs).posteriors;
}

function posteriorsWithBase(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number): { base: BasePrior; posteriors: Posterior[] } {
  const base = fitBasePrior(
    arms.map((a) => a.evidence.global),
    config,
  );
  const strengths = fitPoolStrengths(arms, base, config, nowMs);
  return { base, posteriors: arms.map((a) => pooledPosterior(a, base, config, nowMs, strengths)) };
}

/**
 * The pick rule for a candidate set. The tolerance is `satisficingTolerance` times the standard
 * deviation of the base prior, i.e. of pass rates across templates: it scales with how different
 * templates are in this deployment, not with any one data set's pass rates. Candidates are ordered
 * by the evidence in their posteriors (pseudo-runs beyond the prior), most first; ties keep input order.
 */
export function pickRule(posteriors: readonly Posterior[], base: BasePrior, config: PolicyConfig): PickRule {
  const evidence = posteriors.map((p) => p.alpha + p.beta - p.contributions.prior);
  const order = posteriors.map((_, i) => i).sort((a, b) => evidence[b]! - evidence[a]! || a - b);
  // A configuration stored before the tolerance existed has none: that policy was plain Thompson sampling.
  const factor = Number.isFinite(config.satisficingTolerance) ? config.satisficingTolerance : 0;
  return { tolerance: factor * Math.sqrt(betaVariance(base.alpha, base.beta)), order };
}

/** What the policy decided for one candidate set: the pick, the posteriors and the rule behind it. */
export interface Choice {
  /** Index of the chosen candidate in the input order. */
  readonly index: number;
  readonly posteriors: readonly Posterior[];
  readonly rule: PickRule;
}

/**
 * The decision itself, without the explanation: pooled posteriors, then one satisficing Thompson draw.
 * `recommend()` and the offline benchmark both call this, so the benchmark measures the
 * production policy rather than a copy of it.
 * @param rng the decision's 'pick' stream
 */
export function choose(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number, rng: Rng): Choice {
  if (arms.length === 0) throw new RangeError('choose needs at least one candidate');
  const { base, posteriors } = posteriorsWithBase(arms, config, nowMs);
  const rule = pickRule(posteriors, base, config);
  return { index: satisficingPick(posteriors, rule, rng), posteriors, rule };
}

/**
 * Picks a template by satisficing Thompson sampling over pooled posteriors and explains the choice.
 *
 * The pick uses the decision's own stream, so the same decision id and evidence replay to the
 * same choice. prob_best, propensities and the lift interval are one Monte Carlo summary of the
 * posteriors, drawn from a stream seeded by a fingerprint of those posteriors: equal posteriors
 * give equal summaries (which lets adapters cache them), and the summary's sample count cannot
 * change the pick. The same draws give both P(best) and the propensity P(the policy picks it):
 * under the satisficing rule they differ (a well-known template within ε of the best draw is
 * picked in place of the best), so each draw is pushed through the policy's own pick rule.
 * @throws RangeError when `arms` is empty (validation rejects that earlier).
 */
export function recommend(input: RecommendInput, config: PolicyConfig, cache?: SummaryCache): Decision {
  const { arms } = input;
  if (arms.length === 0) throw new RangeError('recommend needs at least one candidate');
  const { index: chosen, posteriors, rule } = choose(arms, config, input.nowMs, rngForDecision(input.decisionId, 'pick'));

  const fingerprint = hashHex(
    `${config.summarySamples}|${rule.tolerance}|${rule.order.join(',')}|${posteriors.map((p) => `${p.alpha},${p.beta}`).join(';')}`,
  );
  let set = cache?.get(fingerprint);
  if (set === undefined) {
    set = summarizeSet(posteriors, createRng(`summary\u0000${fingerprint}`), config.summarySamples, rule);
    cache?.set(fingerprint, set);
  }
  const probBest = set.probBest;
  const propensity = set.propensity;
  const means = posteriors.map((p) => betaMean(p.alpha, p.beta));

  const order = arms.map((_, i) => i);
  order.sort((a, b) => {
    if (a === chosen) return -1;
    if (b === chosen) return 1;
    return probBest[b]! - probBest[a]! || means[b]! - means[a]! || (arms[a]!.armId < arms[b]!.armId ? -1 : 1);
  });
  const shown = input.topK > 0 ? order.slice(0, input.topK) : order;
  const ranking: RankedArm[] = shown.map((i) => ({
    armId: arms[i]!.armId,
    posterior: summarizePosterior(posteriors[i]!),
    probBest: probBest[i]!,
    propensity: propensity[i]!,
  }));

  const uniformMean = means.reduce((s, m) => s + m, 0) / means.length;
  const chosenMean = means[chosen]!;
  const [ciLow, ciHigh] = set.liftInterval(chosen);
  const absolute = chosenMean - uniformMean;
  const lift = {
    chosenMean,
    uniformMean,
    absolute,
    relative: uniformMean > 0 ? absolute / uniformMean : 0,
    ciLow,
    ciHigh,
  };
  const leader = order.length > 1 ? order.slice(1).reduce((a, b) => (probBest[b]! > probBest[a]! ? b : a)) : chosen;
  const exploring = probBest[leader]! > probBest[chosen]! && means[leader]! > means[chosen]!;
  return {
    decisionId: input.decisionId,
    context: input.context,
    chosen: arms[chosen]!.armId,
    propensity: propensity[chosen]!,
    ranking,
    lift,
    policyVersion: policyVersion(config),
    rationale: explain(arms[chosen]!, ranking[0]!.posterior, probBest[chosen]!, arms.length, lift.absolute, exploring ? arms[leader]!.armId : undefined),
  };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

const LEVEL_WORDS: Record<EvidenceLevel, string> = {
  repo_task_class: 'in this task class and repository',
  task_class: 'in this task class, borrowed from other repositories',
  global: 'across all task classes',
  prior: 'the prior alone (no runs yet)',
};

function explain(
  arm: ArmEvidence,
  p: PosteriorSummary,
  probBest: number,
  candidates: number,
  lift: number,
  leader: string | undefined,
): string {
  const runs = p.observations >= 0.5 ? `~${Math.round(p.observations)} runs ` : '';
  const inherited = arm.parent !== undefined && p.evidenceLevel === 'prior' ? `, inherited from ${arm.parent.armId}` : '';
  const estimate = `${arm.armId} has an estimated pass rate of ${pct(p.mean)} (95% CI ${pct(p.ciLow)}–${pct(p.ciHigh)}) from ${runs}${LEVEL_WORDS[p.evidenceLevel]}${inherited}.`;
  if (candidates === 1) return `${estimate} It was the only candidate.`;
  const sign = lift >= 0 ? '+' : '−';
  const points = `${sign}${Math.abs(lift * 100).toFixed(1)} points`;
  if (leader !== undefined) {
    return `${estimate} Exploring: it has a ${pct(probBest)} chance of being the best of ${candidates} (${leader} leads), and trying it sharpens the estimate; expected lift over a uniform pick: ${points}.`;
  }
  return `${estimate} It has a ${pct(probBest)} chance of being the best of ${candidates}; expected lift over a uniform pick: ${points}.`;
}
