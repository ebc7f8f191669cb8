import { test } from 'vitest';
import { Coverage, createRng, DEFAULT_POLICY_CONFIG, feedOutcomes, MemoryStore, service, binom } from './world.js';
import { logistic, sampleNormal } from '../bandit/hierarchy-world.js';

/**
 * 4 templates; 5 established task classes, each in 4 repositories (40 runs per template and cell): class logit =
 * global + 0.5·N, repo logit = class + 0.5·N. Then (a) a class 'solo' seen in one repository only, with 3/10/30 own
 * runs there; (b) a new repository of an established class whose templates differ from the class in opposite
 * directions (|0.5·N| alternating signs), with 0/3/10 own runs.
 */
const IDS = ['a@v1', 'b@v1', 'c@v1', 'd@v1'];
test('hier', async () => {
  const reps = Number(process.env.REPS ?? 60);
  const rng = createRng('audit-hier');
  const solo = [3, 10, 30].map(() => new Coverage());
  const opp = [0, 3, 10].map(() => new Coverage());
  const t0 = Date.now();
  for (let w = 0; w < reps; w++) {
    const policy = { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 };
    const store = new MemoryStore(policy);
    const ll = service(policy, store);
    const g = IDS.map(() => 0.7 * sampleNormal(rng));
    const classes = Array.from({ length: 5 }, () => g.map((x) => x + 0.5 * sampleNormal(rng)));
    for (let c = 0; c < 5; c++) for (let r = 0; r < 4; r++) for (let i = 0; i < 4; i++) {
      const p = logistic(classes[c]![i]! + 0.5 * sampleNormal(rng));
      const k = binom(rng, 40, p);
      await feedOutcomes(store, IDS[i]!, `c${c}`, `r${c}-${r}`, k, 0, 40 - k);
    }
    for (let m = 0; m < 3; m++) {
      const own = [3, 10, 30][m]!;
      const cls = `solo${m}`;
      const truth = g.map((x) => logistic(x + 0.5 * sampleNormal(rng) + 0.5 * sampleNormal(rng)));
      for (let i = 0; i < 4; i++) { const k = binom(rng, own, truth[i]!); await feedOutcomes(store, IDS[i]!, cls, `only${m}`, k, 0, own - k); }
      const { decision } = await ll.recommend({ taskClass: cls, repo: `only${m}`, candidateTemplateIds: IDS, topK: 0, requestId: '' });
      solo[m]!.add(decision.ranking.filter((r) => { const t = truth[IDS.indexOf(r.armId)]!; return r.posterior.ciLow <= t && t <= r.posterior.ciHigh; }).length, 4);
    }
    for (let m = 0; m < 3; m++) {
      const own = [0, 3, 10][m]!;
      const repo = `opp${m}`;
      const truth = classes[0]!.map((x, i) => logistic(x + (i % 2 === 0 ? 1 : -1) * Math.abs(0.5 * sampleNormal(rng))));
      for (let i = 0; i < 4; i++) { const k = binom(rng, own, truth[i]!); await feedOutcomes(store, IDS[i]!, 'c0', repo, k, 0, own - k); }
      const { decision } = await ll.recommend({ taskClass: 'c0', repo, candidateTemplateIds: IDS, topK: 0, requestId: '' });
      opp[m]!.add(decision.ranking.filter((r) => { const t = truth[IDS.indexOf(r.armId)]!; return r.posterior.ciLow <= t && t <= r.posterior.ciHigh; }).length, 4);
    }
  }
  console.info(`SCEN hier reps ${reps} (${((Date.now() - t0) / 1000).toFixed(0)} s): class in one repository, own runs 3/10/30: ${solo.join('; ')} | new repository, opposite-direction deviations, own 0/3/10: ${opp.join('; ')}`);
});
