import { betaInterval, betaMean } from './distributions.js';
import { dominantLevel } from './pooling.js';
import type { Posterior, PosteriorSummary } from './types.js';

/** Mean, 95% credible interval and evidence of a posterior, for people. */
export function summarizePosterior(p: Posterior): PosteriorSummary {
  const [ciLow, ciHigh] = betaInterval(p.alpha, p.beta, 0.95);
  return {
    mean: betaMean(p.alpha, p.beta),
    ciLow,
    ciHigh,
    alpha: p.alpha,
    beta: p.beta,
    // The levels' runs summed directly: alpha + beta − prior would carry the rounding of the pooling scale factors.
    observations: p.contributions.global + p.contributions.task_class + p.contributions.repo_task_class,
    evidenceLevel: dominantLevel(p),
  };
}
