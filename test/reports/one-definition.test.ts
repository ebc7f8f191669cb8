/**
 * One definition of each number: on the same fixture log, `scores` (command line), `report scores`,
 * GetScores and the dashboard's JSON show the same pass rate, retry rate, first-try pass rate and
 * evidence label for every template, the dashboard's matrix the posterior pass rate (not the expected
 * reward) GetScores shows for each task class, and "–" where there is nothing to judge.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildReport } from '../../src/cli/commands/analytics.js';
import type { Scorecard } from '../../src/gen/learnloop/v1/learnloop.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { NO_DATA, renderReport, type ScoresReport } from '../../src/reports/index.js';
import { freePort, startTestServer } from '../helpers/server.js';
import { AS_OF, fixtureLog, RULES } from './fixture-log.js';

const dir = mkdtempSync(join(tmpdir(), 'learnloop-one-definition-'));
const db = join(dir, 'db');
let report: ScoresReport;
let markdown: string;
let grpc: Scorecard[];
let cli: Array<{ templateId: string; evidenceLabel: string; posterior: { evidenceLevel: string }; metrics: { passRate: number; retryRate: number; firstTryPassRate: number; judged: number } }>;
let cliTable: string;
type Cell = { templateId: string; taskClass: string; posteriorPassRate: number; posteriorPassRateLow: number; posteriorPassRateHigh: number; expectedReward: number; evidenceLabel: string };
let dashTemplates: Array<{ templateId: string; metrics: { passRate: number; retryRate: number; firstTryPassRate: number; judged: number; medianDurationSeconds: number } }>;
let dashCells: Cell[];
let grpcByClass: Map<string, Scorecard[]>;

beforeAll(async () => {
  const log = await fixtureLog(db);
  // A registered template with no runs: nothing to judge anywhere.
  await log.ll.registerTemplate({ templateId: 'docs@v2', parentTemplateId: '', status: 'active', description: 'not run yet' });
  const model = buildReport('scores', await log.data(), AS_OF, RULES);
  if (model.kind !== 'scores') throw new Error('expected scores');
  report = model;
  markdown = await renderReport(model, 'md');
  await log.store.close();
  // The dashboard beside the gRPC server, as `serve --http-port` runs it.
  const { client, server } = await startTestServer({ db, 'http-port': String(await freePort()) });
  grpc = (await client.getScores()).scorecards;
  const get = async (view: string) => (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/${view}`)).json() as Promise<Record<string, unknown>>;
  dashTemplates = (await get('templates')).templates as typeof dashTemplates;
  dashCells = (await get('matrix')).byTaskClass as Cell[];
  grpcByClass = new Map();
  for (const taskClass of new Set(dashCells.map((c) => c.taskClass))) grpcByClass.set(taskClass, (await client.getScores({ taskClass })).scorecards);
  client.close();
  const bin = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
  const json = spawnSync(process.execPath, [bin, 'scores', '--db', db, '--json'], { encoding: 'utf8', timeout: 60_000 });
  expect(json.status, json.stderr).toBe(0);
  cli = JSON.parse(json.stdout);
  cliTable = spawnSync(process.execPath, [bin, 'scores', '--db', db], { encoding: 'utf8', timeout: 60_000 }).stdout;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one definition of each number (fixture log)', () => {
  test('pass rate, retry rate, first-try pass rate and evidence label agree for every template', () => {
    const ran = report.byTemplate.map((t) => t.key);
    expect(ran.length).toBeGreaterThan(3);
    for (const key of ran) {
      const r = report.byTemplate.find((t) => t.key === key)!;
      const g = grpc.find((c) => c.templateId === key)!;
      const c = cli.find((x) => x.templateId === key)!;
      expect(g.passRate, key).toBe(r.passRate);
      expect(c.metrics.passRate, key).toBe(r.passRate);
      expect(g.retryRate, key).toBe(r.retryRate);
      expect(c.metrics.retryRate, key).toBe(r.retryRate);
      expect(g.firstTryPassRate, key).toBe(r.firstTryPassRate);
      expect(c.metrics.firstTryPassRate, key).toBe(r.firstTryPassRate);
      expect(g.judgedRuns, key).toBe(r.judged);
      expect(g.evidenceLabel, key).toBe(r.evidence);
      expect(c.evidenceLabel, key).toBe(r.evidence);
      expect(c.posterior.evidenceLevel, key).toBe(r.evidence);
      expect(['prior', 'global', 'task class', 'repo+class']).toContain(r.evidence);
      // The dashboard's JSON carries 6 decimals (the reports' renderer).
      const d = dashTemplates.find((x) => x.templateId === key)!;
      expect(d.metrics.passRate, key).toBeCloseTo(r.passRate, 6);
      expect(d.metrics.retryRate, key).toBeCloseTo(r.retryRate, 6);
      expect(d.metrics.firstTryPassRate, key).toBeCloseTo(r.firstTryPassRate, 6);
      expect(d.metrics.judged, key).toBe(r.judged);
    }
  });

  test("the dashboard's matrix shows GetScores' posterior pass rate and evidence label of each task class", () => {
    expect(dashCells.length).toBeGreaterThan(3);
    // Partials make the two differ: a matrix showing the expected reward would fail here.
    expect(dashCells.some((c) => Math.abs(c.posteriorPassRate - c.expectedReward) > 0.01)).toBe(true);
    for (const c of dashCells) {
      const g = grpcByClass.get(c.taskClass)!.find((x) => x.templateId === c.templateId)!;
      const what = `${c.templateId} in ${c.taskClass}`;
      expect(g, what).toBeDefined();
      expect(c.posteriorPassRate, what).toBeCloseTo(g.posterior!.passRate, 6);
      expect(c.posteriorPassRateLow, what).toBeCloseTo(g.posterior!.passRateCiLow, 6);
      expect(c.posteriorPassRateHigh, what).toBeCloseTo(g.posterior!.passRateCiHigh, 6);
      expect(c.evidenceLabel, what).toBe(g.evidenceLabel);
    }
    expect(dashCells.length).toBe([...grpcByClass.values()].reduce((n, cards) => n + cards.length, 0));
  });

  test('the duration is the median everywhere: scores, report scores, GetScores and the dashboard', () => {
    const header = cliTable.split('\n')[0]!;
    expect(header).toContain('median s');
    expect(header).not.toContain('mean s');
    // Where the column starts (cells are right-aligned under their header's end).
    const end = header.indexOf('median s') + 'median s'.length;
    // Skewed durations make mean and median differ: a column showing the mean would fail here.
    expect(grpc.some((g) => Math.round(g.meanDurationSeconds) !== Math.round(g.medianDurationSeconds))).toBe(true);
    for (const r of report.byTemplate) {
      const g = grpc.find((c) => c.templateId === r.key)!;
      expect(g.medianDurationSeconds, r.key).toBe(r.medianDurationSeconds);
      expect(dashTemplates.find((x) => x.templateId === r.key)!.metrics.medianDurationSeconds, r.key).toBeCloseTo(r.medianDurationSeconds, 6);
      const line = cliTable.split('\n').find((l) => l.startsWith(`${r.key} `))!;
      expect(line.slice(0, end).trimEnd().split(/\s+/).at(-1), r.key).toBe(r.medianDurationSeconds.toFixed(0));
    }
  });

  test('a retry rate is not 0% everywhere and a first-try pass rate is not 100% everywhere', () => {
    expect(report.byTemplate.some((t) => t.retryRate > 0)).toBe(true);
    expect(report.byTemplate.every((t) => t.judgedTasks === 0 || t.firstTryPassRate < 1)).toBe(true);
  });

  test('a template with nothing to judge shows the no-data mark, not 0%', () => {
    const g = grpc.find((c) => c.templateId === 'docs@v2')!;
    expect(g.judgedRuns).toBe(0);
    expect(g.evidenceLabel).toBe('prior');
    const line = cliTable.split('\n').find((l) => l.startsWith('docs@v2'))!;
    expect(line).toContain(NO_DATA);
    expect(line).not.toMatch(/\b0\.0%/);
    expect(markdown).toContain('| evidence |');
  });
});
