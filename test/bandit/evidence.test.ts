import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { addReward, DEFAULT_POLICY_CONFIG, effectiveEvidence, EMPTY_EVIDENCE, evidenceAt, learnRun, onTemplateClock, rewardOf, subtractEvidence, type DecayConfig } from '../../src/bandit/index.js';

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

describe('decay on the template clock (policy /5)', () => {
  const runs = fc.array(fc.tuple(fc.boolean(), fc.constantFrom<0 | 0.5 | 1>(0, 0.5, 1)), { minLength: 1, maxLength: 80 });
  const config = { decay: { halfLife: 7, unit: 'runs' as const }, decayModel: 'template-clock' as const };

  test.prop([runs])('each level holds each run once, at its weight on the template clock; global minus a class is the other class', (xs) => {
    // Segments: [global, class a, class b]; a run lands in global and in its class.
    let global = EMPTY_EVIDENCE;
    let a = EMPTY_EVIDENCE;
    let b = EMPTY_EVIDENCE;
    for (const [inA, reward] of xs) {
      const [g, c] = learnRun([global, inA ? a : b], reward, reward === 1, 0, config);
      global = g!;
      if (inA) a = c!;
      else b = c!;
    }
    const n = xs.length;
    const weight = (i: number) => Math.pow(2, -(n - 1 - i) / 7);
    const sum = (pick: (i: number) => boolean, f: (i: number) => number) => xs.reduce((s, _, i) => s + (pick(i) ? f(i) : 0), 0);
    const levels = onTemplateClock({ global, taskClass: a, repoTaskClass: undefined }, config);
    const rest = subtractEvidence(levels.global, levels.taskClass!, config.decay);
    const inB = (i: number) => !xs[i]![0];
    expect(rest.trials).toBeCloseTo(sum(inB, weight), 9);
    expect(rest.reward).toBeCloseTo(sum(inB, (i) => weight(i) * xs[i]![1]), 9);
    expect(rest.passes!).toBeCloseTo(sum(inB, (i) => (xs[i]![1] === 1 ? weight(i) : 0)), 9);
    expect(rest.squares!).toBeCloseTo(sum(inB, (i) => weight(i) ** 2), 9);
    expect(global.trials).toBeCloseTo(sum(() => true, weight), 9);
  });

  test.prop([runs])('the effective sample size is (Σw)²/Σw²: between Σw and the run count, the mean unchanged', (xs) => {
    let e = EMPTY_EVIDENCE;
    for (const [, r] of xs) e = learnRun([e], r, r === 1, 0, config)[0]!;
    const eff = effectiveEvidence(e);
    expect(eff.trials).toBeGreaterThanOrEqual(e.trials - 1e-9);
    expect(eff.trials).toBeLessThanOrEqual(xs.length + 1e-9);
    expect(eff.reward / eff.trials).toBeCloseTo(e.reward / e.trials, 12);
    expect(eff.trials).toBeCloseTo(e.trials ** 2 / e.squares!, 9);
  });

  test('without the field (policy /4) each segment keeps its own run count, and no squared weights', () => {
    const { decayModel: _, ...old } = config;
    const [g, c] = learnRun(learnRun([EMPTY_EVIDENCE, EMPTY_EVIDENCE], 1, true, 0, old), 0, false, 0, old);
    expect(g!.stamp).toBe(2);
    expect(c!.stamp).toBe(2);
    expect(g!.squares).toBeUndefined();
    // A level the template's other runs skipped is not decayed by them on its own clock.
    const [, other] = learnRun([g!, EMPTY_EVIDENCE], 1, true, 0, old);
    expect(other!.stamp).toBe(1);
  });
});
