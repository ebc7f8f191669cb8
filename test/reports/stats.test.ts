import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import {
  failureSignature,
  failuresReport,
  median,
  metricsOf,
  NO_DATA,
  rateText,
  normalCdf,
  remediationFor,
  newcombeInterval,
  normalQuantileUpper,
  validateRules,
  wilsonInterval,
  type RunRow,
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

  // Newcombe (1998), Table II: 56/70 vs 48/80 gives a difference of 0.2 with [0.0524, 0.3339]
  // (there as p1 − p2; here x2/n2 − x1/n1, so the sides swap sign).
  test('Newcombe hybrid score interval matches the published example', () => {
    const [lo, hi] = newcombeInterval(48, 80, 56, 70);
    expect(lo).toBeCloseTo(0.0524, 4);
    expect(hi).toBeCloseTo(0.3339, 4);
    expect(newcombeInterval(0, 0, 1, 2)).toEqual([-1, 1]);
  });

  test('upper normal quantile inverts the CDF', () => {
    expect(normalQuantileUpper(0.025)).toBeCloseTo(1.959964, 5);
    expect(normalQuantileUpper(0.05 / 6)).toBeCloseTo(2.393980, 4);
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
    expect(m).toMatchObject({ runs: 6, judged: 4, passes: 2, tasks: 5, retriedTasks: 1, judgedTasks: 3, firstTryPasses: 1, unverified: 1, infraErrors: 1, timeouts: 1 });
    expect(m.passRate).toBe(0.5);
    expect(m.firstTryPassRate).toBeCloseTo(1 / 3, 12);
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
    // Exit codes are kept whatever the wording: a kill (137) is not a failing test (1).
    ['fail', 'agent process exited with code 137', 'fail: agent process exited with code 137'],
    ['fail', 'agent process exited with code 1', 'fail: agent process exited with code 1'],
    ['fail', 'tests failed (exit code 137) after 12 s', 'fail: tests failed (exit code 137) after <n> s'],
    ['fail', 'build failed: tsc exit code 2', 'fail: build failed: tsc exit code 2'],
    ['fail', "Command 'pytest' returned non-zero exit status 5.", 'fail: command <str> returned non-zero exit status 5.'],
    ['fail', 'runner: exited with status 143', 'fail: runner: exited with status 143'],
    ['fail', 'exit_code=137 EXITCODE: 1', 'fail: exit_code=137 exitcode: 1'],
    ['fail', 'query returned 3 rows', 'fail: query returned <n> rows'],
  ])('%s %j -> %j', (outcome, reason, signature) => expect(failureSignature(outcome, reason)).toBe(signature));

  test('a reason naming its own task (athena\'s bead ids, its session agent-<bead>) is one pattern across tasks', () => {
    // Beads are ids such as bd-1nn and bd-3q4: no number or hash rule took them, so the same runner
    // failure on every bead was a pattern of its own, never recurring, never needing a rule.
    const row = (taskId: string, failureReason: string): RunRow => ({ runId: `${taskId}#1`, templateId: 'custom', taskClass: 'feature', repo: 'athena-web', taskId, attempt: 1, outcome: 'infra_error', retries: 0, durationSeconds: 1, failureReason, finishedAtMs: 1_000, agent: '', model: '' });
    const rows = ['bd-1nn', 'bd-3q4', 'bd-2d1'].map((bead) => row(bead, `tmux session agent-${bead} not found`));
    const report = failuresReport(rows, 2_000, { version: 1, rules: [] });
    expect(report.patterns.map((p) => [p.signature, p.count])).toEqual([['infra_error: tmux session agent-<task> not found', 3]]);
    expect(report.needingRule).toEqual(['infra_error: tmux session agent-<task> not found']);
    // Only the task's own id, whole, of letters and digits: a numeric one is a number like any other
    // (exit codes kept), a word is a word.
    expect(failureSignature('fail', 'bd-1nnx failed for bd-1nn', 'bd-1nn')).toBe('fail: bd-1nnx failed for <task>');
    expect(failureSignature('fail', 'agent failed: exit 1', '1')).toBe('fail: agent failed: exit 1');
    expect(failureSignature('fail', 'docs build failed', 'docs')).toBe('fail: docs build failed');
  });

  test('the killed rule matches a kill in every exit-code wording, and no other code', () => {
    const rules = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'rules', 'remediations.json'), 'utf8'));
    for (const reason of ['agent failed: exit 137: killed', 'agent process exited with code 137', 'tests failed (exit code 143)', 'exit status 137', 'exit_code=137']) {
      expect(remediationFor(failureSignature('fail', reason), rules)?.ruleId, reason).toBe('killed');
    }
    for (const reason of ['agent process exited with code 1', 'exit code 1370', 'took 137 s']) {
      expect(remediationFor(failureSignature('fail', reason), rules)?.ruleId, reason).not.toBe('killed');
    }
  });

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

describe('metrics: one definition for every recording style', () => {
  test('a dispatcher that records only final attempts gets the rates of one that records every attempt', () => {
    const every = [
      row({ runId: 'a1', taskId: 'A', attempt: 1, outcome: 'fail' }),
      row({ runId: 'a2', taskId: 'A', attempt: 2, outcome: 'pass' }),
      row({ runId: 'b1', taskId: 'B', attempt: 1, outcome: 'pass' }),
      row({ runId: 'c1', taskId: 'C', attempt: 1, outcome: 'fail' }),
      row({ runId: 'c2', taskId: 'C', attempt: 2, outcome: 'fail' }),
    ];
    const finalOnly = [every[1]!, every[2]!, every[4]!];
    const a = metricsOf(every);
    const b = metricsOf(finalOnly);
    for (const k of ['tasks', 'judgedTasks', 'firstTryPasses', 'firstTryPassRate', 'retriedTasks', 'retryRate'] as const) expect(b[k], k).toBe(a[k]);
    // Not 100%: a final-attempt record with attempt 2 is a task that did not pass first time.
    expect(b.firstTryPassRate).toBeCloseTo(1 / 3, 12);
  });

  test('expected reward counts a partial at its reward; nothing judged shows the no-data mark', () => {
    const m = metricsOf([row({ runId: 'p', outcome: 'partial' }), row({ runId: 'q', outcome: 'pass' }), row({ runId: 'u', outcome: 'unverified' })]);
    expect(m.expectedReward).toBe(0.75);
    expect(metricsOf([row({ outcome: 'unverified' })]).judged).toBe(0);
    expect(rateText(0, 0)).toBe(NO_DATA);
    expect(rateText(0.5, 2)).toBe('50.0%');
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
