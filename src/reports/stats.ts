/** Small statistics for reports: intervals for proportions and their differences, medians. */
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

/**
 * Newcombe's hybrid score interval for a difference of proportions, x2/n2 − x1/n1 (method 10 of
 * Newcombe (1998), "Interval estimation for the difference between independent proportions",
 * Statistics in Medicine 17): built from the two Wilson intervals, so it behaves at 0, 1 and small n.
 * @returns [low, high]; [-1, 1] when either side is empty
 */
export function newcombeInterval(x1: number, n1: number, x2: number, n2: number, z = Z95): [number, number] {
  if (n1 <= 0 || n2 <= 0) return [-1, 1];
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const [l1, u1] = wilsonInterval(x1, n1, z);
  const [l2, u2] = wilsonInterval(x2, n2, z);
  const d = p2 - p1;
  return [Math.max(-1, d - Math.hypot(p2 - l2, u1 - p1)), Math.min(1, d + Math.hypot(u2 - p2, p1 - l1))];
}

/** The z with P(Z > z) = p for a standard normal Z, by bisection on normalCdf (p in (0, 1)). */
export function normalQuantileUpper(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (1 - normalCdf(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
