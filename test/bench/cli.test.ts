import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { LearnLoop } from '../../src/service/learnloop.js';
import { LmdbStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

beforeAll(() => {
  // The command runs compiled code: `npm ci` builds it (prepare), and `npm test` rebuilds it first.
  expect(existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is built').toBe(true);
});

describe('learnloop bench lift / report lift', () => {
  test('replays the default data set and writes the JSON report and the plot', () => {
    const dir = tmpDir();
    const out = join(dir, 'r.json');
    const svg = join(dir, 'r.svg');
    const r = cli('bench', 'lift', '--arms', '4', '--steps', '60', '--seeds', '2', '--context', 'repo', '--json', out, '--plot', svg);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^replay of .*verified\.csv: 4 arms, context repo, 60 steps, 2 seeds/);
    expect(r.stdout).toContain('greedy-score');
    expect(r.stderr).toMatch(/replay: 12\/12 policy runs/);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report).toMatchObject({ arms: 4, steps: 60, seeds: 2 });
    expect(report.command).toBe(`npx learnloop bench lift --arms 4 --steps 60 --seeds 2 --context repo --json ${out} --plot ${svg}`);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);
  });

  test('runs a shipped scenario', () => {
    const r = cli('bench', 'lift', '--scenario', join(PACKAGE_ROOT, 'bench', 'scenarios', 'delayed.json'), '--steps', '100', '--seeds', '1', '--json', '-');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.mode).toBe('scenario');
    expect(Object.keys(report.policies)).toContain('learnloop (no context)');
  });

  test('runs a subset of the validation matrix for screening', () => {
    const r = cli('bench', 'lift', '--matrix', '--tables', 'narrow-16', '--arms', '8,all', '--steps', '500', '--seeds', '2', '--json', '-');
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout);
    expect(m.cells.map((c: { table: string; arms: number | string; steps: number }) => [c.table, c.arms, c.steps])).toEqual([
      ['narrow-16', 8, 500],
      ['narrow-16', 'all', 500],
    ]);
    expect(m.filter).toEqual({ tables: ['narrow-16'], arms: [8, 'all'], steps: [500] });
    // Each behind entry is a cell where a baseline's reward leads beyond the paired interval, and says so in the cell's figures.
    for (const b of m.behind) {
      const p = m.cells.find((c: { table: string; k: number; steps: number }) => c.table === b.table && c.k === b.k && c.steps === b.steps).policies[b.baseline];
      expect(p.rewardDiff).toEqual({ mean: b.mean, low: b.low, high: b.high });
      expect(b.low).toBeGreaterThan(0);
    }
  });

  test('--jobs 2 reports what --jobs 1 does, and learnloop-variant with learnloop\'s settings differs from it by exactly 0', () => {
    const dir = tmpDir();
    const args = ['bench', 'lift', '--matrix', '--tables', 'narrow-16', '--arms', '8,all', '--steps', '500', '--seeds', '2', '--variant-config', '{}'];
    const run = (jobs: number) => {
      const json = join(dir, `jobs-${jobs}.json`);
      const r = cli(...args, '--jobs', String(jobs), '--json', json);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/matrix: 2\/2 cells/);
      // Timing and the command line (which names --jobs) are all that may differ.
      return { json: readFileSync(json, 'utf8').replace(/^ {2}"(seconds|command)": .*$/gm, ''), stdout: r.stdout.replace(/, \d+ s\)/, ')') };
    };
    const [one, two] = [run(1), run(2)];
    expect(two).toEqual(one);
    const m = JSON.parse(readFileSync(join(dir, 'jobs-2.json'), 'utf8'));
    // In the serial order, though the pool hands out the K = all cell first and the K = 8 cell finishes first.
    expect(m.cells.map((c: { table: string; arms: number | string }) => `${c.table} ${c.arms}`)).toEqual(['narrow-16 8', 'narrow-16 all']);
    expect(m.variant).toEqual({ overrides: {}, policyVersion: m.policyVersion });
    for (const c of m.cells) {
      const [ll, v] = [c.policies['learnloop'], c.policies['learnloop-variant']];
      expect(v).toEqual({ ...ll, diffMean: 0, diffLow: 0, diffHigh: 0, rewardDiff: { mean: 0, low: 0, high: 0 } });
    }
    expect(one.stdout).toMatch(/variant − learnloop mean \(paired, 95% CI\)/);
    expect(one.stdout).toMatch(/learnloop-variant \(.*, learnloop with \{\}\) − learnloop, .*: ahead beyond the 95% interval in 0 of 2 cells, behind it in 0/);
  });

  test.each([
    [['--matrix', '--jobs', '0'], '--jobs'],
    [['--matrix', '--jobs', 'two'], '--jobs'],
    [['--matrix', '--jobs', '1.5'], '--jobs'],
    [['--jobs', '2'], '--jobs'],
    [['--variant-config', '{'], '--variant-config'],
    [['--variant-config', '[1]'], '--variant-config'],
    [['--variant-config', '{"satisficingTolerance":-1}'], '--variant-config'],
    [['--policies', 'uniform', '--variant-config', '{}'], '--variant-config'],
  ])('refuses %j in one line naming %s, exit 2', (args, flag) => {
    const r = cli('bench', 'lift', ...args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^learnloop: ${flag}[: ]`));
  });

  test('user errors are one line and exit 2', () => {
    for (const args of [['--arms', '0'], ['--data', '/nonexistent.csv'], ['--policies', 'nope'], ['--policy-config', '{"satisficingTolerance":-1}'], ['--matrix', '--tables', 'nope'], ['--tables', 'narrow-16'], ['--first-seed', '0']]) {
      const r = cli('bench', 'lift', ...args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^learnloop: /);
    }
  });

  test('report lift estimates from a service log', async () => {
    const db = tmpDir();
    const store = await LmdbStore.open(db, { policy: { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 }, noSync: true });
    let id = 0;
    const ll = new LearnLoop({ store, limits: DEFAULT_LIMITS, newDecisionId: () => `d${id++}` });
    for (let i = 0; i < 40; i++) {
      const d = await ll.recommend({ taskClass: '', repo: '', candidateTemplateIds: ['a', 'b'], topK: 0, requestId: '' });
      const t = d.decision.chosen;
      await ll.observe({ runId: `r${i}`, decisionId: d.decision.decisionId, templateId: t, taskClass: '', repo: '', taskId: '', attempt: 1, outcome: t === 'a' ? 'pass' : 'fail', retries: 0, durationSeconds: 1, failureReason: '', finishedAtMs: undefined, agent: '', model: '' });
    }
    await store.close();
    const r = cli('report', 'lift', '--db', db, '--resamples', '200', '--json');
    expect(r.status, r.stderr).toBe(0);
    const est = JSON.parse(r.stdout);
    expect(est.decisions).toBe(40);
    expect(Object.keys(est.lift)).toEqual(['ips', 'snips', 'dr']);
    const human = cli('report', 'lift', '--db', db, '--resamples', '200');
    expect(human.stdout).toMatch(/40 decisions with outcomes/);
    expect(human.stdout).toMatch(/effective sample size for uniform/);
  });
});
