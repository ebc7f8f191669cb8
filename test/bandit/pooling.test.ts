import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  asArmId,
  betaMean,
  DEFAULT_POLICY_CONFIG,
  dominantLevel,
  fitBasePrior,
  logGamma,
  pooledPosterior,
  type ArmEvidence,
  type Evidence,
} from '../../src/bandit/index.js';
import { armEvidence, evidence } from '../helpers/arbitraries.js';

const cfg = DEFAULT_POLICY_CONFIG;
const flat = { alpha: 1, beta: 1 };
const ev = (trials: number, rate: number): Evidence => ({ trials, reward: trials * rate, stamp: 0 });
const arm = (global: Evidence, taskClass?: Evidence, repoTaskClass?: Evidence, parent?: ArmEvidence): ArmEvidence => ({
  armId: asArmId('t@v1'),
  evidence: { global, taskClass, repoTaskClass },
  parent,
});

describe('logGamma', () => {
  test('matches exact values: ln Γ(n) = ln (n − 1)!, Γ(1/2) = √π, Γ(3/2) = √π / 2', () => {
    let factorial = 1;
    for (let n = 1; n <= 30; n++) {
      if (n > 1) factorial *= n - 1;
      expect(Math.abs(logGamma(n) - Math.log(factorial))).toBeLessThan(1e-13 * Math.max(1, Math.log(factorial)));
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 13);
    expect(logGamma(1.5)).toBeCloseTo(0.5 * Math.log(Math.PI) - Math.log(2), 13);
    // ln Γ(0.001) = 6.9071788853838536… (A&S 6.1.33 series; near 0 the shift does all the work).
    expect(logGamma(1e-3)).toBeCloseTo(6.907178885383854, 12);
  });

  test.prop([fc.double({ min: 1e-3, max: 1e6, noNaN: true })])('satisfies ln Γ(x + 1) = ln Γ(x) + ln x', (x) => {
    const lhs = logGamma(x + 1);
    expect(Math.abs(lhs - (logGamma(x) + Math.log(x)))).toBeLessThan(1e-12 * Math.max(1, Math.abs(lhs)));
  });
});

describe('pooled posteriors', () => {
  test.prop([armEvidence('a')])('are proper Betas whose contributions add up to alpha + beta', (a) => {
    const p = pooledPosterior(a, flat, cfg, 0);
    expect(p.alpha).toBeGreaterThan(0);
    expect(p.beta).toBeGreaterThan(0);
    expect(Number.isFinite(p.alpha + p.beta)).toBe(true);
    const sum = Object.values(p.contributions).reduce((s, x) => s + x, 0);
    expect(Math.abs(sum - (p.alpha + p.beta))).toBeLessThan(1e-9 * (p.alpha + p.beta));
    const mean = betaMean(p.alpha, p.beta);
    expect(mean).toBeGreaterThanOrEqual(0);
    expect(mean).toBeLessThanOrEqual(1);
  });

  test('a new repository starts from the task class record', () => {
    const tc = ev(200, 0.8);
    const p = pooledPosterior(arm(ev(400, 0.6), tc, ev(0, 0)), flat, cfg, 0);
    expect(betaMean(p.alpha, p.beta)).toBeCloseTo(0.8, 1);
    expect(dominantLevel(p)).toBe('task_class');
    // The class's belief (~216 pseudo-runs) plus the spread of repositories (repoPoolStrength = 10):
    // 1/(1/217 + 1/11) − 1 ≈ 9.5 pseudo-runs, a little less than the pooling strength alone.
    expect(p.alpha + p.beta).toBeGreaterThan(9);
    expect(p.alpha + p.beta).toBeLessThan(cfg.repoPoolStrength);
  });

  test('a dense cell follows its own data', () => {
    const cell = ev(500, 0.2);
    const tc = ev(2000 + 500, (2000 * 0.9 + 100) / 2500);
    const p = pooledPosterior(arm(tc, tc, cell), flat, cfg, 0);
    const mean = betaMean(p.alpha, p.beta);
    // Own data 0.2 with at most 10 pseudo-runs at ~0.9: (100 + 9) / 510 ≈ 0.214.
    expect(mean).toBeGreaterThan(0.2);
    expect(mean).toBeLessThan(0.22);
    expect(dominantLevel(p)).toBe('repo_task_class');
  });

  test('each run counts once: the cell is not also counted in the wider levels', () => {
    const cell = ev(3, 1);
    const p = pooledPosterior(arm(cell, cell, cell), flat, cfg, 0);
    // Global and class hold nothing beyond the cell: the 3 runs enter once, on top of the (widened) prior.
    expect(p.contributions.global).toBe(0);
    expect(p.contributions.task_class).toBe(0);
    expect(p.contributions.repo_task_class).toBe(3);
    expect(p.alpha + p.beta).toBeCloseTo(3 + p.contributions.prior, 12);
    expect(p.contributions.prior).toBeLessThanOrEqual(2);
  });

  test('with no context the global record carries the estimate', () => {
    const p = pooledPosterior(arm(ev(50, 0.4)), flat, cfg, 0);
    expect(p.alpha).toBeCloseTo(21, 12);
    expect(p.beta).toBeCloseTo(31, 12);
    expect(dominantLevel(p)).toBe('global');
  });

  test('a new version inherits a discounted copy of its parent (policies up to /4: no versionPrior)', () => {
    const { versionPrior: _, ...stored } = cfg;
    const parent = { ...arm(ev(300, 0.9)), armId: asArmId('t@v1') };
    const child = { ...arm(ev(0, 0)), armId: asArmId('t@v2'), parent };
    const p = pooledPosterior(child, flat, stored, 0);
    expect(betaMean(p.alpha, p.beta)).toBeCloseTo(0.9, 1);
    expect(p.alpha + p.beta).toBeCloseTo(cfg.parentStrength, 9);
    expect(dominantLevel(p)).toBe('prior');
  });

  test("'fair-trial': a new version keeps a good parent's mean but not a failing parent's, and is never surer than the base prior", () => {
    const base = { alpha: 12, beta: 12 };
    const version = (trials: number, rate: number) => ({ ...arm(ev(0, 0)), armId: asArmId('t@v2'), parent: { ...arm(ev(trials, rate)), armId: asArmId('t@v1') } });
    const good = pooledPosterior(version(300, 0.9), base, cfg, 0);
    expect(betaMean(good.alpha, good.beta)).toBeGreaterThan(0.85);
    expect(good.alpha + good.beta).toBeCloseTo(cfg.parentStrength, 9);
    // A parent failing 0 of 4 pulls its own posterior below the base mean; the new version starts at the base mean.
    const failing = pooledPosterior(version(4, 0), base, cfg, 0);
    expect(betaMean(failing.alpha, failing.beta)).toBeCloseTo(0.5, 12);
    expect(failing.alpha + failing.beta).toBeCloseTo(cfg.parentStrength, 9);
    // A flat base prior (too few templates to fit one) is weaker than parentStrength: the version gets only its 2 pseudo-runs.
    const p = pooledPosterior(version(300, 0.9), flat, cfg, 0);
    expect(p.alpha + p.beta).toBeCloseTo(2, 9);
    expect(dominantLevel(p)).toBe('prior');
  });
});

describe('empirical-Bayes base prior', () => {
  test('falls back to the configured prior with too few observed candidates', () => {
    expect(fitBasePrior([ev(10, 0.5), ev(0, 0)], cfg)).toEqual({ alpha: 1, beta: 1 });
    expect(fitBasePrior([ev(10, 0.5), ev(10, 0.2), ev(10, 0.9)], { ...cfg, empiricalBayes: false })).toEqual({ alpha: 1, beta: 1 });
  });

  test('centres on the pooled rate, tighter when candidates agree', () => {
    const agree = fitBasePrior([ev(100, 0.3), ev(100, 0.31), ev(100, 0.29), ev(100, 0.3)], cfg);
    const spread = fitBasePrior([ev(100, 0.05), ev(100, 0.3), ev(100, 0.55), ev(100, 0.3)], cfg);
    expect(betaMean(agree.alpha, agree.beta)).toBeCloseTo(0.3, 2);
    expect(betaMean(spread.alpha, spread.beta)).toBeCloseTo(0.3, 2);
    expect(agree.alpha + agree.beta).toBeGreaterThan(spread.alpha + spread.beta);
    // Between-arm sd ≈ 0.18 → a weak prior: a few pseudo-runs, well below the agreeing case's.
    expect(spread.alpha + spread.beta).toBeGreaterThanOrEqual(2);
    expect(spread.alpha + spread.beta).toBeLessThan(8);
  });

  test.prop([fc.array(evidence, { maxLength: 30 })])('is always a proper Beta within the configured strength', (records) => {
    const p = fitBasePrior(records, cfg);
    expect(p.alpha).toBeGreaterThan(0);
    expect(p.beta).toBeGreaterThan(0);
    expect(p.alpha + p.beta).toBeLessThanOrEqual(Math.max(2, cfg.empiricalBayesMaxStrength) + 1e-9);
  });
});
