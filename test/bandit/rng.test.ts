import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createRng, rngForDecision } from '../../src/bandit/index.js';

describe('seeded generators', () => {
  test.prop([fc.string()])('the same seed gives the same stream', (seed) => {
    const a = createRng(seed);
    const b = createRng(seed);
    for (let i = 0; i < 20; i++) expect(a.next()).toBe(b.next());
  });

  test.prop([fc.string(), fc.integer({ min: 1, max: 500 })])('draws lie in [0, 1)', (seed, n) => {
    const rng = createRng(seed);
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  test('named streams of one decision are independent of each other', () => {
    const pick = rngForDecision('d-1', 'pick');
    const summary = rngForDecision('d-1', 'summary');
    const xs = Array.from({ length: 8 }, () => pick.next());
    const ys = Array.from({ length: 8 }, () => summary.next());
    expect(xs).not.toEqual(ys);
    expect(rngForDecision('d-1', 'pick').next()).toBe(xs[0]);
  });
});
