import { describe, expect, test } from 'vitest';
import {
  asArmId,
  choose,
  createRng,
  DEFAULT_POLICY_CONFIG,
  recommend,
  asDecisionId,
  summarizeSet,
  type ArmEvidence,
} from '../../src/bandit/index.js';

const arm = (id: string, reward: number, trials: number): ArmEvidence => ({
  armId: asArmId(id),
  evidence: { global: { reward, trials, stamp: 0 }, taskClass: undefined, repoTaskClass: undefined },
});

// A well-known good template, a little-known one that may be slightly better, and weaker ones.
const arms = [arm('known', 60, 100), arm('new', 2, 3), arm('mid', 25, 50), arm('weak', 10, 40)];

describe('propensity under satisficing Thompson sampling', () => {
  test("the summary's propensities match how often choose() picks each arm", () => {
    const n = 20_000;
    const rng = createRng('freq');
    const counts = arms.map(() => 0);
    let rule;
    for (let i = 0; i < n; i++) {
      const c = choose(arms, DEFAULT_POLICY_CONFIG, 0, rng);
      counts[c.index]!++;
      rule = c.rule;
    }
    // Under /7 the draws come from the mixture over the base prior's strength, as choose()'s do.
    const { posteriors, mixture } = choose(arms, DEFAULT_POLICY_CONFIG, 0, rng);
    const m = 20_000;
    const set = summarizeSet(posteriors, createRng('summary'), m, rule, mixture);
    for (let i = 0; i < arms.length; i++) {
      const p = set.propensity[i]!;
      // Two independent binomial estimates: tolerance 4 standard errors of their difference.
      const se = Math.sqrt((p * (1 - p)) / n + (p * (1 - p)) / m) + 1e-3;
      expect(Math.abs(counts[i]! / n - p)).toBeLessThan(4 * se);
    }
    // Satisficing moves picks towards the well-known arm: P(pick) > P(best) there.
    expect(set.propensity[0]!).toBeGreaterThan(set.probBest[0]! + 0.02);
    expect(set.propensity.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  test('with tolerance 0 and no horizon clip the propensity is P(best), as in plain Thompson sampling', () => {
    const { horizonClip: _clip, ...unclipped } = DEFAULT_POLICY_CONFIG;
    const config = { ...unclipped, satisficingTolerance: 0 };
    const { posteriors, rule } = choose(arms, config, 0, createRng('x'));
    expect(rule.tolerance).toBe(0);
    const set = summarizeSet(posteriors, createRng('s'), 2000, rule);
    expect(set.propensity).toEqual(set.probBest);
  });

  test('recommend() logs the propensity of its pick, not its P(best)', () => {
    const d = recommend({ decisionId: asDecisionId('d1'), context: { taskClass: '', repo: '' }, arms, nowMs: 0, topK: 0 }, DEFAULT_POLICY_CONFIG);
    const chosen = d.ranking.find((r) => r.armId === d.chosen)!;
    expect(d.propensity).toBe(chosen.propensity);
    const known = d.ranking.find((r) => r.armId === 'known')!;
    expect(known.propensity).toBeGreaterThan(known.probBest);
  });
});
