import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { addReward, DEFAULT_POLICY_CONFIG, EMPTY_EVIDENCE, evidenceAt, rewardOf, type DecayConfig } from '../../src/bandit/index.js';

const rewards = fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 1e12 })), { maxLength: 60 });
const fold = (xs: Array<[number, number]>, decay: DecayConfig | null) =>
  xs.reduce((e, [r, t]) => addReward(e, r, t, decay), EMPTY_EVIDENCE);

describe('evidence updates', () => {
  test.prop([rewards])('without decay: trials count the runs, reward sums them, nothing decreases', (xs) => {
    let e = EMPTY_EVIDENCE;
    for (const [r, t] of xs) {
      const next = addReward(e, r, t, null);
      expect(next.trials).toBe(e.trials + 1);
      expect(next.reward).toBeCloseTo(e.reward + r, 9);
      expect(next.reward).toBeGreaterThanOrEqual(e.reward);
      e = next;
    }
  });

  test.prop([rewards])('without decay, updates commute', (xs) => {
    const a = fold(xs, null);
    const b = fold([...xs].reverse(), null);
    expect(b.trials).toBe(a.trials);
    expect(Math.abs(b.reward - a.reward)).toBeLessThan(1e-9);
  });

  test.prop([rewards])('day-based decay does not depend on arrival order', (xs) => {
    const decay: DecayConfig = { halfLife: 30, unit: 'days' };
    const now = 2e12;
    const a = evidenceAt(fold(xs, decay), now, decay);
    const b = evidenceAt(fold([...xs].reverse(), decay), now, decay);
    expect(Math.abs(a.trials - b.trials)).toBeLessThan(1e-9 * Math.max(1, a.trials));
    expect(Math.abs(a.reward - b.reward)).toBeLessThan(1e-9 * Math.max(1, a.trials));
    expect(a.reward).toBeLessThanOrEqual(a.trials + 1e-9);
  });

  test('a run one half-life old weighs half as much as a new one', () => {
    const decay: DecayConfig = { halfLife: 10, unit: 'days' };
    const day = 86_400_000;
    const e = addReward(addReward(EMPTY_EVIDENCE, 1, 0, decay), 0, 10 * day, decay);
    expect(e.trials).toBeCloseTo(1.5, 12);
    expect(e.reward).toBeCloseTo(0.5, 12);
    const runs: DecayConfig = { halfLife: 2, unit: 'runs' };
    const r = [1, 0, 0].reduce((acc, x) => addReward(acc, x, 0, runs), EMPTY_EVIDENCE);
    // The first run has been followed by two more: weight 2^(-2/2) = 0.5.
    expect(r.reward).toBeCloseTo(0.5, 12);
  });

  test.each([
    ['pass', 1],
    ['partial', 0.5],
    ['fail', 0],
    ['timeout', 0],
    ['infra_error', null],
  ] as const)('outcome %s teaches reward %s', (outcome, reward) => {
    expect(rewardOf(outcome, DEFAULT_POLICY_CONFIG)).toBe(reward);
  });

  test('the partial reward is configurable', () => {
    expect(rewardOf('partial', { ...DEFAULT_POLICY_CONFIG, partialReward: 0.25 })).toBe(0.25);
  });
});
