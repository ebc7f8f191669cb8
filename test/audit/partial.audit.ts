import { test } from 'vitest';
import { Coverage, createRng, DEFAULT_POLICY_CONFIG, feedOutcomes, MemoryStore, sampleBeta, service, type Rng } from './world.js';

/** K templates in one cell; each run passes w.p. p, is partial w.p. q, fails otherwise. */
const SHARES: Record<string, (rng: Rng, i: number) => number> = {
  q10: () => 0.1,
  q50: () => 0.5,
  mixed: (_r, i) => (i % 2 === 0 ? 0.1 : 0.5),
};
test('partial', async () => {
  const name = process.env.SCEN!;
  const reps = Number(process.env.REPS ?? 400);
  const K = Number(process.env.K ?? 5);
  const maxRuns = Number(process.env.RUNS ?? 30);
  const rng = createRng(`audit-partial-${name}-${K}-${maxRuns}`);
  const pass = new Coverage();
  const reward = new Coverage();
  const passBy = { low: new Coverage(), high: new Coverage() };
  const t0 = Date.now();
  let below50 = 0, above50 = 0;
  for (let w = 0; w < reps; w++) {
    const store = new MemoryStore(DEFAULT_POLICY_CONFIG);
    const ll = service(DEFAULT_POLICY_CONFIG, store);
    const ids = Array.from({ length: K }, (_, i) => `t${i}@v1`);
    const q = ids.map((_, i) => SHARES[name]!(rng, i));
    const p = ids.map((_, i) => (1 - q[i]!) * sampleBeta(rng, 3, 3));
    for (let i = 0; i < K; i++) {
      const n = Math.floor(rng.next() * (maxRuns + 1));
      let a = 0, b = 0;
      for (let r = 0; r < n; r++) { const u = rng.next(); if (u < p[i]!) a++; else if (u < p[i]! + q[i]!) b++; }
      await feedOutcomes(store, ids[i]!, 'bug', 'app', a, b, n - a - b);
    }
    const { decision } = await ll.recommend({ taskClass: 'bug', repo: 'app', candidateTemplateIds: ids, topK: 0, requestId: '' });
    let hp = 0, hr = 0;
    for (const r of decision.ranking) {
      const i = ids.indexOf(r.armId);
      const s = r.posterior;
      const okP = s.passRateLow! <= p[i]! && p[i]! <= s.passRateHigh! ? 1 : 0;
      const er = p[i]! + 0.5 * q[i]!;
      hp += okP;
      hr += s.ciLow <= er && er <= s.ciHigh ? 1 : 0;
      (q[i]! < 0.3 ? passBy.low : passBy.high).add(okP, 1);
      if (q[i]! >= 0.3 && !okP) { if (p[i]! < s.passRateLow!) below50++; else above50++; }
    }
    pass.add(hp, K);
    reward.add(hr, K);
  }
  console.info(`SCEN partial ${name} K ${K} runs 0-${maxRuns} reps ${reps} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n  pass-rate interval ${pass}\n  expected-reward interval ${reward}\n  pass-rate by partial share: 10%: ${passBy.low.intervals ? passBy.low : '-'}; 50%: ${passBy.high.intervals ? passBy.high : '-'}; misses of 50%-partial templates: truth below ${below50}, above ${above50}`);
});
