import type { PolicyConfig } from './config.js';
import { evidenceAt, subtractEvidence } from './evidence.js';
import type { ArmEvidence, Evidence, EvidenceLevel, Posterior } from './types.js';

/** A Beta prior shared by every candidate before its own evidence. */
export interface BasePrior {
  readonly alpha: number;
  readonly beta: number;
}

const NO_CONTRIBUTIONS: Record<EvidenceLevel, number> = { prior: 0, global: 0, task_class: 0, repo_task_class: 0 };

/**
 * Empirical-Bayes base prior: a Beta fitted by the method of moments to the candidates' records,
 * with the binomial noise of each record subtracted from the spread between them.
 * Falls back to the configured prior when fewer than `empiricalBayesMinArms` arms have evidence.
 * Reference: Casella (1985), "An introduction to empirical Bayes data analysis"; the beta-binomial
 * moment estimator as in Kleinman (1973).
 * @param records each candidate's evidence at the global level
 */
export function fitBasePrior(records: readonly Evidence[], config: PolicyConfig): BasePrior {
  const fallback = { alpha: config.priorAlpha, beta: config.priorBeta };
  if (!config.empiricalBayes) return fallback;
  const seen = records.filter((r) => r.trials >= 1);
  if (seen.length < config.empiricalBayesMinArms) return fallback;
  let rewardSum = 0;
  let trialSum = 0;
  for (const r of seen) {
    rewardSum += r.reward;
    trialSum += r.trials;
  }
  // The configured prior keeps the pooled mean off 0 and 1, where a Beta cannot sit.
  const m = (rewardSum + config.priorAlpha) / (trialSum + config.priorAlpha + config.priorBeta);
  let spread = 0;
  let noise = 0;
  for (const r of seen) {
    const p = r.reward / r.trials;
    spread += (p - m) * (p - m);
    noise += (m * (1 - m)) / r.trials;
  }
  const between = (spread - noise) / seen.length;
  const minStrength = config.priorAlpha + config.priorBeta;
  const maxStrength = Math.max(minStrength, config.empiricalBayesMaxStrength);
  const strength = between > 0 ? Math.min(maxStrength, Math.max(minStrength, (m * (1 - m)) / between - 1)) : maxStrength;
  return { alpha: m * strength, beta: (1 - m) * strength };
}

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

function add(b: Building, e: Evidence, level: EvidenceLevel): Building {
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
 * is capped at `taskClassPoolStrength` / `repoPoolStrength` pseudo-runs, so a sparse cell borrows
 * the wider level's mean while a dense cell's own runs soon outweigh it. A new version starts from
 * its parent's posterior capped at `parentStrength` pseudo-runs instead of the base prior.
 * @param nowMs the decision time, for day-based decay
 */
export function pooledPosterior(arm: ArmEvidence, base: BasePrior, config: PolicyConfig, nowMs: number): Posterior {
  const decay = config.decay;
  let b: Building;
  if (arm.parent !== undefined) {
    const inherited = shrinkTo(toBuilding(pooledPosterior(arm.parent, base, config, nowMs)), config.parentStrength);
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
  if (tc !== undefined) {
    b = shrinkTo(b, config.taskClassPoolStrength);
    b = add(b, cell ? subtractEvidence(tc, cell, decay) : tc, 'task_class');
  }
  if (cell !== undefined) {
    b = shrinkTo(b, config.repoPoolStrength);
    b = add(b, cell, 'repo_task_class');
  }
  // A cap of 0 can empty a Beta; keep it proper.
  if (!(b.alpha > 0) || !(b.beta > 0)) {
    b = { ...b, alpha: Math.max(b.alpha, 1e-6), beta: Math.max(b.beta, 1e-6) };
  }
  return { alpha: b.alpha, beta: b.beta, contributions: b.contributions };
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
