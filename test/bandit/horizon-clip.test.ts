import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  analyse,
  asArmId,
  createRng,
  DEFAULT_POLICY_CONFIG,
  horizonClips,
  satisficingPick,
  summarizeSet,
  validatePolicyConfig,
  type ArmEvidence,
  type PickRule,
  type Posterior,
} from '../../src/bandit/index.js';

// The horizon clip (horizonClip, MOTS; off by default): each draw is clipped at μᵢ + c·sdᵢ·√(2 ln⁺(2N / Hᵢ)), Hᵢ = K nᵢ,
// or ADA-UCB's Σⱼ min(nᵢ, √(nᵢ nⱼ)) with horizonClipShare 'others-runs'.
const posterior = (alpha: number, beta: number, prior = 2): Posterior => ({ alpha, beta, contributions: { prior, global: alpha + beta - prior, task_class: 0, repo_task_class: 0 } });
const posteriorArb = fc.record({ mean: fc.double({ min: 0.02, max: 0.98, noNaN: true }), runs: fc.double({ min: 0, max: 2000, noNaN: true }) }).map(({ mean, runs }) => {
  const s = runs + 2;
  return { p: posterior(mean * s, (1 - mean) * s), runs };
});

describe('horizonClips', () => {
  test.prop([fc.array(posteriorArb, { minLength: 1, maxLength: 40 }), fc.double({ min: 0, max: 5, noNaN: true })])(
    'an untried candidate is never clipped; a tried one is clipped at or above its mean, and at its mean once it has 2N/K runs or more',
    (cands, c) => {
      const evidence = cands.map((x) => x.runs);
      const clips = horizonClips(
        cands.map((x) => x.p),
        evidence,
        c,
      );
      const total = evidence.reduce((s, n) => s + n, 0);
      cands.forEach(({ p, runs }, i) => {
        const mean = p.alpha / (p.alpha + p.beta);
        if (!(runs > 0)) expect(clips[i]).toBe(Infinity);
        else expect(clips[i]!).toBeGreaterThanOrEqual(mean - 1e-12);
        if (runs > 0 && runs * cands.length >= 2 * total) expect(clips[i]!).toBeCloseTo(mean, 12);
      });
    },
  );

  test.prop([posteriorArb, fc.double({ min: 1, max: 500, noNaN: true }), fc.integer({ min: 2, max: 50 })])(
    'with the same posterior, a candidate with more runs of the set is clipped no higher (its share of the horizon is spent)',
    ({ p }, n, k) => {
      const others = Array.from({ length: k - 1 }, () => posterior(10, 10));
      const rest = Array.from({ length: k - 1 }, () => 100);
      const a = horizonClips([p, ...others], [n, ...rest], 1)[0]!;
      const b = horizonClips([p, ...others], [n * 2, ...rest], 1)[0]!;
      expect(b).toBeLessThanOrEqual(a + 1e-12);
    },
  );
});

describe('horizonClips with ADA-UCB\'s share (horizonClipShare \'others-runs\')', () => {
  test.prop([fc.array(posteriorArb, { minLength: 1, maxLength: 40 }), fc.double({ min: 0, max: 5, noNaN: true })])(
    'the share Σⱼ min(nᵢ, √(nᵢ nⱼ)) is at most K·nᵢ, so no cap is lower than MOSS\'s; untried candidates stay unclipped',
    (cands, c) => {
      const posteriors = cands.map((x) => x.p);
      const evidence = cands.map((x) => x.runs);
      const moss = horizonClips(posteriors, evidence, c);
      const ada = horizonClips(posteriors, evidence, c, 'others-runs');
      cands.forEach(({ runs }, i) => {
        if (!(runs > 0)) expect(ada[i]).toBe(Infinity);
        expect(ada[i]!).toBeGreaterThanOrEqual(moss[i]! - 1e-12);
      });
    },
  );

  test.prop([fc.array(posteriorArb, { minLength: 1, maxLength: 40 }), fc.double({ min: 0.5, max: 500, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true })])(
    'with every candidate run equally often the two shares agree',
    (cands, n, c) => {
      const posteriors = cands.map((x) => x.p);
      const evidence = cands.map(() => n);
      const moss = horizonClips(posteriors, evidence, c);
      const ada = horizonClips(posteriors, evidence, c, 'others-runs');
      ada.forEach((cap, i) => expect(cap).toBeCloseTo(moss[i]!, 9));
    },
  );

  // Not monotone in nᵢ as MOSS's is: a run of i adds to N, and against others with fewer runs Hᵢ grows only as
  // nᵢ + √nᵢ Σⱼ √nⱼ, so 2N / Hᵢ can grow with nᵢ.
  test.prop([posteriorArb, fc.double({ min: 0.5, max: 500, noNaN: true }), fc.array(fc.double({ min: 0, max: 500, noNaN: true }), { minLength: 1, maxLength: 49 }), fc.double({ min: 0, max: 5, noNaN: true })])(
    'a candidate run no more than any other is clipped exactly as under MOSS\'s share',
    ({ p }, n, extra, c) => {
      const evidence = [n, ...extra.map((x) => n + x)];
      const posteriors = [p, ...extra.map(() => posterior(10, 10))];
      expect(horizonClips(posteriors, evidence, c, 'others-runs')[0]!).toBeCloseTo(horizonClips(posteriors, evidence, c)[0]!, 9);
    },
  );
});

describe('the clipped pick', () => {
  const posteriors = [posterior(70, 30), posterior(30, 15), posterior(3, 3), posterior(24, 26), posterior(12, 28)];
  const order = [0, 1, 2, 3, 4];

  test.prop([fc.string({ maxLength: 8 }), fc.double({ min: 0, max: 0.2, noNaN: true })])('caps at +∞ pick exactly what the unclipped rule picks from the same stream', (seed, tolerance) => {
    const plain: PickRule = { tolerance, order };
    const open: PickRule = { tolerance, order, clip: posteriors.map(() => Infinity) };
    const r1 = createRng(`clip\u0000${seed}`);
    const r2 = createRng(`clip\u0000${seed}`);
    for (let i = 0; i < 20; i++) expect(satisficingPick(posteriors, open, r2)).toBe(satisficingPick(posteriors, plain, r1));
  });

  test.prop([fc.string({ maxLength: 8 })])('a candidate capped below every other cap minus the tolerance is never picked, and its propensity is (almost) 0', (seed) => {
    const rule: PickRule = { tolerance: 0.02, order, propensities: 'rao-blackwell', clip: [0.9, 0.9, 0.9, 0.9, 0.1] };
    const rng = createRng(`never\u0000${seed}`);
    // Candidate 4's draw is at most 0.1; candidate 0's is at least 0.45 with overwhelming probability.
    for (let i = 0; i < 50; i++) expect(satisficingPick(posteriors, rule, rng)).not.toBe(4);
    expect(summarizeSet(posteriors, createRng(`s\u0000${seed}`), 400, rule).propensity[4]!).toBeLessThan(1e-6);
  });

  test('the summary\'s propensities match how often the clipped rule picks (Rao–Blackwell with caps)', () => {
    const rule: PickRule = { tolerance: 0.03, order, propensities: 'rao-blackwell', clip: [0.7, 0.68, 0.75, 0.5, 0.33] };
    const rng = createRng('clip-truth');
    const n = 200_000;
    const counts = posteriors.map(() => 0);
    for (let i = 0; i < n; i++) counts[satisficingPick(posteriors, rule, rng)]!++;
    const propensity = summarizeSet(posteriors, createRng('clip-summary'), 4000, rule).propensity;
    counts.forEach((c, i) => {
      const p = c / n;
      if (c < 200) return;
      expect(Math.abs(propensity[i]! / p - 1), `candidate ${i}: ${propensity[i]} vs ${p}`).toBeLessThan(4 * (Math.sqrt((1 - p) / (n * p)) + 0.02));
    });
    // The clip matters here: the uncapped rule picks differently.
    const open = summarizeSet(posteriors, createRng('clip-summary'), 4000, { tolerance: rule.tolerance, order, propensities: 'rao-blackwell' }).propensity;
    expect(Math.max(...open.map((p, i) => Math.abs(p - propensity[i]!)))).toBeGreaterThan(0.02);
  });
});

describe('a configuration with horizonClip clips; one without it does not', () => {
  // Policy /10's default clips with ADA-UCB's share; a stored /9 configuration has neither field.
  const { horizonClip: _h, horizonClipShare: _s, ...unclipped } = DEFAULT_POLICY_CONFIG;
  const clipped = { ...unclipped, horizonClip: 1 };
  const arm = (id: string, reward: number, trials: number): ArmEvidence => ({
    armId: asArmId(id),
    evidence: { global: { reward, trials, stamp: 0 }, taskClass: undefined, repoTaskClass: undefined },
  });
  // A leader and a runner-up with more than their share of the runs: with the clip both are capped at their means, so the
  // runner-up (more than its share 2N/K of runs) is no longer explored for its posterior's tail.
  // With K = 8 and N = 860 runs, a share is 2N/K = 215 runs.
  const arms = [arm('lead', 350, 500), arm('second', 200, 300), ...['a', 'b', 'c', 'd', 'e'].map((id) => arm(id, 5, 12)), arm('new', 0, 0)];

  test('the caps: at the mean for a candidate with more than its share, above it with fewer runs, none untried', () => {
    expect(analyse(arms, unclipped, 0).rule.clip).toBeUndefined();
    const clip = analyse(arms, clipped, 0).rule.clip!;
    expect(clip[7]).toBe(Infinity);
    const means = analyse(arms, clipped, 0).means;
    expect(clip[0]).toBeCloseTo(means[0]!, 12);
    expect(clip[1]).toBeCloseTo(means[1]!, 12);
    expect(clip[2]!).toBeGreaterThan(means[2]!);
  });

  test('the runner-up\'s propensity falls under the clip', () => {
    const before = analyse(arms, unclipped, 0).summary().propensity[1]!;
    const after = analyse(arms, clipped, 0).summary().propensity[1]!;
    expect(after).toBeLessThan(before);
  });

  // The same log with ADA-UCB's share: the runner-up's 300 runs and the leader's 500 are spent against candidates with
  // 12 runs each, so every tried candidate's cap is at least MOSS's and the little-tried ones' are higher.
  test('ADA-UCB\'s share: the caps, and pick frequencies that equal the summary\'s propensities under them', () => {
    const config = { ...clipped, horizonClipShare: 'others-runs' as const };
    const plain = analyse(arms, clipped, 0).rule.clip!;
    const set = analyse(arms, config, 0);
    const ada = set.rule.clip!;
    ada.forEach((cap, i) => expect(cap).toBeGreaterThanOrEqual(plain[i]! - 1e-12));
    expect(ada[2]!).toBeGreaterThan(plain[2]! + 1e-6);
    expect(ada[1]!).toBeGreaterThan(set.means[1]! + 1e-6);
    expect(ada[7]).toBe(Infinity);
    // This is policy /10's default.
    expect(analyse(arms, DEFAULT_POLICY_CONFIG, 0).rule.clip).toEqual(ada);
    const propensity = set.summary().propensity;
    const n = 40_000;
    const counts = arms.map(() => 0);
    const rng = createRng('clip-share');
    for (let i = 0; i < n; i++) counts[satisficingPick(set.posteriors, set.rule, rng, set.mixture)]!++;
    counts.forEach((count, i) => {
      const p = count / n;
      // Five standard errors of the counted frequency, plus the summary's own Monte Carlo error (2,000 draws).
      expect(Math.abs(propensity[i]! - p), `candidate ${i}: ${propensity[i]} vs ${p}`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 0.01);
    });
    // The share matters here: MOSS's share picks differently.
    const before = analyse(arms, clipped, 0).summary().propensity;
    expect(Math.max(...before.map((p, i) => Math.abs(p - propensity[i]!)))).toBeGreaterThan(0.005);
  });

  test('validation bounds the field', () => {
    expect(validatePolicyConfig({ ...DEFAULT_POLICY_CONFIG, horizonClip: -1 }).map((v) => v.field)).toContain('horizonClip');
    expect(validatePolicyConfig({ ...DEFAULT_POLICY_CONFIG, horizonClip: Number.NaN }).map((v) => v.field)).toContain('horizonClip');
    expect(validatePolicyConfig({ ...DEFAULT_POLICY_CONFIG, horizonClip: 0 })).toEqual([]);
    expect(validatePolicyConfig({ ...DEFAULT_POLICY_CONFIG, horizonClip: 1, horizonClipShare: 'others-runs' })).toEqual([]);
    expect(validatePolicyConfig({ ...DEFAULT_POLICY_CONFIG, horizonClipShare: 'k' as never }).map((v) => v.field)).toContain('horizonClipShare');
  });
});
