import jStat from 'jstat';
import type { Rng } from './rng.js';

/**
 * Standard normal draw by the Marsaglia polar method.
 * Reference: Marsaglia & Bray (1964), "A convenient method for generating normal variables".
 */
export function sampleNormal(rng: Rng): number {
  for (;;) {
    const u = 2 * rng.next() - 1;
    const v = 2 * rng.next() - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
  }
}

/**
 * Gamma(shape, 1) draw.
 * Reference: Marsaglia & Tsang (2000), "A simple method for generating gamma variables";
 * for shape < 1 the boost Gamma(shape) = Gamma(shape + 1) · U^(1/shape).
 * @param shape > 0
 */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) {
    const u = rng.next();
    return sampleGamma(rng, shape + 1) * Math.pow(u === 0 ? Number.MIN_VALUE : u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    const x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return d * v;
    if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Beta(alpha, beta) draw as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta).
 * @param alpha > 0
 * @param beta > 0
 */
export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const x = sampleGamma(rng, alpha);
  const y = sampleGamma(rng, beta);
  const s = x + y;
  // Both gammas underflow only for tiny shapes; fall back to the mean rather than 0/0.
  return s > 0 ? x / s : alpha / (alpha + beta);
}

/** Mean of Beta(alpha, beta). */
export const betaMean = (alpha: number, beta: number): number => alpha / (alpha + beta);

/** Variance of Beta(alpha, beta): mean(1 - mean) / (alpha + beta + 1). */
export function betaVariance(alpha: number, beta: number): number {
  const m = betaMean(alpha, beta);
  return (m * (1 - m)) / (alpha + beta + 1);
}

/**
 * Equal-tailed credible interval of Beta(alpha, beta) from the exact inverse CDF (jStat).
 * @param level coverage in (0, 1), e.g. 0.95
 */
export function betaInterval(alpha: number, beta: number, level = 0.95): [number, number] {
  const tail = (1 - level) / 2;
  return [jStat.beta.inv(tail, alpha, beta), jStat.beta.inv(1 - tail, alpha, beta)];
}

/** P(X ≤ x) for X ~ Beta(alpha, beta). */
export const betaCdf = (x: number, alpha: number, beta: number): number => jStat.beta.cdf(x, alpha, beta);

/**
 * P(X > x) for X ~ Beta(alpha, beta), as I_{1−x}(beta, alpha): relative precision holds far into the
 * upper tail, where 1 − cdf would cancel to 0.
 */
export function betaSurvival(x: number, alpha: number, beta: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  // jStat's continued fraction can land a hair outside [0, 1] for degenerate shapes (alpha ~1e-9).
  return Math.min(1, Math.max(0, jStat.ibeta(1 - x, beta, alpha)));
}
