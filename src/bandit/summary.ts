import { dominantLevel } from './pooling.js';
import { outcomeIntervals } from './outcomes.js';
import type { Posterior, PosteriorSummary } from './types.js';

/**
 * Expected reward and pass rate, each with its 95% credible interval, and the evidence of a posterior, for people.
 * @param partialReward the reward of a partial (PolicyConfig.partialReward)
 */
export function summarizePosterior(p: Posterior, partialReward: number): PosteriorSummary {
  const { passRate, expectedReward } = outcomeIntervals(p, partialReward);
  return {
    mean: expectedReward.mean,
    ciLow: expectedReward.ciLow,
    ciHigh: expectedReward.ciHigh,
    passRate: passRate.mean,
    passRateLow: passRate.ciLow,
    passRateHigh: passRate.ciHigh,
    alpha: p.alpha,
    beta: p.beta,
    // The levels' runs summed directly: alpha + beta − prior would carry the rounding of the pooling scale factors.
    observations: p.contributions.global + p.contributions.task_class + p.contributions.repo_task_class,
    evidenceLevel: dominantLevel(p),
  };
}
