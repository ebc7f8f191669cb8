import { describe, expect, test } from 'vitest';
import { betaInterval, betaMean, betaVariance, createRng, sampleBeta, sampleGamma } from '../../src/bandit/index.js';

const N = 200_000;

function moments(xs: Float64Array): { mean: number; variance: number } {
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  let v = 0;
  for (const x of xs) v += (x - mean) * (x - mean);
  return { mean, variance: v / (xs.length - 1) };
}

describe('samplers match their closed forms (tolerance: 5 standard errors)', () => {
  test.each([
    [0.3, 1],
    [1, 1],
    [2.5, 1],
    [40, 1],
  ])('Gamma(%d) mean and variance', (shape) => {
    const rng = createRng(`gamma-${shape}`);
    const xs = new Float64Array(N).map(() => sampleGamma(rng, shape));
    const { mean, variance } = moments(xs);
    // Gamma(k,1): mean k, variance k; SE of the mean = sqrt(k/N).
    expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / N));
    // SE of the sample variance ≈ sqrt((μ4 − σ⁴)/N), with μ4 = 3k² + 6k for Gamma(k,1).
    const seVar = Math.sqrt((3 * shape * shape + 6 * shape - shape * shape) / N);
    expect(Math.abs(variance - shape)).toBeLessThan(5 * seVar);
  });

  test.each([
    [3, 7],
    [0.5, 0.5],
    [80, 20],
    [1, 30],
  ])('Beta(%d, %d) mean and variance', (a, b) => {
    const rng = createRng(`beta-${a}-${b}`);
    const xs = new Float64Array(N).map(() => sampleBeta(rng, a, b));
    const { mean, variance } = moments(xs);
    const mu = betaMean(a, b);
    const v = betaVariance(a, b);
    // SE of the mean = sd/sqrt(N); the variance's SE is bounded by sqrt(μ4/N) ≤ sqrt(v·max(x−μ)²/N) ≤ sqrt(v/N).
    expect(Math.abs(mean - mu)).toBeLessThan(5 * Math.sqrt(v / N));
    expect(Math.abs(variance - v)).toBeLessThan(5 * Math.sqrt(v / N));
  });

  test('the 95% credible interval covers 95% of draws', () => {
    const [a, b] = [12, 30];
    const [lo, hi] = betaInterval(a, b);
    const rng = createRng('interval');
    let inside = 0;
    for (let i = 0; i < N; i++) {
      const x = sampleBeta(rng, a, b);
      if (x >= lo && x <= hi) inside++;
    }
    // Binomial proportion: SE = sqrt(p(1-p)/N).
    expect(Math.abs(inside / N - 0.95)).toBeLessThan(5 * Math.sqrt((0.95 * 0.05) / N));
  });
});
