import { describe, expect, test } from 'vitest';
import { betaInterval, createRng, DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, sampleBeta } from '../../src/bandit/index.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const PARTIAL = 0.3;

interface Covered {
  passRate: number;
  expectedReward: number;
  /** The expected-reward interval read as a pass-rate interval (what the /4 fields invited). */
  rewardAsPassRate: number;
  /** The alpha/beta Beta's own interval of the expected reward (what /4 reported). */
  betaOfReward: number;
  total: number;
}

/**
 * Templates whose runs pass with probability p ~ 0.7·Beta(2, 2), are partial 30% of the time and fail
 * otherwise, observed through the service; the 95% intervals a Recommend reports are checked against
 * the generator's P(pass) and E[reward] = p + 0.5·0.3.
 */
async function coverage(reps: number, templates: number, runs: number): Promise<Covered> {
  const rng = createRng('outcomes-coverage');
  const c: Covered = { passRate: 0, expectedReward: 0, rewardAsPassRate: 0, betaOfReward: 0, total: 0 };
  const r = DEFAULT_POLICY_CONFIG.partialReward;
  for (let rep = 0; rep < reps; rep++) {
    const store = await MemoryStore.open({ policy: DEFAULT_POLICY_CONFIG });
    const ll = new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => T0 + 1e9 });
    const ids = Array.from({ length: templates }, (_, k) => `t${k}`);
    const pass = ids.map(() => 0.7 * sampleBeta(rng, 2, 2));
    let i = 0;
    for (let n = 0; n < runs; n++) {
      for (let k = 0; k < templates; k++) {
        const u = rng.next();
        const outcome = u < pass[k]! ? 'pass' : u < pass[k]! + PARTIAL ? 'partial' : 'fail';
        await ll.observe({ runId: `${rep}-${k}-${n}`, decisionId: '', templateId: ids[k]!, taskClass: 'bug-fix', repo: 'org/app', taskId: '', attempt: 1, outcome, retries: 0, durationSeconds: 60, failureReason: '', finishedAtMs: T0 + i++ * 60_000, agent: '', model: '' });
      }
    }
    const { decision } = await ll.recommend({ taskClass: 'bug-fix', repo: 'org/app', candidateTemplateIds: ids, topK: 0, requestId: '' });
    for (const ranked of decision.ranking) {
      const p = pass[ids.indexOf(ranked.armId)]!;
      const reward = p + r * PARTIAL;
      const s = ranked.posterior;
      const inside = (lo: number, hi: number, x: number) => (lo <= x && x <= hi ? 1 : 0);
      c.passRate += inside(s.passRateLow!, s.passRateHigh!, p);
      c.expectedReward += inside(s.ciLow, s.ciHigh, reward);
      c.rewardAsPassRate += inside(s.ciLow, s.ciHigh, p);
      const [lo, hi] = betaInterval(s.alpha, s.beta, 0.95);
      c.betaOfReward += inside(lo, hi, reward);
      c.total++;
    }
    await store.close();
  }
  return c;
}

describe('pass rate and expected reward, each with its own interval', () => {
  test('with 30% partials the pass-rate interval covers P(pass) and the expected-reward interval E[reward], 93–97% each', async () => {
    // 100 stores × 10 templates = 1,000 intervals of each kind: a coverage's standard error is 0.7 points,
    // so 93–97% is 95% ± 3 of them (templates of one store share their prior, so the band is not tighter).
    const c = await coverage(100, 10, 100);
    const rate = (x: number) => x / c.total;
    expect(rate(c.passRate)).toBeGreaterThanOrEqual(0.93);
    expect(rate(c.passRate)).toBeLessThanOrEqual(0.97);
    expect(rate(c.expectedReward)).toBeGreaterThanOrEqual(0.93);
    expect(rate(c.expectedReward)).toBeLessThanOrEqual(0.97);
    // What policy /4 showed: its one interval, read as a pass rate, rarely covers P(pass) ...
    expect(rate(c.rewardAsPassRate)).toBeLessThan(0.5);
    // ... and, as an expected-reward interval, the fractional Beta is too wide with partials.
    expect(rate(c.betaOfReward)).toBeGreaterThan(0.97);
  }, 240_000);
});
