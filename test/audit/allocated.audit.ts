import { test } from 'vitest';
import { DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { Coverage, createRng, feed, intervals, logistic, sampleNormal, service } from '../bandit/hierarchy-world.js';

const T = ['a@v1', 'b@v1', 'c@v1', 'd@v1', 'e@v1'];
test('allocated', async () => {
  const reps = Number(process.env.REPS ?? 100);
  const all = new Coverage(), sparse = new Coverage();
  const t0 = Date.now();
  for (let rep = 0; rep < reps; rep++) {
    const rng = createRng(`audit-allocated-${rep}`);
    const ll = service({ ...DEFAULT_POLICY_CONFIG, summarySamples: 200 });
    const centre = T.map(() => 0.7 * sampleNormal(rng));
    for (let r = 0; r < 5; r++) for (let i = 0; i < T.length; i++) await feed(ll, rng, T[i]!, 'bug', `old${r}`, logistic(centre[i]! + 0.5 * sampleNormal(rng)), 30);
    const truth = centre.map((c) => logistic(c + 0.5 * sampleNormal(rng)));
    const runs = T.map(() => 0);
    for (let t = 0; t < 300; t++) {
      const reply = await ll.recommend({ taskClass: 'bug', repo: 'live', candidateTemplateIds: T, topK: 1, requestId: '' });
      const i = T.indexOf(reply.decision.chosen);
      runs[i]!++;
      await feed(ll, rng, T[i]!, 'bug', 'live', truth[i]!, 1);
    }
    const got = await intervals(ll, 'bug', 'live', T);
    const ok = (i: number) => { const p = got.get(T[i]!)!.posterior; return p.ciLow <= truth[i]! && truth[i]! <= p.ciHigh; };
    all.add(T.filter((_, i) => ok(i)).length, T.length);
    const few = T.map((_, i) => i).filter((i) => runs[i]! < 20);
    if (few.length > 0) sparse.add(few.filter(ok).length, few.length);
  }
  console.info(`SCEN allocated reps ${reps} (${((Date.now() - t0) / 1000).toFixed(0)} s): all ${all}; < 20 runs ${sparse}`);
});
