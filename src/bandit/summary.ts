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
    observations: p.alpha + p.beta - p.contributions.prior,
    evidenceLevel: dominantLevel(p),
  };
}
