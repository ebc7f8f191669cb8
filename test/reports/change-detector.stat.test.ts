/**
 * The change-point detector (src/reports/changepoint.ts) on issue 12's designed fixture and by
 * simulation. Tolerances come from standard errors of the simulated rates; the truths come from
 * the generator (designed-trend.ts).
 */
import { describe, expect, test } from 'vitest';
import { changePoints, kolmogorovUpper, renderReport, trendReport, type Change } from '../../src/reports/index.js';
import { createRng } from '../../src/bandit/index.js';
import { DAY, designedRuns, END, REGRESSION_AT, START } from './designed-trend.js';

const flagged = (changes: readonly Change[], template: string, direction: Change['direction'], metric: Change['metric'] | 'any' = 'pass_rate') =>
  changes.filter((c) => c.scopeKind === 'template' && c.scope === template && (metric === 'any' || c.metric === metric) && c.direction === direction);

describe('change points on the designed fixture (600 runs, 10 weeks)', () => {
  const rows = designedRuns('issue-12');

  test('600 records, four templates', () => expect(rows).toHaveLength(600));

  test('as of the end: the regression is flagged and dated, the steady rise flagged, steady templates quiet', () => {
    const r = trendReport(rows, END);
    const reg = flagged(r.changes, 'regress@v1', 'regressed');
    expect(reg).toHaveLength(1);
    expect(Math.abs(reg[0]!.atMs - REGRESSION_AT)).toBeLessThanOrEqual(7 * DAY);
    expect(reg[0]!.sizeHigh).toBeLessThan(0);
    expect(flagged(r.changes, 'improve@v1', 'improved', 'any').length).toBeGreaterThanOrEqual(1);
    expect(r.changes.filter((c) => c.scope.startsWith('steady'))).toEqual([]);
  });

  test('as of two weeks after its start the regression is already flagged, with its date', () => {
    const r = trendReport(rows, REGRESSION_AT + 14 * DAY);
    const reg = flagged(r.changes, 'regress@v1', 'regressed');
    expect(reg).toHaveLength(1);
    expect(Math.abs(reg[0]!.atMs - REGRESSION_AT)).toBeLessThanOrEqual(7 * DAY);
    expect(reg[0]!.earliestMs).toBeLessThanOrEqual(reg[0]!.atMs);
    expect(reg[0]!.latestMs).toBeGreaterThanOrEqual(reg[0]!.atMs);
  });

  test('the same rows give the same changes (seeded permutations)', () => {
    expect(trendReport([...rows].reverse(), END).changes).toEqual(trendReport(rows, END).changes);
  });
});

/** Simulated reports; each seed is a fresh fixture (LEARNLOOP_TREND_SIMS=2200 gives docs/reports.md's figures). */
const N = Number(process.env.LEARNLOOP_TREND_SIMS ?? 200);
/** One-sided 99.9% normal bound on a simulated rate. */
const se = (p: number, n: number) => Math.sqrt((p * (1 - p)) / n);
const Z = 3.09;

describe('change points by simulation (statistical)', () => {
  test(`detection ≥ 90% within two weeks of the regression, ≥ 90% for the steady rise; false alarms ≤ 5% per steady template (${N} reports)`, () => {
    let regression = 0;
    let improvement = 0;
    let falseAlarms = 0;
    let steadyScopes = 0;
    for (let s = 0; s < N; s++) {
      const rows = designedRuns(`sim ${s}`);
      const early = trendReport(rows, REGRESSION_AT + 14 * DAY).changes;
      if (flagged(early, 'regress@v1', 'regressed').some((c) => Math.abs(c.atMs - REGRESSION_AT) <= 14 * DAY)) regression++;
      const late = trendReport(rows, END).changes;
      if (flagged(late, 'improve@v1', 'improved', 'any').length > 0) improvement++;
      for (const t of ['steady-a@v1', 'steady-b@v1']) {
        steadyScopes++;
        if (late.some((c) => c.scopeKind === 'template' && c.scope === t)) falseAlarms++;
      }
    }
    const det = regression / N;
    const imp = improvement / N;
    const fa = falseAlarms / steadyScopes;
    // The claim holds unless the simulated rate is more than Z standard errors (at the claimed rate) past it.
    expect(det).toBeGreaterThan(0.9 - Z * se(0.9, N));
    expect(imp).toBeGreaterThan(0.9 - Z * se(0.9, N));
    expect(fa).toBeLessThan(0.05 + Z * se(0.05, steadyScopes));
    console.info(`change points, ${N} designed fixtures: regression flagged by +14 days ${det.toFixed(3)}, rise flagged ${imp.toFixed(3)}, false alarms per steady template ${fa.toFixed(4)}`);
    // Room for a larger run on a shared machine (two reports per fixture), not a speed target.
  }, Math.max(60_000, N * 600));

  // Kolmogorov distribution: P(sup|B| > 1.358) = 0.05 and P(sup|B| > 1.628) = 0.01 (standard tables).
  test('the large-sample null of the CUSUM is the Kolmogorov distribution', () => {
    expect(kolmogorovUpper(1.3581)).toBeCloseTo(0.05, 3);
    expect(kolmogorovUpper(1.6276)).toBeCloseTo(0.01, 3);
    expect(kolmogorovUpper(0.1)).toBe(1);
  });

  test('large series (asymptotic null): false alarms at most alpha, a real change found', () => {
    const M = 200;
    let alarms = 0;
    let found = 0;
    for (let s = 0; s < M; s++) {
      const rng = createRng(`large ${s}`);
      const flat = Array.from({ length: 6000 }, () => ({ atMs: START + Math.floor(rng.next() * 70) * DAY, success: rng.next() < 0.4 }));
      if (changePoints(flat, `large ${s}`, { alpha: 0.05 }).length > 0) alarms++;
      const moved = flat.map((o) => ({ ...o, success: rng.next() < (o.atMs < START + 35 * DAY ? 0.4 : 0.44) }));
      if (changePoints(moved, `large ${s}`, { alpha: 0.05 }).length > 0) found++;
    }
    expect(alarms / M).toBeLessThan(0.05 + Z * se(0.05, M));
    expect(found / M).toBeGreaterThan(0.5);
    console.info(`change points, ${M} series of 6,000 outcomes (asymptotic null): false alarms ${alarms / M}, a 4-point shift found ${found / M}`);
  });

  test('false alarms on pure no-change series are at most alpha, whatever the rate and length', () => {
    const M = 2000;
    let alarms = 0;
    for (let s = 0; s < M; s++) {
      const rng = createRng(`null ${s}`);
      const n = 30 + Math.floor(rng.next() * 300);
      const p = 0.05 + rng.next() * 0.9;
      const series = Array.from({ length: n }, () => ({ atMs: START + Math.floor(rng.next() * 70) * DAY, success: rng.next() < p }));
      if (changePoints(series, `null ${s}`, { alpha: 0.05 }).length > 0) alarms++;
    }
    // A permutation test is exact up to Monte Carlo error: the rate sits at or below alpha.
    expect(alarms / M).toBeLessThan(0.05 + Z * se(0.05, M));
    console.info(`change points, ${M} no-change series at alpha 0.05: false-alarm rate ${(alarms / M).toFixed(4)}`);
  });
});


describe('report trend on the designed fixture', () => {
  test('the rendered report lists the dated regression and the rise, and no steady template', async () => {
    const md = await renderReport(trendReport(designedRuns('issue-12'), END), 'md');
    expect(md).toMatch(/template regress@v1: pass rate regressed from 2026-0[12]-\d\d/);
    expect(md).toMatch(/template improve@v1: (pass|retry) rate improved from/);
    expect(md).not.toMatch(/template steady-/);
  });
});
