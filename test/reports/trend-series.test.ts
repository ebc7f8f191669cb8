/**
 * The trend's day-binned series kept as runs arrive (ScopeSeries, which the dashboard keeps between
 * builds) give the change points of the series built from all runs at once, whatever order the runs
 * come in, also when a task's earlier attempt arrives after its later one.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { changePoints, detectChanges, isJudged, taskKey, trendReport, type RunRow } from '../../src/reports/index.js';
import { designedRuns, END } from './designed-trend.js';

const DAY = 86_400_000;

/** The series as one pass over every run makes them: judged runs passing; tasks, at their first run, retried. */
function reference(rows: readonly RunRow[]) {
  const tasks = new Map<string, { atMs: number; success: boolean }>();
  for (const r of rows) {
    const t = tasks.get(taskKey(r)) ?? { atMs: r.finishedAtMs, success: false };
    t.atMs = Math.min(t.atMs, r.finishedAtMs);
    t.success ||= r.attempt > 1 || r.retries > 0;
    tasks.set(taskKey(r), t);
  }
  return { pass: rows.filter(isJudged).map((r) => ({ atMs: r.finishedAtMs, success: r.outcome === 'pass' })), retry: [...tasks.values()] };
}

/** Each designed run becomes its task's attempts, a day or more apart (the final one as designed). */
function withAttempts(rows: readonly RunRow[]): RunRow[] {
  return rows.flatMap((r) =>
    Array.from({ length: r.attempt }, (_, i): RunRow => ({
      ...r,
      runId: `${r.runId}-a${i + 1}`,
      taskId: r.runId,
      attempt: i + 1,
      outcome: i + 1 === r.attempt ? r.outcome : 'fail',
      finishedAtMs: r.finishedAtMs - (r.attempt - 1 - i) * (DAY + 3_600_000),
    })),
  );
}

describe('the trend series kept as runs arrive', () => {
  const rows = withAttempts(designedRuns('trend-series'));

  test.prop([fc.integer()], { numRuns: 20 })('give the change points of all runs at once, in any order of arrival', (seed) => {
    const shuffled = fc.sample(fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }), { seed, numRuns: 1 })[0]!;
    for (const scope of ['regress@v1', 'improve@v1']) {
      const mine = shuffled.filter((r) => r.templateId === scope);
      const ref = reference(mine);
      const changes = detectChanges('template', scope, mine, { minRuns: 10, alpha: 0.05 });
      expect(changes.filter((c) => c.metric === 'pass_rate').map(({ scopeKind, scope, metric, direction, ...c }) => c)).toEqual(
        changePoints(ref.pass, `template\u0000${scope}\u0000pass_rate`, { minSide: 10, alpha: 0.025 }),
      );
      expect(changes.filter((c) => c.metric === 'retry_rate').map(({ scopeKind, scope, metric, direction, ...c }) => c)).toEqual(
        changePoints(ref.retry, `template\u0000${scope}\u0000retry_rate`, { minSide: 10, alpha: 0.025 }),
      );
    }
    expect(JSON.stringify(trendReport(shuffled, END))).toBe(JSON.stringify(trendReport(rows, END)));
  });
});
