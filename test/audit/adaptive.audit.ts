import { test } from 'vitest';
import { analyse, summarizePosterior } from '../../src/bandit/index.js';
import { Coverage, createRng, DEFAULT_POLICY_CONFIG, feedOutcomes, MemoryStore, sampleBeta, service } from './world.js';

test('adaptive', async () => {
  const K = Number(process.env.K ?? 4), T = Number(process.env.T ?? 150), reps = Number(process.env.REPS ?? 150);
  const rng = createRng(`audit-adaptive-${K}-${T}`);
  const all = new Coverage(), least = new Coverage(), leastDec = new Coverage(), allDec = new Coverage();
  const pb: Array<[number, number]> = [];
  const t0 = Date.now();
  for (let w = 0; w < reps; w++) {
    const policy = { ...DEFAULT_POLICY_CONFIG, summarySamples: 300 };
    const store = new MemoryStore(policy);
    const ll = service(policy, store);
    const ids = Array.from({ length: K }, (_, i) => `t${i}@v1`);
    const truth = ids.map(() => sampleBeta(rng, 3, 5));
    const runs = ids.map(() => 0);
    for (let t = 0; t < T; t++) {
      const { decision } = await ll.recommend({ taskClass: 'bug', repo: 'app', candidateTemplateIds: ids, topK: 1, requestId: '' });
      const i = ids.indexOf(decision.chosen);
      runs[i]!++;
      const pass = rng.next() < truth[i]! ? 1 : 0;
      await feedOutcomes(store, ids[i]!, 'bug', 'app', pass, 0, 1 - pass);
    }
    const { decision } = await ll.recommend({ taskClass: 'bug', repo: 'app', candidateTemplateIds: ids, topK: 0, requestId: '' });
    const set = analyse(await store.armEvidence(ids, { taskClass: 'bug', repo: 'app' }), policy, 1_800_000_000_000);
    const minRuns = Math.min(...runs);
    let h = 0, hd = 0;
    for (const r of decision.ranking) {
      const i = ids.indexOf(r.armId);
      const ok = r.posterior.ciLow <= truth[i]! && truth[i]! <= r.posterior.ciHigh ? 1 : 0;
      const q = summarizePosterior(set.posteriors[i]!, 0.5);
      const okd = q.ciLow <= truth[i]! && truth[i]! <= q.ciHigh ? 1 : 0;
      h += ok; hd += okd;
      if (runs[i] === minRuns) { least.add(ok, 1); leastDec.add(okd, 1); }
      pb.push([r.probBest, truth[i] === Math.max(...truth) ? 1 : 0]);
    }
    all.add(h, K); allDec.add(hd, K);
  }
  console.info(`SCEN adaptive K ${K} T ${T} reps ${reps} (${((Date.now() - t0) / 1000).toFixed(0)} s): all reported ${all} (decision marginals ${allDec}); least-run reported ${least} (decision ${leastDec})`);
});
