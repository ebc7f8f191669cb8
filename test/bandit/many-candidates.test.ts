import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  asArmId,
  betaVariance,
  createRng,
  DEFAULT_POLICY_CONFIG,
  fitBasePrior,
  fitPoolStrengths,
  pickRule,
  sampleBeta,
  satisficingPick,
  thompsonPick,
  validatePolicyConfig,
  type ArmEvidence,
  type Evidence,
  type PolicyConfig,
  type Posterior,
} from '../../src/bandit/index.js';

const cfg = DEFAULT_POLICY_CONFIG;
const ev = (reward: number, trials: number): Evidence => ({ reward, trials, stamp: 0 });

/** Binomial draw by summing Bernoulli trials (n is small here). */
function binomial(rng: { next(): number }, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rng.next() < p) k++;
  return k;
}

describe('empirical-Bayes base prior (ADR 0002)', () => {
  test('recovers a known population of templates, each counted once', () => {
    // 200 templates with rates from Beta(4, 6): mean 0.4, strength 10; 5–40 runs each.
    const rng = createRng('population');
    const records = Array.from({ length: 200 }, (_, i) => {
      const p = sampleBeta(rng, 4, 6);
      const n = 5 + (i % 36);
      return ev(binomial(rng, n, p), n);
    });
    const b = fitBasePrior(records, cfg);
    expect(b.alpha / (b.alpha + b.beta)).toBeCloseTo(0.4, 1);
    // The grid has 24 log-spaced points in [2, 50] (ratio 1.15 per step); allow a factor of 1.6.
    expect(b.alpha + b.beta).toBeGreaterThan(10 / 1.6);
    expect(b.alpha + b.beta).toBeLessThan(10 * 1.6);
  });

  test('adaptive allocation does not drag the prior towards the most-run templates', () => {
    // Like a bandit's log: one good template with 500 runs, twenty weak ones with 3 runs each.
    const records = [ev(400, 500), ...Array.from({ length: 20 }, (_, i) => ev(i % 3 === 0 ? 1 : 0, 3))];
    const b = fitBasePrior(records, cfg);
    const runWeighted = (400 + 7) / (500 + 60);
    expect(runWeighted).toBeGreaterThan(0.7);
    expect(b.alpha / (b.alpha + b.beta)).toBeLessThan(0.35);
  });

  test('a handful of runs with no visible spread does not become the strongest prior', () => {
    const records = [ev(1, 1), ev(0, 1), ev(1, 1), ev(0, 1)];
    const b = fitBasePrior(records, cfg);
    expect(b.alpha + b.beta).toBeLessThan(5);
  });
});

const armWithCell = (id: string, global: Evidence, cell: Evidence): ArmEvidence => ({
  armId: asArmId(id),
  evidence: { global, taskClass: undefined, repoTaskClass: cell },
});

describe('fitted pooling strengths (ADR 0002)', () => {
  const base = { alpha: 2, beta: 2 };
  // The per-context fit of policies ≤ /4 (a configuration without groupSpread); /5 learns the spread from every group.
  const { groupSpread: _, ...cfg } = DEFAULT_POLICY_CONFIG;

  test('cells that differ from the rest only by noise are pooled up to the maximum', () => {
    // The cell's pass rate equals the rest's for every template.
    const arms = [armWithCell('a', ev(160, 200), ev(16, 20)), armWithCell('b', ev(100, 200), ev(10, 20)), armWithCell('c', ev(60, 200), ev(6, 20))];
    expect(fitPoolStrengths(arms, base, cfg, 0).repo).toBeCloseTo(cfg.empiricalBayesPoolingMaxStrength, 6);
  });

  test('cells that really differ from the rest are pooled little', () => {
    // In this repository the ranking is reversed.
    const arms = [armWithCell('a', ev(160 + 4, 220), ev(4, 20)), armWithCell('b', ev(100 + 10, 220), ev(10, 20)), armWithCell('c', ev(60 + 18, 220), ev(18, 20))];
    expect(fitPoolStrengths(arms, base, cfg, 0).repo).toBeLessThan(20);
  });

  test('without empirical-Bayes pooling the configured strengths apply', () => {
    const arms = [armWithCell('a', ev(10, 20), ev(1, 2))];
    expect(fitPoolStrengths(arms, base, { ...cfg, empiricalBayesPooling: false }, 0)).toEqual({ taskClass: cfg.taskClassPoolStrength, repo: cfg.repoPoolStrength });
  });
});

describe('satisficing pick', () => {
  const posteriors = [
    { alpha: 30, beta: 20 },
    { alpha: 3, beta: 2 },
    { alpha: 10, beta: 30 },
  ];

  test('with tolerance 0 it is Thompson sampling, draw for draw', () => {
    const a = createRng('same');
    const b = createRng('same');
    for (let i = 0; i < 200; i++) expect(satisficingPick(posteriors, { tolerance: 0, order: [2, 1, 0] }, a)).toBe(thompsonPick(posteriors, b));
  });

  test('with a tolerance it prefers the earlier candidate in the order when its draw is close enough', () => {
    const rng = createRng('sticky');
    const n = 4000;
    let first = 0;
    let plain = 0;
    const ref = createRng('sticky');
    for (let i = 0; i < n; i++) {
      if (satisficingPick(posteriors, { tolerance: 0.1, order: [0, 1, 2] }, rng) === 0) first++;
      if (thompsonPick(posteriors, ref) === 0) plain++;
    }
    expect(first).toBeGreaterThan(plain);
    // Never a candidate more than the tolerance below the best draw: the third (mean 0.25) is
    // far below the first (0.6), so it is (almost) never chosen.
    expect(first / n).toBeGreaterThan(0.6);
  });
});

describe('satisficing order (sts-pooled-eb/3)', () => {
  const beta = fc.record({ alpha: fc.double({ min: 0.2, max: 200, noNaN: true }), beta: fc.double({ min: 0.2, max: 200, noNaN: true }) });
  const posterior = (b: { alpha: number; beta: number }, prior: number): Posterior => ({
    alpha: b.alpha + prior / 2,
    beta: b.beta + prior / 2,
    contributions: { prior, global: b.alpha + b.beta, task_class: 0, repo_task_class: 0 },
  });
  const base = { alpha: 2, beta: 3 };

  test.prop([fc.array(beta, { minLength: 1, maxLength: 12 }), fc.constantFrom<'mean' | 'evidence'>('mean', 'evidence')])(
    'the order is a permutation sorted by posterior mean (or evidence), and the pick is within ε of the best draw with no earlier candidate also within',
    (params, satisficingOrder) => {
      const posteriors = params.map((b) => posterior(b, 5));
      const rule = pickRule(posteriors, base, { ...cfg, satisficingOrder });
      expect([...rule.order].sort((a, b) => a - b)).toEqual(posteriors.map((_, i) => i));
      const key = posteriors.map((p) => (satisficingOrder === 'mean' ? p.alpha / (p.alpha + p.beta) : p.alpha + p.beta - p.contributions.prior));
      for (let j = 1; j < rule.order.length; j++) expect(key[rule.order[j - 1]!]!).toBeGreaterThanOrEqual(key[rule.order[j]!]!);
      // Replay the draws: with a tolerance, satisficingPick draws one Beta per candidate in input order, each clipped at its
      // horizon cap (policy /10).
      const replayRng = createRng('draws');
      const replayed = posteriors.map((p, i) => Math.min(sampleBeta(replayRng, p.alpha, p.beta), rule.clip?.[i] ?? Infinity));
      const pick = satisficingPick(posteriors, rule, createRng('draws'));
      const max = Math.max(...replayed);
      expect(replayed[pick]!).toBeGreaterThanOrEqual(max - rule.tolerance);
      for (const i of rule.order) {
        if (i === pick) break;
        expect(replayed[i]!).toBeLessThan(max - rule.tolerance);
      }
    },
  );

  test('a configuration without the /3 fields orders by evidence with a fixed tolerance, as sts-pooled-eb/2 did', () => {
    const posteriors = [posterior({ alpha: 6, beta: 4 }, 5), posterior({ alpha: 60, beta: 40 }, 5), posterior({ alpha: 9, beta: 3 }, 5)];
    const legacy = Object.fromEntries(Object.entries(cfg).filter(([k]) => k !== 'satisficingOrder' && k !== 'satisficingScale')) as unknown as PolicyConfig;
    expect(pickRule(posteriors, base, legacy).order).toEqual([1, 2, 0]);
    expect(pickRule(posteriors, base, cfg).order).toEqual([2, 1, 0]);
    expect(pickRule(posteriors, base, legacy).tolerance).toBe(cfg.satisficingTolerance * Math.sqrt(betaVariance(base.alpha, base.beta)));
    expect(validatePolicyConfig(legacy)).toEqual([]);
    expect(validatePolicyConfig({ ...cfg, satisficingOrder: 'newest' as 'mean' }).map((v) => v.field)).toEqual(['satisficingOrder']);
    expect(validatePolicyConfig({ ...cfg, satisficingScale: 'sqrt' as 'fixed' }).map((v) => v.field)).toEqual(['satisficingScale']);
  });

  test.prop([fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1000 })])(
    'the tolerance grows with (ln candidates)², is exactly satisficingTolerance prior sds at 8, and ignores K when fixed',
    (k, more) => {
      const sd = Math.sqrt(betaVariance(base.alpha, base.beta));
      const set = (n: number) => Array.from({ length: n }, (_, i) => posterior({ alpha: 1 + (i % 5), beta: 2 }, 5));
      const eps = (n: number, c = cfg) => pickRule(set(n), base, c).tolerance;
      expect(eps(8)).toBe(cfg.satisficingTolerance * sd);
      expect(eps(k + more)).toBeGreaterThan(eps(k));
      expect(eps(k)).toBeCloseTo(cfg.satisficingTolerance * sd * (Math.log(k) / Math.log(8)) ** 2, 12);
      expect(eps(k, { ...cfg, satisficingScale: 'log-candidates' })).toBeCloseTo(cfg.satisficingTolerance * sd * (Math.log(k) / Math.log(8)), 12);
      expect(eps(k, { ...cfg, satisficingScale: 'fixed' })).toBe(cfg.satisficingTolerance * sd);
    },
  );
});
