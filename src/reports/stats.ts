/** Small statistics for reports: intervals for proportions, a two-proportion test, medians. */
import { betaCdf } from '../bandit/index.js';

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a proportion: well behaved at 0, 1 and small n, unlike the Wald one.
 * Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical inference", JASA 22.
 * @param successes in [0, n]
 * @param n trials; n = 0 gives [0, 1]
 */
export function wilsonInterval(successes: number, n: number, z = Z95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Standard normal CDF by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7).
 */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Two-proportion z-test with the pooled standard error (recent vs baseline).
 * @returns z (positive when the recent rate is higher) and the two-sided p-value; z = 0, p = 1 when undefined.
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): { z: number; pValue: number } {
  if (n1 <= 0 || n2 <= 0) return { z: 0, pValue: 1 };
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, pValue: 2 * (1 - normalCdf(Math.abs(z))) };
}

/**
 * P(rate < threshold) under a uniform prior: Beta(1 + passes, 1 + non-passes).
 * @param threshold in (0, 1)
 */
export function probBelow(passes: number, judged: number, threshold: number): number {
  return betaCdf(threshold, 1 + passes, 1 + judged - passes);
}

/** Median of a list (mean of the middle two for an even count); 0 for an empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
