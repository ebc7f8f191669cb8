import { describe, expect, test } from 'vitest';
import { analyse, asArmId, createRng, DEFAULT_POLICY_CONFIG, satisficingPick, type ArmEvidence, type PolicyConfig } from '../../src/bandit/index.js';

const arm = (id: string, reward: number, trials: number): ArmEvidence => ({
  armId: asArmId(id),
  evidence: { global: { reward, trials, stamp: 0 }, taskClass: undefined, repoTaskClass: undefined },
});

// A leader, a close second, and templates the policy picks rarely (propensities from ~0.03 to ~1e-4).
const arms = [arm('lead', 70, 100), arm('second', 30, 45), arm('young', 2, 4), arm('mid', 24, 50), arm('weak', 12, 40), arm('poor', 5, 40)];

/** How often the real pick rule picks each candidate in `n` decisions: the truth the summary must match. */
function frequencies(config: PolicyConfig, n: number): number[] {
  const set = analyse(arms, config, 0);
  const rng = createRng('propensity-truth');
  const counts = arms.map(() => 0);
  for (let i = 0; i < n; i++) counts[satisficingPick(set.posteriors, set.rule, rng)]!++;
  return counts.map((c) => c / n);
}

// The rule without policy /10's horizon clip (a stored /9 configuration): under the clip three of these six are picked
// fewer than 50 times in 400,000, too rarely for the importance-weight check; the clipped rule's propensities are
// checked below and in horizon-clip.test.ts.
const { horizonClip: _clip, horizonClipShare: _share, ...unclipped } = DEFAULT_POLICY_CONFIG;

function checkSmall(truth: readonly number[], propensity: readonly number[], n: number): void {
  for (let i = 0; i < arms.length; i++) {
    const p = truth[i]!;
    expect(propensity[i]!).toBeGreaterThan(0);
    if (p * n < 50) continue; // too rare for the truth itself to be known
    // Binomial error of the truth plus ~2% for the summary's own 2,000 Rao–Blackwellised draws.
    const rel = Math.sqrt((1 - p) / (n * p)) + 0.02;
    expect(Math.abs(propensity[i]! / p - 1), `${arms[i]!.armId}: ${propensity[i]} vs ${p}`).toBeLessThan(4 * rel);
  }
  expect(Math.min(...truth)).toBeLessThan(0.01); // the check reaches small propensities
}

describe('propensities are precise enough for importance weighting', () => {
  const n = 400_000;
  const truth = frequencies(unclipped, n);
  const propensity = analyse(arms, unclipped, 0).summary().propensity;

  test('every small propensity is within 4 standard errors (relative) of the true pick frequency, and none is 0', () => checkSmall(truth, propensity, n));

  test('so is every small propensity under policy /10\'s horizon clip', () =>
    checkSmall(frequencies(DEFAULT_POLICY_CONFIG, n), analyse(arms, DEFAULT_POLICY_CONFIG, 0).summary().propensity, n));

  test('the mean uniform importance weight is within 0.01 of 1', () => {
    // E[w] = Σᵢ P(pick i) · (1/K) / propensityᵢ: each candidate adds 1/K when its propensity is right.
    // Candidates too rare to be seen in n picks cannot be checked; they leave out their 1/K.
    let w = 0;
    let v = 0;
    let expected = 0;
    for (let i = 0; i < arms.length; i++) {
      if (truth[i]! * n < 50) continue;
      const ratio = 1 / (arms.length * propensity[i]!);
      w += truth[i]! * ratio;
      v += (ratio * ratio * (truth[i]! * (1 - truth[i]!))) / n;
      expected += 1 / arms.length;
    }
    expect(expected).toBeGreaterThan(0.6);
    expect(Math.abs(w / expected - 1)).toBeLessThan(0.01 + (3 * Math.sqrt(v)) / expected);
  });

  test('counting picks (the /4-and-earlier estimator) fails the same check: the test can tell', () => {
    const counted = analyse(arms, { ...unclipped, propensityEstimator: 'counts' }, 0).summary().propensity;
    const off = arms.some((_, i) => truth[i]! * n >= 50 && (counted[i] === 0 || Math.abs(counted[i]! / truth[i]! - 1) > 4 * (Math.sqrt((1 - truth[i]!) / (n * truth[i]!)) + 0.02)));
    expect(off).toBe(true);
  });
});
