import { describe, expect, test } from 'vitest';
import { analyse, asArmId, DEFAULT_POLICY_CONFIG, EMPTY_EVIDENCE, type ArmEvidence } from '../../src/bandit/index.js';

// 60 runs in the class's other repository: 30 passes, 18 partials (reward 0.5), 12 fails.
const record = { reward: 30 + 0.5 * 18, trials: 60, passes: 30, stamp: 0 };
const arm = (id: string, decayed: boolean): ArmEvidence => {
  const e = decayed ? { ...record, squares: 60 } : record;
  return { armId: asArmId(id), evidence: { global: e, taskClass: e, repoTaskClass: EMPTY_EVIDENCE } };
};

describe('a repository with no runs of its own borrows the pass rate as well as the expected reward', () => {
  test.each([false, true])('pass rate near 0.5 and expected reward near 0.65, not the reward read as passes (decayed: %s)', (decayed) => {
    const config = decayed ? { ...DEFAULT_POLICY_CONFIG, decay: { halfLife: 1000, unit: 'runs' as const } } : DEFAULT_POLICY_CONFIG;
    const set = analyse([arm('a', decayed), arm('b', decayed), arm('c', decayed)], config, 0);
    const s = set.posteriorSummary(0);
    expect(s.passRate!).toBeGreaterThan(0.45);
    expect(s.passRate!).toBeLessThan(0.55);
    expect(s.mean).toBeGreaterThan(0.6);
    expect(s.passRateLow!).toBeLessThan(s.passRate!);
    expect(s.passRateHigh!).toBeGreaterThan(s.passRate!);
  });
});
