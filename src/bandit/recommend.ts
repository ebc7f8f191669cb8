import type { PolicyConfig } from './config.js';
import { policyVersion } from './config.js';
import { betaMean, betaVariance } from './distributions.js';
import { cyrb128, cyrb128Words, hashHex, hexOf } from './hash.js';
import { evidenceAt } from './evidence.js';
import { baseMeanVariance, basePriorMixture, evidenceSources, fitBasePrior, fitPoolStrengths, fitsBasePrior, pooledPosterior } from './pooling.js';
import type { BasePrior, PoolStrengths, WeightedPrior } from './pooling.js';
import { createRng, rngForDecision } from './rng.js';
import type { Rng } from './rng.js';
import { changeSegments, currentEvidence, hazardWeights } from './changes.js';
import { passBasePrior, withPassRate, withPassRates } from './outcomes.js';
import { summarizePosterior } from './summary.js';
import type { PickRule, PosteriorMixture, SetSummary } from './thompson.js';
import { satisficingPick, summarizeSet } from './thompson.js';
import type { ArmEvidence, Context, Decision, DecisionId, Evidence, EvidenceSources, Posterior, PosteriorSummary, RankedArm } from './types.js';

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

/** The posteriors answers report of a candidate set (each template's interval, pass rate and evidence; {@link reportedPosteriors}). */
export function candidatePosteriors(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number): Posterior[] {
  return posteriorsWithBase(arms, config, nowMs).reported;
}

interface PooledSet {
  readonly base: BasePrior;
  /** Each candidate's posterior; with a mixture, its marginal (the mixture's mean and variance, as a Beta). */
  readonly posteriors: Posterior[];
  /** Policy /7: the joint posterior over the base prior's strength, which draws come from. */
  readonly mixture?: PosteriorMixture | undefined;
  /** What answers report of each candidate ({@link reportedPosteriors}); `posteriors` where nothing is added. */
  readonly reported: Posterior[];
}

function posteriorsWithBase(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number): PooledSet {
  const hazards = arms.some((a) => a.evidence.changes !== undefined) ? hazardWeights(arms.map((a) => a.evidence.changes?.record)) : undefined;
  // Under change points (policy /8) the base prior is fitted to each template's runs since its last change.
  const globals = arms.map(({ evidence: e }) => (hazards !== undefined && e.changes !== undefined ? currentEvidence(e.changes.record, e.changes.global, hazards, config, nowMs) : e.global));
  const priors = config.basePriorStrength === 'integrated' ? basePriorMixture(globals, config) : undefined;
  const base = priors === undefined ? fitBasePrior(globals, config) : momentBase(priors);
  const strengths = fitPoolStrengths(arms, base, config, nowMs);
  const pooled = (prior: BasePrior) => {
    if (hazards === undefined) return withPassRates(arms, arms.map((a) => pooledPosterior(a, prior, config, nowMs, strengths)), prior, strengths, config, nowMs);
    const passBase = passBasePrior(globals, prior, config);
    return arms.map((a) => sinceChange(a, prior, passBase, hazards, strengths, config, nowMs));
  };
  if (priors === undefined || priors.length === 1) {
    const posteriors = pooled(priors?.[0] ?? base);
    // The configured prior (too few records to fit one) has no mean to be unsure of.
    return { base, posteriors, reported: priors === undefined || !fitsBasePrior(globals, config) ? posteriors : reportedPosteriors([posteriors], priors, globals, arms) };
  }
  const components = priors.map(pooled);
  const weights = priors.map((p) => p.weight);
  return {
    base,
    posteriors: arms.map((_, i) => marginal(components.map((c) => c[i]!), weights)),
    mixture: { weights, components },
    reported: reportedPosteriors(components, priors, globals, arms),
  };
}

/**
 * What answers report of each candidate under policy /7's integrated strength: the mixture's marginal with the
 * uncertainty of the base prior's mean carried in, which the decision's posteriors leave out (they plug the mean in).
 * Each component's weight is multiplied by √Var(m | s), the Laplace approximation of integrating m out (a strong
 * prior pins m down, so holding m fixed favoured strong priors: more shrinkage than the records support), and each
 * candidate's variance gains (the prior's share of its pseudo-runs)² · Var(m | s), how far its mean moves with m (not a
 * new version's: its prior is its parent's or the fair trial's).
 * Only the reported spread changes (intervals, pass-rate intervals, pseudo-runs), about the decision's mean; the pick,
 * prob_best, the propensities, the means and the lift come from the decision's posteriors. With 3–12 templates of 0–30
 * runs in one context (rates ~ Beta(3, 5)) the decision's marginals covered 90.5–91.5% (test/bandit/few-candidates.stat.test.ts).
 * Reference: Gelman et al., BDA3 §5.3 (the hyperparameters' joint posterior); Tierney & Kadane (1986) (Laplace).
 */
function reportedPosteriors(components: ReadonlyArray<readonly Posterior[]>, priors: readonly WeightedPrior[], globals: readonly Evidence[], arms: readonly ArmEvidence[]): Posterior[] {
  const decisionWeights = priors.map((p) => p.weight);
  const variances = priors.map((p) => baseMeanVariance(globals, p));
  const raw = priors.map((p, g) => p.weight * Math.sqrt(variances[g]!));
  const total = raw.reduce((t, w) => t + w, 0);
  // No record with runs (unreachable where the strength was fitted): the decision's marginals.
  if (!(Number.isFinite(total) && total > 0)) return components[0]!.map((_, i) => marginal(components.map((c) => c[i]!), decisionWeights));
  const weights = raw.map((w) => w / total);
  return components[0]!.map((_, i) => {
    const parts = components.map((c) => c[i]!);
    // The decision's mean (the ranking, the lift and the rationale read it); the reweighted spread around it.
    const centre = marginal(parts, decisionWeights);
    const mean = centre.alpha / (centre.alpha + centre.beta);
    // A new version's prior pseudo-runs are its parent's or the fair trial's (ADR 0004), not draws around m.
    const fromBase = arms[i]!.parent === undefined;
    let variance = 0;
    parts.forEach((p, g) => {
      const s = p.alpha + p.beta;
      const meanShift = fromBase ? (p.contributions.prior / s) ** 2 * variances[g]! : 0;
      variance += weights[g]! * (betaVariance(p.alpha, p.beta) + (p.alpha / s - mean) ** 2 + meanShift);
    });
    return widenTo(centre, variance);
  });
}

/** `p` as the Beta of its mean with `variance`, when that is wider; every level's contribution and the pass Beta scale with its strength. */
function widenTo(p: Posterior, variance: number): Posterior {
  const s = p.alpha + p.beta;
  const mean = p.alpha / s;
  const strength = (mean * (1 - mean)) / variance - 1;
  if (!(strength > 0 && strength < s)) return p;
  const f = strength / s;
  const contributions = { ...p.contributions };
  for (const k of Object.keys(contributions) as Array<keyof typeof contributions>) contributions[k] *= f;
  return { alpha: p.alpha * f, beta: p.beta * f, ...(p.passAlpha === undefined ? {} : { passAlpha: p.passAlpha * f }), contributions };
}

/**
 * Policy /8 (decayChanges 'change-points'; day-based decay from /11): a candidate's posterior as a mixture over when its rate last
 * changed (changes.ts), each hypothesis pooling exactly the runs since its change point at every level, as a
 * Beta of the mixture's mean and variance ({@link marginal}). The base prior, the learned spread and the
 * parent's posterior still read the decayed records. A candidate without change records (no runs yet) pools
 * as under /7.
 */
function sinceChange(arm: ArmEvidence, prior: BasePrior, passBase: BasePrior, hazards: readonly number[], strengths: PoolStrengths, config: PolicyConfig, nowMs: number): Posterior {
  const changes = arm.evidence.changes;
  if (changes === undefined) return withPassRate(arm, pooledPosterior(arm, prior, config, nowMs, strengths), passBase, strengths, config, nowMs);
  const undecayed: PolicyConfig = { ...config, decay: null };
  const segments = changeSegments(changes, hazards, config, nowMs);
  const parts = segments.map((segment) => {
    const { taskClass, repoTaskClass } = arm.evidence;
    const since: ArmEvidence = {
      ...arm,
      evidence: {
        ...arm.evidence,
        global: segment.global,
        taskClass: taskClass && segment.taskClass,
        repoTaskClass: repoTaskClass && segment.repoTaskClass,
        changes: undefined,
      },
    };
    return withPassRate(since, pooledPosterior(since, prior, undecayed, nowMs, strengths), passBase, strengths, undecayed, nowMs);
  });
  return parts.length === 1 ? parts[0]! : marginal(parts, segments.map((p) => p.weight));
}

/** One Beta with the mean and variance of the weighted base priors (it sets the pick rule's tolerance). */
function momentBase(priors: readonly WeightedPrior[]): BasePrior {
  // The priors share their mean; the mixture's variance m(1 − m)/(S + 1) is the weighted average of theirs.
  let inverse = 0;
  for (const p of priors) inverse += p.weight / (p.alpha + p.beta + 1);
  const strength = 1 / inverse - 1;
  const m = priors[0]!.alpha / (priors[0]!.alpha + priors[0]!.beta);
  return { alpha: m * strength, beta: (1 - m) * strength };
}

/**
 * A candidate's marginal posterior over a mixture's components, as the Beta of the same mean and variance
 * (E[Var] + Var[E]): what its interval, mean and explanation report. Its pass Beta keeps the mixture's
 * mean pass rate at that strength; the contributions keep their average shares.
 */
function marginal(parts: readonly Posterior[], weights: readonly number[]): Posterior {
  let mean = 0;
  let second = 0;
  let pass = 0;
  let strength = 0;
  const contributions = { prior: 0, global: 0, task_class: 0, repo_task_class: 0 };
  parts.forEach((p, g) => {
    const w = weights[g]!;
    const s = p.alpha + p.beta;
    const mu = p.alpha / s;
    mean += w * mu;
    second += w * (betaVariance(p.alpha, p.beta) + mu * mu);
    pass += (w * (p.passAlpha ?? p.alpha)) / s;
    strength += w * s;
    for (const k of Object.keys(contributions) as Array<keyof typeof contributions>) contributions[k] += w * p.contributions[k];
  });
  const variance = second - mean * mean;
  const matched = variance > 0 ? (mean * (1 - mean)) / variance - 1 : strength;
  const s = matched > 0 && Number.isFinite(matched) ? matched : strength;
  for (const k of Object.keys(contributions) as Array<keyof typeof contributions>) contributions[k] *= s / strength;
  const alpha = mean * s;
  return { alpha, beta: s - alpha, passAlpha: Math.min(alpha, pass * s), contributions };
}

/**
 * The pick rule for a candidate set. The tolerance is `satisficingTolerance` times the standard
 * deviation of the base prior, i.e. of pass rates across templates, so it scales with how different
 * templates are in this deployment, not with any one data set's pass rates; and it grows with the
 * number of candidates ({@link toleranceScale}). The order says which
 * candidate within the tolerance is taken: by default the highest posterior mean, so the pick is the
 * best-estimated template unless a draw shows another to be plausibly ε better; with
 * `satisficingOrder` 'evidence', the most pseudo-runs beyond the prior. Remaining ties go to more
 * evidence, then input order.
 */
export function pickRule(posteriors: readonly Posterior[], base: BasePrior, config: PolicyConfig): PickRule {
  const evidence = posteriors.map((p) => p.alpha + p.beta - p.contributions.prior);
  // A configuration stored before satisficingOrder existed has none: that policy preferred evidence.
  const key = config.satisficingOrder === 'mean' ? posteriors.map((p) => betaMean(p.alpha, p.beta)) : evidence;
  const order = posteriors.map((_, i) => i).sort((a, b) => key[b]! - key[a]! || evidence[b]! - evidence[a]! || a - b);
  // A configuration stored before the tolerance existed has none: that policy was plain Thompson sampling.
  const factor = Number.isFinite(config.satisficingTolerance) ? config.satisficingTolerance : 0;
  const tolerance = factor * toleranceScale(posteriors.length, config) * Math.sqrt(betaVariance(base.alpha, base.beta));
  const rule: PickRule = config.propensityEstimator === 'rao-blackwell' ? { tolerance, order, propensities: 'rao-blackwell' } : { tolerance, order };
  return config.horizonClip === undefined ? rule : { ...rule, clip: horizonClips(posteriors, evidence, config.horizonClip, config.horizonClipShare) };
}

/**
 * The `horizonClip` rule (c; off unless a configuration sets it): each candidate's draw is clipped at μᵢ + c · sdᵢ · √(2 ln⁺(2N / (K nᵢ))), with
 * nᵢ its evidence (pseudo-runs beyond the prior), N the candidates' total and K their number. The bound is
 * MOSS's (Audibert & Bubeck 2009) on the posterior's scale, and clipping a Thompson draw at it is MOTS (Jin,
 * Xu, Xiao & Gu 2021, "MOTS: minimax optimal Thompson sampling", ICML), which keeps Thompson sampling's
 * asymptotics and has minimax regret O(√(KT)) for a horizon T. The service never knows T: 2N takes the
 * runs still to come to be about as many as have come (a Lindy estimate; Degenne & Perchet 2016 show the
 * anytime MOSS index, with the runs so far in place of T, keeps the minimax rate). A candidate with more
 * than its share 2N/K of the runs draws no higher than its mean, so once the log is long it is run only if
 * it is the best bet; one with few runs is drawn as before. An untried candidate is never clipped.
 * With `share` 'others-runs' (`horizonClipShare`), K nᵢ becomes Hᵢ = Σⱼ min(nᵢ, √(nᵢ nⱼ)), ADA-UCB's (Lattimore 2018, "Refining
 * the confidence level for optimistic bandit strategies", JMLR 19): at most K·nᵢ, equal to it when no candidate has
 * fewer runs than i, and smaller while others have been run less, so a candidate has not spent its share of the
 * horizon against dozens that have barely started (with 70 candidates MOSS's share 2N/K capped every candidate with
 * a handful of runs at its mean for the first few hundred runs).
 */
export function horizonClips(posteriors: readonly Posterior[], evidence: readonly number[], c: number, share?: 'others-runs'): number[] {
  const k = posteriors.length;
  const runs = evidence.map((n) => Math.max(0, n));
  let total = 0;
  for (const n of runs) total += n;
  return posteriors.map((p, i) => {
    const n = runs[i]!;
    if (!(n > 0)) return Infinity;
    let used = k * n;
    if (share === 'others-runs') {
      used = 0;
      for (const m of runs) used += Math.min(n, Math.sqrt(n * m));
    }
    const log = Math.log((2 * total) / used);
    // c = 0 is greedy on the means for every tried candidate (never 0 × ∞ when n is vanishingly small).
    const bonus = c > 0 ? c * Math.sqrt(betaVariance(p.alpha, p.beta)) * Math.sqrt(2 * Math.max(0, log)) : 0;
    return betaMean(p.alpha, p.beta) + (Number.isNaN(bonus) ? Infinity : bonus);
  });
}

/** The candidate count at which the tolerance is exactly `satisficingTolerance` prior sds. */
const TOLERANCE_REFERENCE_CANDIDATES = 8;

/**
 * How the tolerance grows with the number of candidates K: (ln K / ln 8)² by default
 * ('log-candidates-squared', policy sts-pooled-eb/4), ln K / ln 8 with 'log-candidates' (policy /3).
 * The validation matrix (docs/adr/0003-validation-matrix.md) showed ln K under-corrects: with 32–70
 * candidates and a horizon of thousands of runs the policy still explored far more than greedy rules
 * that beat it, while at 2–8 candidates a smaller ε keeps it close to Thompson sampling, which wins there. The best of K draws lies
 * further above a well-estimated template's draw the more little-known candidates compete (the
 * maximum of K draws grows with ln K), so a fixed ε lets every extra candidate outdraw the leader
 * and be explored, which is why plain and fixed-ε satisficing sampling fall behind greedy selection
 * with dozens of candidates. With 'fixed' scaling (policy sts-pooled-eb/2) ε ignores K.
 */
export function toleranceScale(candidates: number, config: PolicyConfig): number {
  // A configuration stored before satisficingScale existed has none: that policy used a fixed ε.
  const ratio = Math.log(Math.max(1, candidates)) / Math.log(TOLERANCE_REFERENCE_CANDIDATES);
  if (config.satisficingScale === 'log-candidates-squared') return ratio * ratio;
  if (config.satisficingScale !== 'log-candidates') return 1;
  return ratio;
}

/** What the policy decided for one candidate set: the pick, the posteriors and the rule behind it. */
export interface Choice {
  /** Index of the chosen candidate in the input order. */
  readonly index: number;
  readonly posteriors: readonly Posterior[];
  readonly rule: PickRule;
  readonly mixture?: PosteriorMixture | undefined;
}

/**
 * The decision itself, without the explanation: pooled posteriors, then one satisficing Thompson draw.
 * `recommend()` and the offline benchmark both call this, so the benchmark measures the
 * production policy rather than a copy of it.
 * @param rng the decision's 'pick' stream
 */
export function choose(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number, rng: Rng): Choice {
  if (arms.length === 0) throw new RangeError('choose needs at least one candidate');
  return pickFrom(posteriorsAndRule(arms, config, nowMs), rng);
}

/**
 * The one pick of the policy, given a candidate set's posteriors and rule: `choose()` (the benchmark)
 * and `recommend()` (the service, over a cached {@link CandidateSet}) both decide here, so what the
 * benchmark measures is what the service does.
 */
function pickFrom(set: { readonly posteriors: readonly Posterior[]; readonly rule: PickRule; readonly mixture?: PosteriorMixture | undefined }, rng: Rng): Choice {
  return { index: satisficingPick(set.posteriors, set.rule, rng, set.mixture), posteriors: set.posteriors, rule: set.rule, mixture: set.mixture };
}

/** What choose() and analyse() share: the pooled posteriors and the pick rule over them. */
function posteriorsAndRule(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number): { posteriors: Posterior[]; rule: PickRule; mixture?: PosteriorMixture | undefined; reported: Posterior[] } {
  const { base, posteriors, mixture, reported } = posteriorsWithBase(arms, config, nowMs);
  const rule = pickRule(posteriors, base, config);
  const trial = onTrial(arms, config, nowMs);
  return { posteriors, mixture, reported, rule: trial.length > 0 && trial.length < arms.length ? { ...rule, trial: { arms: trial, share: config.trialShare! } } : rule };
}

/**
 * Candidates on trial (policy /5, `versionPrior` 'fair-trial'): new versions (templates with a parent)
 * with fewer than `trialRuns` runs of their own. A trial is pointless when every candidate is on it.
 */
export function onTrial(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number): number[] {
  if (config.versionPrior !== 'fair-trial' || !(config.trialShare! > 0)) return [];
  const runs = config.trialRuns ?? 0;
  return arms.flatMap((a, i) => (a.parent !== undefined && evidenceAt(a.evidence.global, nowMs, config.decay).trials < runs ? [i] : []));
}

/**
 * Everything about a candidate set that does not depend on one decision's draw: the pooled
 * posteriors and pick rule, and (computed on first use, then kept) the Monte Carlo summary, the
 * ranking order and the per-candidate summaries for people. A pure function of the evidence, so
 * adapters may memoise it by {@link candidateSetKey}.
 */
export interface CandidateSet {
  readonly posteriors: readonly Posterior[];
  readonly rule: PickRule;
  /** The joint posterior draws come from, when the base prior's strength is integrated out (policy /7). */
  readonly mixture?: PosteriorMixture | undefined;
  /** What answers report of each candidate (its interval, pass rate and evidence): `posteriors` with the base prior's mean uncertain. */
  readonly reported: readonly Posterior[];
  readonly means: readonly number[];
  readonly uniformMean: number;
  summary(): SetSummary;
  /** Candidate indices by P(best), then mean, then id: the ranking before the chosen one moves to the top. */
  ranked(): readonly number[];
  posteriorSummary(index: number): PosteriorSummary;
}

/** A memo the adapters inject; the core only reads and fills it. */
export interface Memo<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
}

export interface PolicyCaches {
  /** Candidate sets by {@link candidateSetKey}: repeated Recommends over unchanged evidence skip the fit. */
  readonly sets?: Memo<CandidateSet>;
  /**
   * Monte Carlo summaries by a fingerprint of the posteriors: shared by candidate sets whose
   * evidence differs but whose posteriors agree (new repositories that all borrow one task class's record).
   */
  readonly summaries?: Memo<SetSummary>;
}

type Digest = [number, number, number, number];
// Evidence values are immutable, so each one's digest is computed once however many keys include it.
const armDigests = new WeakMap<ArmEvidence, Digest>();

function armDigest(arm: ArmEvidence): Digest {
  let d = armDigests.get(arm);
  if (d === undefined) {
    const ev = (e: Evidence | undefined) => (e === undefined ? '-' : `${e.reward},${e.trials},${e.stamp},${e.passes ?? ''},${e.squares ?? ''}`);
    const { global, taskClass, repoTaskClass, changes } = arm.evidence;
    const parent = arm.parent === undefined ? '' : hexOf(armDigest(arm.parent));
    // Change points (policy /8) are read beside the sums: the same sums with other change points pool differently.
    const since = changes === undefined ? '' : `\u0000${JSON.stringify(changes)}`;
    armDigests.set(arm, (d = cyrb128(`${arm.armId}\u0000${ev(global)}|${ev(taskClass)}|${ev(repoTaskClass)}\u0000${parent}${since}`)));
  }
  return d;
}

/**
 * Fingerprint of everything {@link analyse} reads: each candidate's id and evidence at every level,
 * in order, with its parent chain; the policy; and the time when day-based decay makes it matter.
 */
export function candidateSetKey(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number): string {
  const words = new Uint32Array(4 * (arms.length + 1));
  words.set(cyrb128(`${policyVersion(config)}\u0000${config.decay?.unit === 'days' ? nowMs : ''}`));
  for (let i = 0, j = 4; i < arms.length; i++, j += 4) {
    const d = armDigest(arms[i]!);
    words[j] = d[0];
    words[j + 1] = d[1];
    words[j + 2] = d[2];
    words[j + 3] = d[3];
  }
  return hexOf(cyrb128Words(words));
}

/** Pooled posteriors and the pick rule for a candidate set, with its summaries computed on demand. */
export function analyse(arms: readonly ArmEvidence[], config: PolicyConfig, nowMs: number, summaries?: Memo<SetSummary>): CandidateSet {
  if (arms.length === 0) throw new RangeError('analyse needs at least one candidate');
  const { posteriors, rule, mixture, reported } = posteriorsAndRule(arms, config, nowMs);
  const means = posteriors.map((p) => betaMean(p.alpha, p.beta));
  let summary: SetSummary | undefined;
  let ranked: number[] | undefined;
  const people = new Map<number, PosteriorSummary>();
  const set: CandidateSet = {
    posteriors,
    rule,
    mixture,
    reported,
    means,
    uniformMean: means.reduce((s, m) => s + m, 0) / means.length,
    summary() {
      if (summary === undefined) {
        // Seeded by the posteriors, not the decision: equal posteriors give equal summaries.
        const fingerprint = hashHex(
          `${config.summarySamples}|${rule.tolerance}|${rule.propensities === undefined ? '' : `${rule.propensities}|`}${rule.trial === undefined ? '' : `trial ${rule.trial.share} ${rule.trial.arms.join(',')}|`}${rule.clip === undefined ? '' : `clip ${rule.clip.join(',')}|`}${rule.order.join(',')}|${posteriors.map((p) => `${p.alpha},${p.beta}`).join(';')}${mixture === undefined ? '' : `|${mixture.weights.join(',')}|${mixture.components.map((c) => c.map((p) => `${p.alpha},${p.beta}`).join(';')).join('|')}`}`,
        );
        summary = summaries?.get(fingerprint);
        if (summary === undefined) {
          summary = summarizeSet(posteriors, createRng(`summary\u0000${fingerprint}`), config.summarySamples, rule, mixture);
          summaries?.set(fingerprint, summary);
        }
      }
      return summary;
    },
    ranked() {
      if (ranked === undefined) {
        const { probBest } = set.summary();
        ranked = arms.map((_, i) => i);
        ranked.sort((a, b) => probBest[b]! - probBest[a]! || means[b]! - means[a]! || (arms[a]!.armId < arms[b]!.armId ? -1 : 1));
      }
      return ranked;
    },
    posteriorSummary(i) {
      let s = people.get(i);
      if (s === undefined) people.set(i, (s = summarizePosterior(reported[i]!, config.partialReward)));
      return s;
    },
  };
  return set;
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
 * @param caches memos that skip recomputing what the same evidence or posteriors already gave.
 * @throws RangeError when `arms` is empty (validation rejects that earlier).
 */
export function recommend(input: RecommendInput, config: PolicyConfig, caches: PolicyCaches = {}): Decision {
  const { arms } = input;
  if (arms.length === 0) throw new RangeError('recommend needs at least one candidate');
  // Under day-based decay the evidence changes with every millisecond: nothing would be reused.
  const { sets, summaries } = config.decay?.unit === 'days' ? {} : caches;
  const key = sets && candidateSetKey(arms, config, input.nowMs);
  let set = key === undefined ? undefined : sets!.get(key);
  if (set === undefined) {
    set = analyse(arms, config, input.nowMs, summaries);
    if (key !== undefined) sets!.set(key, set);
  }
  const chosen = pickFrom(set, rngForDecision(input.decisionId, 'pick')).index;
  const { probBest, propensity, liftIntervals } = set.summary();
  const { means, uniformMean } = set;

  // The chosen candidate first, then the others in ranking order; the runner-up leads the rest.
  const count = input.topK > 0 ? Math.min(input.topK, arms.length) : arms.length;
  const shown = [chosen];
  let leader = chosen;
  for (const i of set.ranked()) {
    if (i === chosen) continue;
    if (leader === chosen) leader = i;
    if (shown.length >= count) break;
    shown.push(i);
  }
  const ranking: RankedArm[] = shown.map((i) => ({
    armId: arms[i]!.armId,
    posterior: set.posteriorSummary(i),
    probBest: probBest[i]!,
    propensity: propensity[i]!,
    sources: evidenceSources(arms[i]!, set.reported[i]!, config, input.nowMs),
  }));

  const chosenMean = means[chosen]!;
  const [ciLow, ciHigh] = liftIntervals[chosen]!;
  const absolute = chosenMean - uniformMean;
  const lift = {
    chosenMean,
    uniformMean,
    absolute,
    relative: uniformMean > 0 ? absolute / uniformMean : 0,
    ciLow,
    ciHigh,
  };
  const exploring = probBest[leader]! > probBest[chosen]! && means[leader]! > means[chosen]!;
  return {
    decisionId: input.decisionId,
    context: input.context,
    chosen: arms[chosen]!.armId,
    propensity: propensity[chosen]!,
    ranking,
    lift,
    policyVersion: policyVersion(config),
    rationale: explain(
      arms[chosen]!,
      ranking[0]!.posterior,
      ranking[0]!.sources!,
      probBest[chosen]!,
      arms.length,
      lift.absolute,
      exploring ? arms[leader]!.armId : undefined,
      set.rule.trial?.arms.includes(chosen) === true ? config : undefined,
    ),
  };
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

const OWN_WORDS: Record<EvidenceSources['ownLevel'], string> = {
  repo_task_class: 'in this task class and repository',
  task_class: 'in this task class',
  global: 'overall',
};

const runsText = (n: number) => (n >= 0.5 || n === 0 ? `${Math.round(n)} run${Math.round(n) === 1 ? '' : 's'}` : `${n.toFixed(1)} runs`);

/** One borrowed source in words: what it counts for, and what it was lent from. */
function borrowedWords(b: EvidenceSources['borrowed'][number]): string {
  const worth = runsText(b.pseudoRuns);
  switch (b.source) {
    case 'task_class':
      return `${worth} from ${runsText(b.runs)} in other repositories of this task class`;
    case 'global':
      return `${worth} from ${runsText(b.runs)} in other task classes`;
    case 'parent':
      return `${worth} from the version it refines`;
    case 'prior':
      return `${worth} from the prior`;
  }
}

function explain(
  arm: ArmEvidence,
  p: PosteriorSummary,
  sources: EvidenceSources,
  probBest: number,
  candidates: number,
  lift: number,
  leader: string | undefined,
  trial: PolicyConfig | undefined,
): string {
  const pseudo = sources.ownPseudoRuns ?? sources.ownRuns;
  // Under a mixture over the base prior's strength own runs count for less; say so rather than shrink the count.
  const worth = Math.abs(pseudo - sources.ownRuns) > 0.05 * Math.max(1, sources.ownRuns) ? ` (worth ${runsText(pseudo)} here while how far the candidates differ is uncertain)` : '';
  const own = `${runsText(sources.ownRuns)} of its own ${OWN_WORDS[sources.ownLevel]}${worth}`;
  const borrowed = sources.borrowed.length === 0 ? '' : `, plus borrowed evidence worth ${sources.borrowed.map(borrowedWords).join(', ')}`;
  const passRate = p.passRate === undefined ? '' : `, pass rate ${pct(p.passRate)} (95% CI ${pct(p.passRateLow ?? 0)}–${pct(p.passRateHigh ?? 0)})`;
  const fair = arm.parent !== undefined && p.evidenceLevel === 'prior' && trial !== undefined ? `, as a new version of ${arm.parent.armId} (not its parent's record)` : '';
  const estimate = `${arm.armId} has an estimated expected reward of ${pct(p.mean)} (95% CI ${pct(p.ciLow)}–${pct(p.ciHigh)})${passRate} from ${own}${borrowed}${fair}.`;
  if (trial !== undefined) {
    const ownRuns = Math.round(arm.evidence.global.trials);
    return `${estimate} On trial: a new version gets ${trial.trialRuns} runs of its own before its record alone decides (${ownRuns} so far); ${pct(trial.trialShare!)} of decisions are kept for versions on trial.`;
  }
  if (candidates === 1) return `${estimate} It was the only candidate.`;
  const sign = lift >= 0 ? '+' : '−';
  const points = `${sign}${Math.abs(lift * 100).toFixed(1)} points`;
  if (leader !== undefined) {
    return `${estimate} Exploring: it has a ${pct(probBest)} chance of being the best of ${candidates} (${leader} leads), and trying it sharpens the estimate; expected lift over a uniform pick: ${points}.`;
  }
  return `${estimate} It has a ${pct(probBest)} chance of being the best of ${candidates}; expected lift over a uniform pick: ${points}.`;
}
