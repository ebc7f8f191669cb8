import { describe, expect, test } from 'vitest';
import { createRng, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { verdict } from '../../src/cli/commands/report-lift.js';
import { joinDecisions } from '../../src/ope/index.js';
import { liftOverUniform } from '../../src/ope/index.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { DEFAULT_LIMITS } from '../../src/bandit/index.js';
import { LmdbStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';

describe('report lift on a real log', () => {
  test('joins decisions to their outcomes and estimates a positive lift when one template is far better', async () => {
    const dir = tmpDir();
    const policy = { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 };
    const store = await LmdbStore.open(dir, { policy, noSync: true });
    let id = 0;
    // Deterministic decision ids make the picks (seeded by the id) reproducible.
    const ll = new LearnLoop({ store, limits: DEFAULT_LIMITS, newDecisionId: () => `dec${id++}`, now: () => 1_700_000_000_000 + id });
    const rates: Record<string, number> = { good: 0.9, bad: 0.2, meh: 0.4 };
    const rng = createRng('log');
    let n = 0;
    for (let i = 0; i < 150; i++) {
      const d = await ll.recommend({ taskClass: 'bug', repo: 'org/app', candidateTemplateIds: Object.keys(rates), topK: 0, requestId: '' });
      if (i % 10 === 9) continue; // some decisions never report back
      const chosen = d.decision.chosen;
      const outcome = i % 25 === 0 ? 'infra_error' : rng.next() < rates[chosen]! ? 'pass' : 'fail';
      await ll.observe({
        runId: `run${n++}`, decisionId: d.decision.decisionId, templateId: chosen, taskClass: 'bug', repo: 'org/app', taskId: '', attempt: 1,
        outcome, retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: undefined, agent: '', model: '',
      });
    }
    const join = await joinDecisions(store.events(), store.policy);
    await store.close();
    // 15 never reported; infra errors at i = 0, 25, 50, 75, 100, 125 teach nothing.
    expect(join.decisions.length).toBe(150 - 15 - 6);
    expect(join.unobserved).toBe(21);
    for (const d of join.decisions) {
      expect(d.propensity).toBeGreaterThan(0);
      expect(d.propensity).toBeLessThanOrEqual(1);
      expect(d.candidates).toEqual(['good', 'bad', 'meh']);
    }
    const est = liftOverUniform(join.decisions);
    expect(est.deployed.estimate).toBeCloseTo(join.decisions.reduce((s, d) => s + d.reward, 0) / join.decisions.length, 12);
    // Uniform over {0.9, 0.2, 0.4} is 0.5; the learning policy mostly runs `good`.
    for (const e of ['ips', 'snips', 'dr'] as const) {
      expect(est.lift[e].estimate).toBeGreaterThan(0);
      expect(est.lift[e].ciLow).toBeLessThanOrEqual(est.lift[e].estimate);
      expect(est.lift[e].ciHigh).toBeGreaterThanOrEqual(est.lift[e].estimate);
    }
    expect(est.lift.dr.estimate).toBeGreaterThan(0.1);
    expect(est.effectiveSampleSize).toBeLessThan(join.decisions.length);
  });

  test('pass-rate intervals stay in [0, 1] and lifts in [−1, 1] even when IPS weights overshoot', () => {
    // One success logged at propensity 0.01 weighs 25×: raw IPS for uniform is far above 1.
    const log = Array.from({ length: 40 }, (_, i) => ({
      context: '', candidates: ['a', 'b', 'c', 'd'], chosen: i === 0 ? 'd' : 'a', propensity: i === 0 ? 0.01 : 0.97, reward: 1,
    }));
    const est = liftOverUniform(log);
    for (const e of ['ips', 'snips', 'dr'] as const) {
      for (const x of [est.uniform[e].estimate, est.uniform[e].ciLow, est.uniform[e].ciHigh]) expect(x >= 0 && x <= 1).toBe(true);
      for (const x of [est.lift[e].estimate, est.lift[e].ciLow, est.lift[e].ciHigh]) expect(x >= -1 && x <= 1).toBe(true);
    }
    expect(est.uniform.ips.ciHigh).toBe(1);
  });

  test('the verdict line says who won, by how much, with the interval and the effective decisions', () => {
    const interval = (estimate: number, ciLow: number, ciHigh: number) => ({ estimate, ciLow, ciHigh });
    const base = { decisions: 400, deployed: interval(0.6, 0.55, 0.65), effectiveSampleSize: 123.4, meanWeight: 1, uniform: { ips: interval(0.4, 0.3, 0.5), snips: interval(0.4, 0.3, 0.5), dr: interval(0.4, 0.3, 0.5) } };
    const lift = (l: ReturnType<typeof interval>) => ({ ...base, lift: { ips: l, snips: l, dr: l } });
    expect(verdict(lift(interval(0.2, 0.1, 0.3)))).toBe('verdict: the deployed policy beat uniform by 20.0 points, 95% interval +10.0 to +30.0 points (doubly robust); 123 effective decisions of 400.');
    expect(verdict(lift(interval(-0.05, -0.08, -0.01)))).toContain('trailed uniform by 5.0 points');
    expect(verdict(lift(interval(0.02, -0.01, 0.05)))).toContain('is not distinguishable from uniform (+2.0 points)');
  });
});
