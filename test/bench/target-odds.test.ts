import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createRng, sampleNormal } from '../../src/bandit/index.js';
import type { MatrixCellResult, MatrixResult, PolicyCell } from '../../src/lift/matrix.js';
import { normalCdf } from '../../src/reports/stats.js';
import { targetChance, targetComparisons, type TargetComparison } from '../../src/lift/target-odds.js';

const policy = (mean: number, p10: number, diff: [number, number], p10Diff?: [number, number]): PolicyCell => ({
  mean,
  p10,
  diffMean: (diff[0] + diff[1]) / 2,
  diffLow: diff[0],
  diffHigh: diff[1],
  ...(p10Diff === undefined ? {} : { p10Diff: { low: p10Diff[0], high: p10Diff[1] } }),
});

const cell = (table: string, arms: number | 'all', steps: number, policies: Record<string, PolicyCell>): MatrixCellResult => ({ table, arms, steps, k: arms === 'all' ? 40 : arms, seeds: 100, policies });

describe('targetComparisons', () => {
  test('reads the target cells only, with the lead and the standard error of each comparison', () => {
    const m = {
      cells: [
        cell('t', 8, 2000, { learnloop: policy(0.8, 0.6, [0, 0], [0, 0]), 'greedy-score': policy(0.85, 0.5, [0.01, 0.09], [-0.3, -0.1]), 'learnloop-variant': policy(0.9, 0.9, [0, 0.2]) }),
        cell('t', 'all', 2000, { learnloop: policy(0.7, 0.5, [0, 0]), 'greedy-score': policy(0.6, 0.4, [-0.2, 0]) }),
        cell('t', 4, 2000, { learnloop: policy(0.7, 0.5, [0, 0]), 'greedy-score': policy(0.9, 0.9, [0.1, 0.3]) }),
        cell('t', 8, 500, { learnloop: policy(0.7, 0.5, [0, 0]), 'greedy-score': policy(0.9, 0.9, [0.1, 0.3]) }),
      ],
    } as unknown as MatrixResult;
    const cs = targetComparisons(m);
    // The variant is no baseline; a run without paired p10 intervals gives no p10 comparison.
    expect(cs.map((c) => `${c.cell} ${c.stat} ${c.baseline}`)).toEqual(['t K=8 mean greedy-score', 't K=8 p10 greedy-score', 't K=40 mean greedy-score']);
    expect(cs[0]!.lead).toBeCloseTo(-0.05, 12);
    expect(cs[0]!.se).toBeCloseTo(0.08 / 3.92, 12);
    expect(cs[1]!.lead).toBeCloseTo(0.1, 12);
    expect(cs[1]!.se).toBeCloseTo(0.2 / 3.92, 12);
  });
});

describe('targetChance', () => {
  const comparison = fc.record({ cell: fc.constantFrom('a', 'b', 'c'), stat: fc.constantFrom<'mean' | 'p10'>('mean', 'p10'), baseline: fc.constant('x'), lead: fc.double({ min: -0.2, max: 0.2, noNaN: true }), se: fc.double({ min: 0.005, max: 0.1, noNaN: true }) });

  test.prop([fc.array(comparison, { minLength: 1, maxLength: 12 }), fc.double({ min: 0, max: 0.1, noNaN: true })])(
    'is a probability, at most any one comparison\'s, and grows with every lead',
    (cs, d) => {
      const p = targetChance(cs);
      expect(p).toBeGreaterThanOrEqual(0);
      for (const c of cs) expect(p).toBeLessThanOrEqual(normalCdf(c.lead / c.se) + 1e-12);
      expect(targetChance(cs, (c) => c.lead + d)).toBeGreaterThanOrEqual(p - 1e-12);
    },
  );

  // The bound's claim, checked against the truth of the test's own generator: three cells, two baselines each, whose
  // per-seed results share learnloop's (so the comparisons within a cell are correlated). Over many fresh draws of
  // 100 seeds, the share of draws where every paired mean difference favours learnloop must not exceed the bound
  // computed from the true leads and standard errors, beyond 3 binomial standard errors.
  test('bounds how often every comparison holds on fresh draws of seeds', () => {
    const rng = createRng('target-odds');
    const seeds = 100;
    // Ties and near-ties, several to a cell: where treating the comparisons as independent would be far off.
    const leads = [
      [0, 0, 0, 0],
      [0.02, 0.02, 0.02],
      [0.03, 0.01],
    ];
    const sd = 0.15; // each policy's own noise per seed, beside the seed's effect that pairing removes
    const truth: TargetComparison[] = leads.flatMap((ls, i) => ls.map((lead, b) => ({ cell: `c${i}`, stat: 'mean' as const, baseline: `b${b}`, lead, se: (sd * Math.SQRT2) / Math.sqrt(seeds) })));
    const bound = targetChance(truth);
    const draws = 2000;
    let all = 0;
    for (let t = 0; t < draws; t++) {
      let ok = true;
      for (const ls of leads) {
        const seed = Array.from({ length: seeds }, () => 0.3 * sampleNormal(rng));
        const learnloop = seed.map((x) => x + sd * sampleNormal(rng));
        for (const lead of ls) {
          const diff = learnloop.reduce((s, x, i) => s + x - (seed[i]! - lead + sd * sampleNormal(rng)), 0) / seeds;
          if (diff < 0) ok = false;
        }
      }
      if (ok) all++;
    }
    const share = all / draws;
    const product = truth.reduce((p, c) => p * normalCdf(c.lead / c.se), 1);
    expect(share).toBeLessThanOrEqual(bound + 3 * Math.sqrt((bound * (1 - bound)) / draws));
      // Comparisons sharing learnloop's figure are positively correlated, so the truth lies above the product of all nine
    // (what treating them as independent would claim: here 0.02, against 0.09 measured and a bound of 0.28) and below the bound.
    expect(share).toBeGreaterThanOrEqual(product - 3 * Math.sqrt((product * (1 - product)) / draws));
  });
});
