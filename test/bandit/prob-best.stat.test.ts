import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG, sampleBeta, type PolicyConfig } from '../../src/bandit/index.js';
import { Coverage, createRng, feedCounts, MemoryStore, service } from './hierarchy-world.js';

/**
 * Issue 8's rows on P(best) and the lift. Each world: 6 templates whose true pass rates are drawn from
 * a wide (Beta(3, 5)) or narrow (Beta(20, 25): templates close together) spread, each with 0–30 runs in
 * one repository, written through the store's projection; then one Recommend (the service) reports
 * every template's prob_best, and the chosen template's lift over a uniform pick with its 95% interval.
 * The truths: which template is really best, and θ_chosen − mean(θ).
 */
const K = 6;
const IDS = Array.from({ length: K }, (_, i) => `t${i}@v1`);

interface Outcome {
  /** [reported prob_best, 1 if truly best] for every template of every world. */
  readonly probBest: Array<[number, number]>;
  /** Reported absolute lift minus the true one, per world. */
  readonly liftError: number[];
  readonly liftCoverage: Coverage;
}

async function worlds(a: number, b: number, n: number, policy: PolicyConfig): Promise<Outcome> {
  const rng = createRng(`prob-best\u0000${a},${b}`);
  const out: Outcome = { probBest: [], liftError: [], liftCoverage: new Coverage() };
  for (let w = 0; w < n; w++) {
    const store = new MemoryStore(policy);
    const ll = service(policy, store);
    const truth = IDS.map(() => sampleBeta(rng, a, b));
    for (let i = 0; i < K; i++) {
      const runs = Math.floor(rng.next() * 31);
      let passes = 0;
      for (let r = 0; r < runs; r++) passes += rng.next() < truth[i]! ? 1 : 0;
      await feedCounts(store, IDS[i]!, 'bug', 'app', passes, runs - passes);
    }
    const { decision } = await ll.recommend({ taskClass: 'bug', repo: 'app', candidateTemplateIds: IDS, topK: 0, requestId: '' });
    const best = truth.indexOf(Math.max(...truth));
    for (const r of decision.ranking) out.probBest.push([r.probBest, IDS.indexOf(r.armId) === best ? 1 : 0]);
    const trueLift = truth[IDS.indexOf(decision.chosen)]! - truth.reduce((s, x) => s + x, 0) / K;
    out.liftError.push(decision.lift.absolute - trueLift);
    out.liftCoverage.add(decision.lift.ciLow <= trueLift && trueLift <= decision.lift.ciHigh ? 1 : 0, 1);
  }
  return out;
}

/** Per decile of reported prob_best: mean reported, fraction truly best, its standard error, count. */
function deciles(pairs: ReadonlyArray<[number, number]>) {
  return Array.from({ length: 10 }, (_, d) => {
    const inBin = pairs.filter(([p]) => Math.min(9, Math.floor(p * 10)) === d);
    const n = inBin.length;
    const reported = inBin.reduce((s, [p]) => s + p, 0) / n;
    const observed = inBin.reduce((s, [, y]) => s + y, 0) / n;
    // The binomial error of the observed fraction, at the reported probability (the hypothesis tested).
    return { d, n, reported, observed, se: Math.sqrt((reported * (1 - reported)) / n) };
  }).filter((x) => x.n > 0);
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const se = (xs: readonly number[]) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length);

/** Calibration figures of one spread: the deciles, the lift's bias and its standard error, and the lift interval's coverage. */
async function figures(name: string, a: number, b: number) {
  const out = await worlds(a, b, 600, DEFAULT_POLICY_CONFIG);
  const table = deciles(out.probBest);
  const bias = mean(out.liftError);
  const biasSe = se(out.liftError);
  const text = `${name}: prob_best by decile (reported vs truly best): ${table.map((x) => `${x.d}: ${x.reported.toFixed(3)} vs ${x.observed.toFixed(3)} (n ${x.n})`).join('; ')}; lift bias ${(100 * bias).toFixed(2)} ± ${(100 * biasSe).toFixed(2)} points; lift interval coverage ${out.liftCoverage}`;
  console.info(text);
  // Deciles with fewer than 30 templates say too little to check.
  const worstDecile = Math.max(...table.filter((x) => x.n >= 30).map((x) => Math.abs(x.observed - x.reported) - 2 * x.se));
  return { text, worstDecile, bias, biasSe, coverage: out.liftCoverage };
}

const SPREADS = [['wide', 3, 5], ['narrow', 20, 25]] as const;

describe('prob_best and the lift, against the truth', () => {
  for (const [name, a, b] of SPREADS) {
    const result = figures(name, a, b);
    // Issue 8's targets, under policy /7 (the base prior's strength integrated over its posterior; ADR 0006).
    test(`${name} spread (Beta(${a}, ${b})): prob_best within ±0.05 per decile and the lift interval covers 93–97% (beyond 2 SE)`, async () => {
      const { text, worstDecile, coverage } = await result;
      expect(worstDecile, text).toBeLessThan(0.05);
      expect(coverage.rate + 2 * coverage.se >= 0.93 && coverage.rate - 2 * coverage.se <= 0.97, text).toBe(true);
    }, 180_000);
    if (name === 'wide') {
      test(`${name} spread: lift bias < 1 point (beyond 2 SE)`, async () => {
        const { text, bias, biasSe } = await result;
        expect(Math.abs(bias) - 2 * biasSe, text).toBeLessThan(0.01);
      }, 180_000);
    } else {
      // Not met: with six templates of 0–30 runs each the strength of templates this close (45 pseudo-runs)
      // cannot be told from 15 or 500, so its posterior follows its hyperprior and the chosen template is
      // shrunk too little (+1.95 ± 0.28 points; an oracle prior gives +0.5 ± 0.2). A hyperprior that fixes this
      // (flatter in log strength) over-shrinks the wide spread (−2.3 points, coverage 90%). ADR 0008: the true
      // strength removes the bias, the true mean does not, and the hyperpriors tried (flat in ln s, uniform
      // shrinkage) all trade the narrow bias for the wide one. The guard keeps it from regressing; `test.fails`
      // starts failing, to be made a plain test, once the target holds.
      test(`${name} spread: lift bias < 3 points (beyond 2 SE)`, async () => {
        const { text, bias, biasSe } = await result;
        expect(Math.abs(bias) - 2 * biasSe, text).toBeLessThan(0.03);
      }, 180_000);
      test.fails(`${name} spread: KNOWN GAP, issue 8's lift bias < 1 point`, async () => {
        const { text, bias, biasSe } = await result;
        expect(Math.abs(bias) - 2 * biasSe, text).toBeLessThan(0.01);
      }, 180_000);
    }
  }
});
