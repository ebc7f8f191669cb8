import { createRng, quantileSorted } from '../bandit/index.js';

export const mean = (xs: readonly number[]): number => (xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length);

/** Normal-approximation 95% interval of a mean of paired differences (seeds are independent): [mean, low, high]. */
export function pairedInterval(d: readonly number[]): [number, number, number] {
  const m = mean(d);
  const sd = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, d.length - 1));
  const half = (1.96 * sd) / Math.sqrt(d.length);
  return [m, m - half, m + half];
}

/** Type-7 quantile of unsorted values. */
export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted([...xs].sort((a, b) => a - b), q);
}

/**
 * Percentile bootstrap interval of the mean (Efron & Tibshirani 1993, ch. 13), resampling the
 * given units (here: seeds) with replacement.
 * @param seed the resampling stream, so reports are reproducible
 */
export function bootstrapMeanInterval(xs: readonly number[], seed: string, resamples = 2000, level = 0.95): [number, number] {
  const n = xs.length;
  if (n === 0) return [NaN, NaN];
  const rng = createRng(`bootstrap\u0000${seed}`);
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += xs[Math.floor(rng.next() * n)]!;
    means[b] = s / n;
  }
  means.sort();
  const tail = (1 - level) / 2;
  return [quantileSorted(means, tail), quantileSorted(means, 1 - tail)];
}
