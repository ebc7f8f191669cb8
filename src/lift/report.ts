/** Turns per-seed results into the report: lift over uniform, captured fraction, references. */
import { bootstrapMeanInterval, mean, quantile } from './stats.js';

export interface SeedOutcome {
  readonly seed: number;
  readonly uniform: number;
  readonly bestFixed: number;
  readonly perContextOracle: number;
  readonly policies: Record<string, number>;
}

export interface PolicySummary {
  meanReward: number;
  liftVsUniform: { mean: number; ciLow: number; ciHigh: number; relative: number; relativeCiLow: number; relativeCiHigh: number };
  capturedFraction: { mean: number; p10: number; p50: number; p90: number; seeds: number };
  /** Share of the per-context oracle's gain over uniform that the policy captures (mean over seeds). */
  capturedOfOracle: number;
}

export interface LiftSummary {
  policies: Record<string, PolicySummary>;
  reference: { uniform: number; bestFixed: number; perContextOracle: number };
}

/** Whether a seed leaves something to capture: a gap over uniform (best fixed's, or the oracle's) wider than a rounding error. */
export const hasGap = (gap: number): boolean => gap > 1e-12;

/**
 * Lift = policy − uniform per seed (uniform is the expected reward of a uniform pick on that seed's
 * candidates and stream), with a bootstrap interval over seeds. Captured fraction per seed =
 * (policy − uniform) / (best fixed − uniform); seeds where every candidate ties are left out.
 */
export function summarize(seeds: readonly SeedOutcome[], policyNames: readonly string[], bootstrapSeed: string): LiftSummary {
  const policies: Record<string, PolicySummary> = {};
  const uniformMean = mean(seeds.map((s) => s.uniform));
  for (const name of policyNames) {
    const rewards = seeds.map((s) => s.policies[name]!);
    const lifts = seeds.map((s) => s.policies[name]! - s.uniform);
    const rel = seeds.map((s) => (s.uniform > 0 ? (s.policies[name]! - s.uniform) / s.uniform : 0));
    const [ciLow, ciHigh] = bootstrapMeanInterval(lifts, `${bootstrapSeed}\u0000${name}`);
    const [rLow, rHigh] = bootstrapMeanInterval(rel, `${bootstrapSeed}\u0000${name}\u0000rel`);
    const captured = seeds.filter((s) => hasGap(s.bestFixed - s.uniform)).map((s) => (s.policies[name]! - s.uniform) / (s.bestFixed - s.uniform));
    const ofOracle = seeds.filter((s) => hasGap(s.perContextOracle - s.uniform)).map((s) => (s.policies[name]! - s.uniform) / (s.perContextOracle - s.uniform));
    policies[name] = {
      meanReward: mean(rewards),
      liftVsUniform: { mean: mean(lifts), ciLow, ciHigh, relative: mean(lifts) / uniformMean, relativeCiLow: rLow, relativeCiHigh: rHigh },
      capturedFraction: { mean: mean(captured), p10: quantile(captured, 0.1), p50: quantile(captured, 0.5), p90: quantile(captured, 0.9), seeds: captured.length },
      capturedOfOracle: mean(ofOracle),
    };
  }
  return {
    policies,
    reference: {
      uniform: uniformMean,
      bestFixed: mean(seeds.map((s) => s.bestFixed)),
      perContextOracle: mean(seeds.map((s) => s.perContextOracle)),
    },
  };
}
