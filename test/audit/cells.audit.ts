import { test } from 'vitest';
import { analyse, summarizePosterior } from '../../src/bandit/index.js';
import { binom, Coverage, createRng, DEFAULT_POLICY_CONFIG, decileText, feedOutcomes, mean, MemoryStore, sampleBeta, se, service, type Rng } from './world.js';

interface Scenario { K: number; truth: (rng: Rng, K: number) => number[]; runs: (rng: Rng, i: number) => number }
const U = (lo: number, hi: number) => (rng: Rng) => lo + Math.floor(rng.next() * (hi - lo + 1));
const betaTruth = (a: number, b: number) => (rng: Rng, K: number) => Array.from({ length: K }, () => sampleBeta(rng, a, b));
const S: Record<string, Scenario> = {
  k2unif: { K: 2, truth: betaTruth(1, 1), runs: U(0, 30) },
  k2: { K: 2, truth: betaTruth(3, 5), runs: U(0, 30) },
  k4: { K: 4, truth: betaTruth(3, 5), runs: U(0, 30) },
  k6: { K: 6, truth: betaTruth(3, 5), runs: U(0, 30) },
  k3unif: { K: 3, truth: betaTruth(1, 1), runs: U(0, 30) },
  k3dense: { K: 3, truth: betaTruth(3, 5), runs: U(30, 30) },
  k3: { K: 3, truth: betaTruth(3, 5), runs: U(0, 30) },
  k12: { K: 12, truth: betaTruth(3, 5), runs: U(0, 30) },
  k2narrow: { K: 2, truth: betaTruth(20, 25), runs: U(0, 30) },
  k12narrow: { K: 12, truth: betaTruth(20, 25), runs: U(0, 30) },
  unequal: { K: 5, truth: betaTruth(3, 5), runs: (_r, i) => (i === 0 ? 300 : 2) },
  low: { K: 5, truth: betaTruth(1, 40), runs: U(0, 30) },
  high: { K: 5, truth: betaTruth(40, 1), runs: U(0, 30) },
  winner: { K: 4, truth: (rng, K) => [0.85, ...Array.from({ length: K - 1 }, () => sampleBeta(rng, 3, 5))], runs: U(0, 30) },
  zeros6: { K: 6, truth: betaTruth(3, 5), runs: (rng, i) => (i < 3 ? 0 : U(10, 30)(rng)) },
  zeros: { K: 4, truth: betaTruth(3, 5), runs: (rng, i) => (i < 2 ? 0 : U(5, 30)(rng)) },
};

test('cells', async () => {
  const name = process.env.SCEN!;
  const reps = Number(process.env.REPS ?? 400);
  // POLICY: JSON overrides of the policy configuration, so a candidate is screened on the same worlds.
  const policy = { ...DEFAULT_POLICY_CONFIG, ...JSON.parse(process.env.POLICY ?? '{}') };
  const s = S[name]!;
  const rng = createRng(`audit-${name}`);
  const ci = new Coverage();
  const dec = new Coverage();
  const byRuns = new Map<string, Coverage>();
  const pb: Array<[number, number]> = [];
  const liftErr: number[] = [];
  const liftCov = new Coverage();
  const liftCov0 = new Coverage();
  const t0 = Date.now();
  for (let w = 0; w < reps; w++) {
    const store = new MemoryStore(policy);
    const ll = service(policy, store);
    const ids = Array.from({ length: s.K }, (_, i) => `t${i}@v1`);
    const truth = s.truth(rng, s.K);
    const runs = ids.map((_, i) => s.runs(rng, i));
    for (let i = 0; i < s.K; i++) { const p = binom(rng, runs[i]!, truth[i]!); await feedOutcomes(store, ids[i]!, 'bug', 'app', p, 0, runs[i]! - p); }
    const { decision } = await ll.recommend({ taskClass: 'bug', repo: 'app', candidateTemplateIds: ids, topK: 0, requestId: '' });
    let hits = 0;
    const best = truth.indexOf(Math.max(...truth));
    for (const r of decision.ranking) {
      const i = ids.indexOf(r.armId);
      const h = r.posterior.ciLow <= truth[i]! && truth[i]! <= r.posterior.ciHigh ? 1 : 0;
      hits += h;
      const bucket = runs[i]! === 0 ? '0' : runs[i]! <= 5 ? '1-5' : runs[i]! <= 15 ? '6-15' : runs[i]! <= 30 ? '16-30' : '>30';
      if (!byRuns.has(bucket)) byRuns.set(bucket, new Coverage());
      byRuns.get(bucket)!.add(h, 1);
      pb.push([r.probBest, i === best ? 1 : 0]);
    }
    ci.add(hits, s.K);
    const set = analyse(await store.armEvidence(ids, { taskClass: 'bug', repo: 'app' }), policy, 1_800_000_000_000);
    dec.add(set.posteriors.reduce((k, p, i) => { const q = summarizePosterior(p, 0.5); return k + (q.ciLow <= truth[i]! && truth[i]! <= q.ciHigh ? 1 : 0); }, 0), s.K);
    const c = ids.indexOf(decision.chosen);
    const trueLift = truth[c]! - mean(truth);
    liftErr.push(decision.lift.absolute - trueLift);
    const lh = decision.lift.ciLow <= trueLift && trueLift <= decision.lift.ciHigh ? 1 : 0;
    liftCov.add(lh, 1);
    if (runs[c] === 0) liftCov0.add(lh, 1);
  }
  const b = mean(liftErr);
  console.info(`SCEN ${name} reps ${reps} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n  ci coverage ${ci}; decision marginals ${dec}\n  by own runs: ${[...byRuns].map(([k, v]) => `${k}: ${v}`).join('; ')}\n  lift bias ${(100 * b).toFixed(2)} ± ${(100 * se(liftErr)).toFixed(2)} pts; lift coverage ${liftCov}; chosen with 0 own runs: ${liftCov0.intervals ? liftCov0.toString() : 'n/a'}\n  prob_best: ${decileText(pb)}`);
});
