import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import {
  detectChanges,
  DEFAULT_TREND_OPTIONS,
  failureSignature,
  median,
  metricsOf,
  normalCdf,
  remediationFor,
  twoProportionTest,
  validateRules,
  wilsonInterval,
  type RunRow,
  type TrendSeries,
} from '../../src/reports/index.js';
import { renderJson } from '../../src/reports/render/json.js';

const row = (over: Partial<RunRow>): RunRow => ({
  runId: 'r',
  templateId: 't',
  taskClass: 'c',
  repo: 'r',
  taskId: '',
  attempt: 1,
  outcome: 'pass',
  retries: 0,
  durationSeconds: 10,
  failureReason: '',
  finishedAtMs: 0,
  agent: '',
  model: '',
  ...over,
});

describe('statistics', () => {
  // Reference values: Wilson 95% intervals as printed by R's prop.test(correct = FALSE) / statsmodels proportion_confint(method='wilson').
  test.each([
    [0, 10, 0, 0.2775],
    [5, 10, 0.2366, 0.7634],
    [10, 10, 0.7225, 1],
    [81, 263, 0.2553, 0.3662],
  ])('Wilson interval of %i/%i is [%f, %f]', (x, n, lo, hi) => {
    const [l, h] = wilsonInterval(x, n);
    expect(l).toBeCloseTo(lo, 4);
    expect(h).toBeCloseTo(hi, 4);
  });

  test('no trials: the interval is [0, 1]', () => expect(wilsonInterval(0, 0)).toEqual([0, 1]));

  test.each([
    [0, 0.5],
    [1.959963984540054, 0.975],
    [-1.6448536269514722, 0.05],
    [3, 0.9986501],
  ])('normal CDF at %f is %f (A&S 7.1.26, error < 1.5e-7)', (x, p) => expect(Math.abs(normalCdf(x) - p)).toBeLessThan(2e-7));

  test('two-proportion test: 30/50 vs 20/50 gives z = 2.0, p = 0.0455', () => {
    const { z, pValue } = twoProportionTest(30, 50, 20, 50);
    expect(z).toBeCloseTo(2.0, 6);
    expect(pValue).toBeCloseTo(0.0455, 4);
    expect(twoProportionTest(0, 0, 1, 2)).toEqual({ z: 0, pValue: 1 });
  });

  test.each([
    [[], 0],
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])('median of %j is %f', (xs, m) => expect(median(xs)).toBe(m));
});

describe('metrics', () => {
  test('a retried bead is one task: first-try pass from attempt 1, retried once', () => {
    const m = metricsOf([
      row({ runId: 'a1', taskId: 'A', attempt: 1, outcome: 'fail' }),
      row({ runId: 'a2', taskId: 'A', attempt: 2, outcome: 'pass' }),
      row({ runId: 'b1', taskId: 'B', attempt: 1, outcome: 'pass' }),
      row({ runId: 'c1', taskId: 'C', attempt: 1, outcome: 'unverified' }),
      row({ runId: 'd1', taskId: '', attempt: 0, outcome: 'infra_error' }),
      row({ runId: 'e1', taskId: 'E', attempt: 1, outcome: 'timeout', durationSeconds: 100 }),
    ]);
    expect(m).toMatchObject({ runs: 6, judged: 4, passes: 2, tasks: 5, retriedTasks: 1, firstTryTasks: 3, firstTryPasses: 1, unverified: 1, infraErrors: 1, timeouts: 1 });
    expect(m.passRate).toBe(0.5);
    expect(m.retryRate).toBe(0.2);
    expect(m.timeoutRate).toBeCloseTo(1 / 6, 12);
    expect(m.medianDurationSeconds).toBe(10);
  });
});

describe('failure signatures', () => {
  test.each([
    ['fail', 'agent failed: exit 1: npm test failed: 6 failing tests in src/billing/index.test.ts', 'fail: agent failed: exit 1: npm test failed: <n> failing tests in <path>'],
    ['fail', 'agent failed: exit 2: merge conflict in package.json', 'fail: agent failed: exit 2: merge conflict in <path>'],
    ['fail', 'agent failed: exit 137: killed', 'fail: agent failed: exit 137: killed'],
    ['timeout', 'exceeded time box of 1800 s', 'timeout: exceeded time box of <n> s'],
    ['infra_error', 'Clone of https://github.com/org/app failed at 3f9a2c1d', 'infra_error: clone of <url> failed at <hex>'],
    ['fail', 'Cannot find module "left-pad"   in   /home/u/app', 'fail: cannot find module <str> in <path>'],
    ['timeout', '', 'timeout'],
  ])('%s %j -> %j', (outcome, reason, signature) => expect(failureSignature(outcome, reason)).toBe(signature));

  test('the rules file in the repo is valid and the first matching rule wins', () => {
    const rules = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'rules', 'remediations.json'), 'utf8'));
    expect(validateRules(rules)).toEqual([]);
    expect(remediationFor('fail: agent failed: exit 137: killed', rules)?.ruleId).toBe('killed');
    expect(remediationFor('partial: checks failed: lint', rules)?.ruleId).toBe('lint-failed');
    expect(remediationFor('fail: checks failed: tests, lint', rules)?.ruleId).toBe('tests-failed');
    expect(remediationFor('fail: something new', rules)).toBeNull();
  });

  test('rules-file problems are all reported', () => {
    expect(validateRules({ version: 0, rules: [{ id: 'a', match: '(', action: 'x', rationale: 'y' }, { id: 'a', match: 'b', action: '', rationale: 'y' }] })).toEqual([
      'version: must be an integer >= 1; got 0',
      expect.stringMatching(/^rules\[0\]\.match: not a regular expression/),
      'rules[1].action: must be a non-empty string',
      'rules[1].id: duplicates "a"',
    ]);
  });
});

describe('change detector', () => {
  const point = (passes: number, judged: number) => ({ ...metricsOf([]), startMs: 0, endMs: 0, passes, judged, runs: judged, tasks: judged, firstTryTasks: 0 });
  const series = (...pts: Array<[number, number]>): TrendSeries => ({ scope: 't', points: pts.map(([x, n]) => point(x, n)) });

  test('flags a drop from 75% to 20% as a regression', () => {
    const c = detectChanges(series([15, 20], [15, 20], [15, 20], [15, 20], [4, 20]), DEFAULT_TREND_OPTIONS);
    expect(c.map((x) => [x.metric, x.direction])).toEqual([['pass_rate', 'regressed']]);
    expect(c[0]!.pValue).toBeLessThan(0.001);
  });

  test('flags a rise as an improvement', () => {
    expect(detectChanges(series([4, 20], [5, 20], [4, 20], [5, 20], [16, 20]), DEFAULT_TREND_OPTIONS).map((x) => x.direction)).toEqual(['improved']);
  });

  test('stays quiet on noise-sized differences and on too few runs', () => {
    expect(detectChanges(series([10, 20], [11, 20], [9, 20], [10, 20], [12, 20]), DEFAULT_TREND_OPTIONS)).toEqual([]);
    expect(detectChanges(series([15, 20], [15, 20], [15, 20], [15, 20], [0, 5]), DEFAULT_TREND_OPTIONS)).toEqual([]);
  });
});

describe('rendering', () => {
  test('JSON has sorted keys and 6-decimal numbers', () => {
    expect(renderJson({ b: 1 / 3, a: [2 / 3, { d: NaN, c: 'x' }] })).toBe('{\n  "a": [\n    0.666667,\n    {\n      "c": "x",\n      "d": null\n    }\n  ],\n  "b": 0.333333\n}\n');
  });
});

describe('src/reports boundaries', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  test.each(files(join(PACKAGE_ROOT, 'src', 'reports')).map((f) => [f.slice(PACKAGE_ROOT.length + 1), f]))(
    '%s imports no file system, store, server or generated code and reads no clock',
    (_, file) => {
      const text = readFileSync(file, 'utf8');
      const specs = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
      for (const s of specs) expect(/^node:|\/store\/|\/server\/|\/gen\/|^lmdb|^@grpc/.test(s), `${s}`).toBe(false);
      const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code).not.toMatch(/Date\.now|new Date\(\)|Math\.random|process\./);
    },
  );
});
