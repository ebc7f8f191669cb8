import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG, type PolicyConfig } from '../../src/bandit/index.js';
import { parseOutcomes } from '../../src/lift/data.js';
import { behindText, matrixRows, runCell, shortfallsText } from '../../src/lift/matrix.js';
import { replaySeed } from '../../src/lift/replay.js';
import { VARIANT } from '../../src/lift/policies.js';
import { runReplay, runScenario, variantLine, type LiftResult } from '../../src/lift/run.js';
import { validateScenario, ScenarioError, type Scenario } from '../../src/lift/scenario.js';
import { lineChart } from '../../src/lift/plot.js';
import { plot } from '../../src/lift/run.js';
import { tmpDir } from '../helpers/tmp.js';

/** A small synthetic outcome table: system i resolves task t with probability rates[i]. */
function writeTable(dir: string, rates: number[], tasks = 60): string {
  const rows = ['system,date,instance_id,repo,difficulty,resolved'];
  let x = 12345;
  const next = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  rates.forEach((r, i) => {
    for (let t = 0; t < tasks; t++) rows.push(`sys${i},2024010${i % 9},task${t},org/repo${t % 3},d${t % 2},${next() < r ? 1 : 0}`);
  });
  const path = join(dir, 'outcomes.csv');
  writeFileSync(path, rows.join('\n') + '\n');
  return path;
}

const withoutTiming = (r: LiftResult) => JSON.stringify({ ...r, seconds: 0 });
const POLICY_KEYS = ['learnloop', 'uniform', 'greedy-score', 'epsilon-greedy', 'ucb1', 'thompson-flat'];

describe('replay', () => {
  test('--first-seed numbers the seeds from n: seeds n … n + N − 1 are those seeds of a run from 1', () => {
    const data = writeTable(tmpDir(), [0.2, 0.4, 0.5, 0.7, 0.8]);
    const all = runReplay({ data, arms: 3, steps: 80, seeds: 4, context: 'none' });
    const tail = runReplay({ data, arms: 3, steps: 80, seeds: 2, firstSeed: 3, context: 'none' });
    expect(all.firstSeed).toBeUndefined();
    expect(tail.firstSeed).toBe(3);
    expect(tail.perSeed).toEqual(all.perSeed.slice(2));
    // A matrix cell likewise: the mean over seeds 1–2 is the mean of the cells from seed 1 and from seed 2.
    const table = parseOutcomes(readFileSync(data, 'utf8'));
    const cell = { table: 'x', arms: 3, steps: 80 } as const;
    const [both, first, second] = [runCell(table, cell, { seeds: 2, config: DEFAULT_POLICY_CONFIG }), runCell(table, cell, { seeds: 1, config: DEFAULT_POLICY_CONFIG }), runCell(table, cell, { seeds: 1, firstSeed: 2, config: DEFAULT_POLICY_CONFIG })];
    for (const p of POLICY_KEYS) expect(both.policies[p]!.mean).toBeCloseTo((first.policies[p]!.mean + second.policies[p]!.mean) / 2, 12);
  });

  test('a matrix cell pools the captured fraction over seeds and pairs the reward difference', () => {
    const table = parseOutcomes(readFileSync(writeTable(tmpDir(), [0.2, 0.4, 0.5, 0.7, 0.8]), 'utf8'));
    const cell = { table: 'x', arms: 3, steps: 80 } as const;
    const c = runCell(table, cell, { seeds: 4, config: DEFAULT_POLICY_CONFIG });
    const seeds = [1, 2, 3, 4].map((seed) => replaySeed(table, seed, { arms: 3, steps: 80, seeds: 4, context: 'none', policies: POLICY_KEYS, config: DEFAULT_POLICY_CONFIG }));
    const sum = (f: (s: (typeof seeds)[number]) => number) => seeds.reduce((t, s) => t + f(s), 0);
    for (const p of POLICY_KEYS) {
      expect(c.policies[p]!.pooled).toBeCloseTo(sum((s) => s.policies[p]! - s.uniform) / sum((s) => s.bestFixed - s.uniform), 12);
      const d = c.policies[p]!.rewardDiff!;
      expect(d.mean).toBeCloseTo(sum((s) => s.policies[p]! - s.policies['learnloop']!) / 4, 12);
      expect(d.low).toBeLessThanOrEqual(d.mean);
      expect(d.high).toBeGreaterThanOrEqual(d.mean);
    }
    expect(c.policies['learnloop']!.rewardDiff).toEqual({ mean: 0, low: 0, high: 0 });
    expect(c.policies['learnloop']!.p10Diff).toEqual({ low: 0, high: 0 });
    for (const p of POLICY_KEYS) {
      const { low, high } = c.policies[p]!.p10Diff!;
      const observed = c.policies[p]!.p10 - c.policies['learnloop']!.p10;
      expect(low).toBeLessThanOrEqual(observed + 1e-12);
      expect(high).toBeGreaterThanOrEqual(observed - 1e-12);
    }
  });

  test('a shortfall says whether the seeds can explain it', () => {
    const at = { table: 'x', k: 8, steps: 2000, baseline: 'greedy-score', learnloop: 0.7 };
    const run = {
      policyVersion: 'v',
      seeds: 100,
      tables: [],
      cells: [],
      seconds: 0,
      shortfalls: [
        { ...at, stat: 'mean' as const, value: 0.75, low: 0.01, high: 0.09 },
        { ...at, stat: 'p10' as const, value: 0.72, low: -0.03, high: 0.07 },
      ],
    };
    expect(shortfallsText(run)).toBe(
      'x K=8 mean 0.700 < greedy-score 0.750 (+0.050 [0.010, 0.090], beyond the seeds); x K=8 p10 0.700 < greedy-score 0.720 (+0.020 [-0.030, 0.070]). ' +
        "The baseline's lead is beyond the paired 95% interval (mean: normal; p10: bootstrap over seeds) in 1 of 2",
    );
    // A run from before the intervals were kept lists its shortfalls alone.
    const old = { ...run, shortfalls: run.shortfalls.map(({ low: _l, high: _h, ...s }) => s) };
    expect(shortfallsText(old)).toBe('x K=8 mean 0.700 < greedy-score 0.750; x K=8 p10 0.700 < greedy-score 0.720');
  });

  test('a matrix run from before the pooled figures renders without their columns', () => {
    const table = parseOutcomes(readFileSync(writeTable(tmpDir(), [0.2, 0.5, 0.8]), 'utf8'));
    const cell = runCell(table, { table: 'x', arms: 2, steps: 40 }, { seeds: 2, config: DEFAULT_POLICY_CONFIG });
    const run = { policyVersion: 'v', seeds: 2, tables: [], cells: [cell], shortfalls: [], seconds: 0 };
    expect(matrixRows(run).headers).toHaveLength(9);
    expect(matrixRows(run).rows[0]).toHaveLength(9);
    const old = { ...run, cells: [{ ...cell, policies: Object.fromEntries(Object.entries(cell.policies).map(([n, { pooled: _p, rewardDiff: _r, ...p }]) => [n, p])) }] };
    expect(matrixRows(old).headers).toEqual(matrixRows(run).headers.slice(0, 7));
    expect(matrixRows(old).rows[0]).toEqual(matrixRows(run).rows[0]!.slice(0, 7));
    expect(behindText(old)).toBeUndefined();
  });

  test('the same seeds give identical JSON', () => {
    const data = writeTable(tmpDir(), [0.2, 0.4, 0.5, 0.7, 0.8]);
    const run = () => runReplay({ data, arms: 3, steps: 150, seeds: 3, context: 'repo' });
    expect(withoutTiming(run())).toBe(withoutTiming(run()));
  });

  test('the report has exactly the promised shape', () => {
    const data = writeTable(tmpDir(), [0.2, 0.4, 0.5, 0.7, 0.8]);
    const r = JSON.parse(JSON.stringify(runReplay({ data, arms: 'all', steps: 120, seeds: 4, context: 'none' })));
    expect(r).toMatchObject({ arms: 5, steps: 120, seeds: 4 });
    expect(Object.keys(r.policies)).toEqual(POLICY_KEYS);
    for (const name of POLICY_KEYS) {
      const p = r.policies[name];
      expect(typeof p.meanReward).toBe('number');
      for (const k of ['mean', 'ciLow', 'ciHigh']) expect(typeof p.liftVsUniform[k]).toBe('number');
      for (const k of ['mean', 'p10', 'p50', 'p90']) expect(typeof p.capturedFraction[k]).toBe('number');
      expect(p.liftVsUniform.ciLow).toBeLessThanOrEqual(p.liftVsUniform.ciHigh);
      expect(p.capturedFraction.p10).toBeLessThanOrEqual(p.capturedFraction.p90);
    }
    for (const k of ['uniform', 'bestFixed', 'perContextOracle']) expect(typeof r.reference[k]).toBe('number');
    expect(r.reference.uniform).toBeLessThanOrEqual(r.reference.bestFixed);
    expect(r.reference.bestFixed).toBeLessThanOrEqual(r.reference.perContextOracle);
  });

  test('captured fraction is (policy − uniform) / (best fixed − uniform) per seed', () => {
    const data = writeTable(tmpDir(), [0.1, 0.9, 0.5]);
    const r = runReplay({ data, arms: 'all', steps: 100, seeds: 5, context: 'none', policies: ['uniform', 'greedy-score'] });
    const fractions = r.perSeed.map((s) => (s.policies['greedy-score']! - s.uniform) / (s.bestFixed - s.uniform));
    expect(r.policies['greedy-score']!.capturedFraction.mean).toBeCloseTo(fractions.reduce((a, b) => a + b, 0) / fractions.length, 12);
    // A full-information table makes the best fixed arm known in hindsight: nobody beats it on a single arm set.
    for (const s of r.perSeed) expect(s.policies['greedy-score']!).toBeLessThanOrEqual(s.perContextOracle + 1e-12);
  });

  test('the plot is an SVG with one line per policy and the references', () => {
    const data = writeTable(tmpDir(), [0.2, 0.8]);
    const svg = plot(runReplay({ data, arms: 'all', steps: 50, seeds: 2, context: 'none' }));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)!.length).toBe(POLICY_KEYS.length + 2);
    expect(lineChart('t', 'y', [1, 2], [{ name: '<a&b>', values: [0, 1] }])).toContain('&lt;a&amp;b&gt;');
  });
});

const base: Scenario = {
  name: 'test',
  description: '',
  steps: 300,
  seeds: 2,
  contexts: [{ name: 'all' }],
  templates: [
    { id: 'a', pass: 0.8 },
    { id: 'b', pass: 0.3 },
  ],
};

describe('scenarios', () => {
  test('validation names the bad field', () => {
    expect(() => validateScenario({ ...base, templates: [{ id: 'a', pass: 2 }, { id: 'b', pass: 0 }] })).toThrow(/templates.a.pass/);
    expect(() => validateScenario({ ...base, templates: [{ id: 'a', pass: 0.5, parent: 'zz' }, { id: 'b', pass: 0.5 }] })).toThrow(/unknown template zz/);
    expect(() => validateScenario({ ...base, events: [{ step: 999, type: 'regress', template: 'a', pass: 0.1 }] })).toThrow(ScenarioError);
    expect(() => validateScenario({ ...base, templates: [{ id: 'a', pass: { nowhere: 0.5 } }, { id: 'b', pass: 0.5 }] })).toThrow(/unknown context nowhere/);
    expect(validateScenario(base)).toBe(base);
  });

  test('a template that has not arrived is never picked; references use expected rewards', () => {
    const sc: Scenario = { ...base, templates: [...base.templates, { id: 'c', pass: 0.95, arrivesAt: 200 }] };
    const r = runScenario({ scenario: sc, seeds: 2 });
    // Uniform: 200 steps over {a, b}, 100 steps over {a, b, c}.
    expect(r.reference.uniform).toBeCloseTo((200 * 0.55 + 100 * ((0.8 + 0.3 + 0.95) / 3)) / 300, 12);
    expect(r.reference.perContextOracle).toBeCloseTo((200 * 0.8 + 100 * 0.95) / 300, 12);
    expect(r.reference.bestFixed).toBeCloseTo(0.8, 12);
  });

  test('same seeds give identical results; a regression is recovered from and counted', () => {
    // With forgetting on (a half-life of 20 runs), as the regression-decay scenario ships.
    const sc: Scenario = { ...base, events: [{ step: 100, type: 'regress', template: 'a', pass: 0.05 }], policyConfig: { decay: { halfLife: 20, unit: 'runs' } } };
    const r1 = runScenario({ scenario: sc, policies: ['learnloop', 'uniform'] });
    const r2 = runScenario({ scenario: sc, policies: ['learnloop', 'uniform'] });
    expect(withoutTiming(r1)).toBe(withoutTiming(r2));
    expect(r1.recoverySteps!['learnloop']!.length).toBe(1);
    // 200 steps remain after the regression; the policy must leave `a` before the run ends.
    expect(r1.recoverySteps!['learnloop']![0]!).toBeLessThan(200);
  });

  test('with delayed outcomes a policy learns nothing before the delay', () => {
    const sc: Scenario = { ...base, steps: 40, delay: 1000 };
    const r = runScenario({ scenario: sc, seeds: 3, policies: ['greedy-score'] });
    // greedy-score alternates through unscored arms while nothing has arrived: about half on each.
    for (const s of r.perSeed) expect(s.policies['greedy-score']!).toBeCloseTo(0.55, 1);
  });
});

describe('learnloop-variant', () => {
  const zero = { mean: 0, low: 0, high: 0 };

  test("with learnloop's settings it picks as learnloop does: a paired difference of exactly 0 in a matrix cell, a replay and a scenario", () => {
    const data = writeTable(tmpDir(), [0.2, 0.4, 0.5, 0.7, 0.8]);
    const cell = runCell(parseOutcomes(readFileSync(data, 'utf8')), { table: 'x', arms: 3, steps: 80 }, { seeds: 3, config: DEFAULT_POLICY_CONFIG, variant: {} });
    const ll = cell.policies['learnloop']!;
    expect(cell.policies[VARIANT]).toEqual({ ...ll, diffMean: 0, diffLow: 0, diffHigh: 0, rewardDiff: zero });
    const replayed = runReplay({ data, arms: 3, steps: 80, seeds: 3, context: 'none', policies: ['learnloop', 'uniform'], variant: {} });
    const scenario = runScenario({ scenario: base, seeds: 2, policies: ['learnloop'], variant: {} });
    for (const r of [replayed, scenario]) {
      expect(r.variant).toEqual({ overrides: {}, policyVersion: r.policyVersion, captured: { ...zero, seeds: r.policies['learnloop']!.capturedFraction.seeds }, reward: zero });
      expect(r.perSeed.map((s) => s.policies[VARIANT])).toEqual(r.perSeed.map((s) => s.policies['learnloop']));
    }
  });

  test('a changed setting has its own policy version, is recorded with null for a field removed, and is reported paired', () => {
    // As --variant-config '{"satisficingTolerance":0,"groupSpread":null}' gives it.
    const withoutGroupSpread = { satisficingTolerance: 0, groupSpread: undefined } as unknown as Partial<PolicyConfig>;
    const data = writeTable(tmpDir(), [0.2, 0.4, 0.5, 0.7, 0.8]);
    const r = runReplay({ data, arms: 3, steps: 80, seeds: 4, context: 'none', variant: withoutGroupSpread });
    expect(Object.keys(r.policies)).toEqual([...POLICY_KEYS, VARIANT]);
    expect(r.variant!.overrides).toEqual({ satisficingTolerance: 0, groupSpread: null });
    expect(r.variant!.policyVersion).not.toBe(r.policyVersion);
    const diffs = r.perSeed.map((s) => s.policies[VARIANT]! - s.policies['learnloop']!);
    expect(r.variant!.reward.mean).toBeCloseTo(diffs.reduce((a, b) => a + b, 0) / diffs.length, 12);
    expect(r.variant!.reward.low).toBeLessThanOrEqual(r.variant!.reward.high);
    expect(variantLine(r)).toMatch(/^learnloop-variant \(.*, learnloop with \{"satisficingTolerance":0,"groupSpread":null\}\) − learnloop, paired over seeds \(95% CI\): captured /);
  });
});
