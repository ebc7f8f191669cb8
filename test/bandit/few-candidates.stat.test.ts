import { describe, expect, test } from 'vitest';
import { analyse, DEFAULT_POLICY_CONFIG, sampleBeta, summarizePosterior } from '../../src/bandit/index.js';
import { calibrated, Coverage, createRng, feedCounts, MemoryStore, service } from './hierarchy-world.js';

/**
 * Each template's 95% interval in one context, with a handful of candidates: K = 3, 6 or 12 templates whose true
 * rates are Beta(3, 5), each with 0–30 runs in one repository (through the store's projection), then one Recommend.
 * The base prior is fitted to these few records, so its mean is uncertain as well as its strength: the decision's
 * marginals (what answers reported before reportedPosteriors, src/bandit/recommend.ts) plug the mean in and covered
 * 91.0% ± 0.5, 90.5% ± 0.4 and 91.5% ± 0.3 at K = 3, 6, 12 (1,000 worlds each). The second check keeps the test able
 * to tell: at K = 3 and 6 the decision's marginals must still fall short in the same worlds.
 */
async function coverage(k: number, worlds: number) {
  const rng = createRng(`few-candidates\u0000${k}`);
  const reported = new Coverage();
  const decision = new Coverage();
  const ids = Array.from({ length: k }, (_, i) => `t${i}@v1`);
  for (let w = 0; w < worlds; w++) {
    const store = new MemoryStore(DEFAULT_POLICY_CONFIG);
    const ll = service(DEFAULT_POLICY_CONFIG, store);
    const truth = ids.map(() => sampleBeta(rng, 3, 5));
    for (let i = 0; i < k; i++) {
      const runs = Math.floor(rng.next() * 31);
      let passes = 0;
      for (let r = 0; r < runs; r++) passes += rng.next() < truth[i]! ? 1 : 0;
      if (runs > 0) await feedCounts(store, ids[i]!, 'bug', 'app', passes, runs - passes);
    }
    const context = { taskClass: 'bug', repo: 'app' };
    const { decision: d } = await ll.recommend({ ...context, candidateTemplateIds: ids, topK: 0, requestId: '' });
    const covers = (p: { ciLow: number; ciHigh: number }, i: number) => (p.ciLow <= truth[i]! && truth[i]! <= p.ciHigh ? 1 : 0);
    reported.add(d.ranking.reduce((n, r) => n + covers(r.posterior, ids.indexOf(r.armId)), 0), k);
    const set = analyse(await store.armEvidence(ids, context), DEFAULT_POLICY_CONFIG, 1_800_000_000_000);
    decision.add(set.posteriors.reduce((n, p, i) => n + covers(summarizePosterior(p, DEFAULT_POLICY_CONFIG.partialReward), i), 0), k);
  }
  return { reported, decision };
}

describe('few candidates in one context: each template 95% interval', () => {
  for (const [k, worlds] of [[3, 800], [6, 600], [12, 200]] as const) {
    test(`K = ${k}, 0–30 runs each: covers 93–97% (within 2 SE)${k < 12 ? ", where the decision's marginals do not" : ''}`, async () => {
      const { reported, decision } = await coverage(k, worlds);
      const text = `K = ${k}: reported ${reported}; decision's marginals ${decision}`;
      console.info(text);
      expect(calibrated(reported), text).toBe(true);
      // At K = 12 the mean is better known and the shortfall (about 2 points) needs more worlds than fit here.
      if (k < 12) expect(decision.rate + 2 * decision.se, text).toBeLessThan(0.93);
    }, 180_000);
  }
});
