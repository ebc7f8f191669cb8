import { describe, expect, test } from 'vitest';
import { createRng, summarizeSet, thompsonPick } from '../../src/bandit/index.js';

describe('Thompson sampling', () => {
  test('picks the truly best arm more often as evidence grows', () => {
    const rates = [0.3, 0.5, 0.6];
    const share = (n: number) => {
      const posteriors = rates.map((r) => ({ alpha: 1 + r * n, beta: 1 + (1 - r) * n }));
      const rng = createRng(`grow-${n}`);
      const N = 20_000;
      let best = 0;
      for (let i = 0; i < N; i++) if (thompsonPick(posteriors, rng) === 2) best++;
      return { p: best / N, se: Math.sqrt(0.25 / N) };
    };
    const small = share(5);
    const mid = share(50);
    const large = share(500);
    // Differences larger than 5 standard errors of the two shares combined.
    expect(mid.p - small.p).toBeGreaterThan(5 * Math.hypot(small.se, mid.se));
    expect(large.p - mid.p).toBeGreaterThan(5 * Math.hypot(mid.se, large.se));
    expect(large.p).toBeGreaterThan(0.99);
  });

  test('the Monte Carlo P(best) agrees with the pick frequency', () => {
    const posteriors = [
      { alpha: 8, beta: 12 },
      { alpha: 10, beta: 10 },
      { alpha: 3, beta: 2 },
    ];
    const samples = 20_000;
    const { probBest } = summarizeSet(posteriors, createRng('mc'), samples);
    const rng = createRng('picks');
    const counts = [0, 0, 0];
    for (let i = 0; i < samples; i++) counts[thompsonPick(posteriors, rng)]!++;
    counts.forEach((c, i) => {
      const p = probBest[i]!;
      // Two independent estimates of the same proportion: SE of the difference = sqrt(2 p(1-p)/N).
      expect(Math.abs(c / samples - p)).toBeLessThan(5 * Math.sqrt((2 * p * (1 - p)) / samples) + 1e-9);
    });
  });

  test('pruned candidates keep the work bounded and get (near) zero P(best)', () => {
    const posteriors = Array.from({ length: 1000 }, (_, i) => (i === 0 ? { alpha: 900, beta: 100 } : { alpha: 100 + (i % 7), beta: 900 }));
    const s = summarizeSet(posteriors, createRng('many'), 2000);
    expect(s.probBest[0]).toBe(1);
    expect(s.samples).toBe(2000);
    const [lo, hi] = s.liftIntervals[0]!;
    // Chosen ≈ 0.9, the rest ≈ 0.1: lift ≈ 0.9 − (0.9 + 999·0.1)/1000 ≈ 0.799.
    expect(lo).toBeGreaterThan(0.75);
    expect(hi).toBeLessThan(0.85);
  });
});
