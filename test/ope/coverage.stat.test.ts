import { describe, expect, test } from 'vitest';
import { createRng, type Rng } from '../../src/bandit/index.js';
import { estimate, liftOverUniform, loggingPolicy, uniformPolicy, type LoggedDecision } from '../../src/ope/index.js';

/**
 * A logging policy with known propensities: softmax over fixed arm scores per context, so the
 * true value of uniform and of the logging policy are known in closed form.
 */
const CONTEXTS = ['x', 'y'];
const ARMS = ['a', 'b', 'c', 'd'];
const RATES: Record<string, number[]> = { x: [0.7, 0.5, 0.3, 0.2], y: [0.3, 0.6, 0.4, 0.2] };
const PROBS: Record<string, number[]> = { x: [0.55, 0.25, 0.12, 0.08], y: [0.2, 0.5, 0.2, 0.1] };

const trueUniform = CONTEXTS.reduce((s, c) => s + RATES[c]!.reduce((a, b) => a + b, 0) / ARMS.length, 0) / CONTEXTS.length;
const trueLogging = CONTEXTS.reduce((s, c) => s + RATES[c]!.reduce((a, r, i) => a + r * PROBS[c]![i]!, 0), 0) / CONTEXTS.length;

function simulateLog(n: number, rng: Rng): LoggedDecision[] {
  const out: LoggedDecision[] = [];
  for (let i = 0; i < n; i++) {
    const context = CONTEXTS[Math.floor(rng.next() * CONTEXTS.length)]!;
    const probs = PROBS[context]!;
    let u = rng.next();
    let k = 0;
    while (k < probs.length - 1 && (u -= probs[k]!) >= 0) k++;
    const reward = rng.next() < RATES[context]![k]! ? 1 : 0;
    out.push({ context, candidates: ARMS, chosen: ARMS[k]!, propensity: probs[k]!, reward });
  }
  return out;
}

describe('off-policy estimators', () => {
  test('IPS, SNIPS and DR are unbiased for uniform on average; the logging policy gets weight 1', () => {
    const rng = createRng('bias');
    const reps = 300;
    const sums = { ips: 0, snips: 0, dr: 0 };
    const sq = { ips: 0, snips: 0, dr: 0 };
    for (let r = 0; r < reps; r++) {
      const log = simulateLog(300, rng);
      const e = estimate(log, uniformPolicy);
      for (const k of ['ips', 'snips', 'dr'] as const) {
        sums[k] += e[k];
        sq[k] += e[k] * e[k];
      }
      const on = estimate(log, loggingPolicy);
      const mean = log.reduce((s, d) => s + d.reward, 0) / log.length;
      expect(on.ips).toBeCloseTo(mean, 12);
      expect(on.snips).toBeCloseTo(mean, 12);
    }
    for (const k of ['ips', 'snips', 'dr'] as const) {
      const m = sums[k] / reps;
      const sd = Math.sqrt(sq[k] / reps - m * m);
      // The mean over replications is within 4 standard errors of the truth (SNIPS's O(1/n) bias is far smaller).
      expect(Math.abs(m - trueUniform)).toBeLessThan((4 * sd) / Math.sqrt(reps));
    }
  });

  test('the mean importance weight the report prints averages 1 when propensities are right', () => {
    // E[(1/K) / μ(chosen)] = Σ μ(a) (1/K) / μ(a) = 1 for every context; n decisions: within 4 standard errors.
    const log = simulateLog(4000, createRng('weights'));
    const w = log.map((d) => 1 / d.candidates.length / d.propensity);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / (w.length - 1));
    expect(liftOverUniform(log, 'weights', 10).meanWeight).toBeCloseTo(mean, 12);
    expect(Math.abs(mean - 1)).toBeLessThan((4 * sd) / Math.sqrt(w.length));
  });

  test('bootstrap intervals cover the true uniform value and the true lift at about 95%', () => {
    const rng = createRng('coverage');
    const reps = 200;
    const covered = { uniform: { ips: 0, snips: 0, dr: 0 }, lift: { ips: 0, snips: 0, dr: 0 }, deployed: 0 };
    for (let r = 0; r < reps; r++) {
      const est = liftOverUniform(simulateLog(600, rng), `rep${r}`, 300);
      if (est.deployed.ciLow <= trueLogging && trueLogging <= est.deployed.ciHigh) covered.deployed++;
      for (const k of ['ips', 'snips', 'dr'] as const) {
        const u = est.uniform[k];
        const l = est.lift[k];
        if (u.ciLow <= trueUniform && trueUniform <= u.ciHigh) covered.uniform[k]++;
        if (l.ciLow <= trueLogging - trueUniform && trueLogging - trueUniform <= l.ciHigh) covered.lift[k]++;
      }
      expect(est.effectiveSampleSize).toBeGreaterThan(0);
      expect(est.effectiveSampleSize).toBeLessThanOrEqual(600 + 1e-9);
    }
    // Coverage is a binomial proportion over the replications: allow 3 standard errors below 95%
    // (the percentile bootstrap runs slightly narrow in small samples) and nothing implausibly wide.
    const se = Math.sqrt((0.95 * 0.05) / reps);
    const rates = [covered.deployed, ...Object.values(covered.uniform), ...Object.values(covered.lift)].map((c) => c / reps);
    for (const rate of rates) {
      expect(rate).toBeGreaterThan(0.95 - 3 * se);
      expect(rate).toBeLessThanOrEqual(1);
    }
    // Intervals are not trivially wide: a 95% interval that always covers would be suspect.
    expect(Math.min(...rates)).toBeLessThan(1);
    // 200 bootstraps of 300 resamples: ~40 s alone, more beside the full suite on two cores.
  }, 180_000);
});
