import { describe, expect, test } from 'vitest';
import { createRng } from '../../src/bandit/index.js';
import { detectChanges, DEFAULT_TREND_OPTIONS, metricsOf, type TrendSeries } from '../../src/reports/index.js';

const EMPTY = metricsOf([]);

/** A series of `windows` windows of `n` judged runs each, passing with probability p(window). */
function simulate(seed: string, windows: number, n: number, p: (w: number) => number): TrendSeries {
  const rng = createRng(seed);
  const points = Array.from({ length: windows }, (_, w) => {
    let passes = 0;
    for (let i = 0; i < n; i++) if (rng.next() < p(w)) passes++;
    // Only the pass rate varies; the other metrics have no events, so they cannot flag.
    return { ...EMPTY, startMs: w, endMs: w + 1, passes, judged: n, runs: n, tasks: n };
  });
  return { scope: 't', points };
}

const N_SIM = 2000;

describe('change detector (statistical)', () => {
  // With no change, the two-sided z-test at alpha = 0.05 should flag about 5% of series.
  // Tolerance: 5 standard errors of a proportion, 5 * sqrt(0.05 * 0.95 / 2000) ≈ 0.024, plus
  // 0.01 for the normal approximation at n = 20 per window.
  test('false-flag rate under no change is near alpha', () => {
    let flagged = 0;
    for (let s = 0; s < N_SIM; s++) if (detectChanges(simulate(`null ${s}`, 5, 20, () => 0.6), DEFAULT_TREND_OPTIONS).length > 0) flagged++;
    const rate = flagged / N_SIM;
    expect(Math.abs(rate - 0.05)).toBeLessThan(5 * Math.sqrt((0.05 * 0.95) / N_SIM) + 0.01);
  });

  // A drop from 75% to 25% over 20 runs against 80 baseline runs: z ≈ 4.5 on average, so power
  // is above 0.99; at least 0.97 leaves 5 standard errors at the worst case p = 0.99.
  test('a large drop is flagged as a regression nearly always', () => {
    let regressed = 0;
    for (let s = 0; s < N_SIM; s++) {
      const c = detectChanges(simulate(`drop ${s}`, 5, 20, (w) => (w === 4 ? 0.25 : 0.75)), DEFAULT_TREND_OPTIONS);
      if (c.some((x) => x.metric === 'pass_rate' && x.direction === 'regressed')) regressed++;
    }
    expect(regressed / N_SIM).toBeGreaterThan(0.97);
  });
});
