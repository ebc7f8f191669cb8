import { describe, expect, test } from 'vitest';
import { createRng, DEFAULT_POLICY_CONFIG, fitBasePrior, sampleBeta, type PolicyConfig } from '../../src/bandit/index.js';

/**
 * Mean and standard error of ln(fitted strength / true strength) over replicates where K templates'
 * true pass rates are drawn from Beta(a, b) and each has n runs.
 */
function logRatio(a: number, b: number, k: number, n: number, config: PolicyConfig, reps = 300): { mean: number; se: number } {
  const rng = createRng(`base-prior\u0000${a},${b},${k},${n}`);
  const xs: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const records = Array.from({ length: k }, () => {
      const p = sampleBeta(rng, a, b);
      let reward = 0;
      for (let i = 0; i < n; i++) reward += rng.next() < p ? 1 : 0;
      return { reward, trials: n, stamp: 0 };
    });
    const fit = fitBasePrior(records, config);
    xs.push(Math.log((fit.alpha + fit.beta) / (a + b)));
  }
  const mean = xs.reduce((s, x) => s + x, 0) / reps;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (reps - 1));
  return { mean, se: sd / Math.sqrt(reps) };
}

// The fitted strength sets how far P(best), the lift and the pick trust the spread of templates. With
// the hyperprior's Jacobian wrong (−1.5 ln s on the log grid) strengths came out 0.3–0.9× the truth.
// A maximum a posteriori fit from 8–30 templates keeps some bias; we allow e^±0.3 plus 3 standard errors.
describe('empirical-Bayes base prior recovers the spread of templates', () => {
  test.each([
    [20, 25, 8, 30],
    [20, 25, 30, 50],
    [3, 6, 8, 30],
    [3, 6, 30, 100],
  ])('Beta(%d, %d), %d templates × %d runs: fitted strength within e^±0.3 of the truth', (a, b, k, n) => {
    const { mean, se } = logRatio(a, b, k, n, DEFAULT_POLICY_CONFIG);
    expect(Math.abs(mean)).toBeLessThan(0.3 + 3 * se);
  });

  test('the pre-/4 hyperprior (−1.5 ln s) fails the same check: the test can tell', () => {
    const { mean, se } = logRatio(20, 25, 8, 30, { ...DEFAULT_POLICY_CONFIG, basePriorStrengthExponent: -1.5 });
    expect(Math.abs(mean)).toBeGreaterThan(0.3 + 3 * se);
  });
});
