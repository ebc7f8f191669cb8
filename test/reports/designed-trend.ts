/**
 * Issue 12's designed trend fixture, generated from a seed: 600 final-attempt run records over 10
 * weeks from four templates (150 each). `regress@v1`'s per-attempt pass rate falls from 0.75 to
 * 0.25 at the start of week 5; `improve@v1`'s rises steadily from 0.30 to 0.75; `steady-a@v1`
 * (0.60) and `steady-b@v1` (0.45) never change. A task gets up to 3 attempts and the dispatcher
 * records only the last, as athena's does.
 */
import { createRng } from '../../src/bandit/index.js';
import type { RunRow } from '../../src/reports/index.js';

export const DAY = 86_400_000;
/** Monday 2026-01-05 00:00 UTC. */
export const START = Date.parse('2026-01-05T00:00:00Z');
export const WEEKS = 10;
export const END = START + WEEKS * 7 * DAY - 1;
/** The regression starts with week 5 (day 28). */
export const REGRESSION_AT = START + 28 * DAY;

export type Shape = (t: number) => number;
export const SHAPES: Readonly<Record<string, { taskClass: string; p: Shape }>> = {
  'regress@v1': { taskClass: 'bug-fix', p: (t) => (t < REGRESSION_AT ? 0.75 : 0.25) },
  'improve@v1': { taskClass: 'feature', p: (t) => 0.3 + (0.45 * (t - START)) / (END - START) },
  'steady-a@v1': { taskClass: 'bug-fix', p: () => 0.6 },
  'steady-b@v1': { taskClass: 'feature', p: () => 0.45 },
};

/** Runs of each template in `shapes`, `perTemplate` each, uniformly over the ten weeks. */
export function designedRuns(seed: string, shapes: Readonly<Record<string, { taskClass: string; p: Shape }>> = SHAPES, perTemplate = 150): RunRow[] {
  const rng = createRng(seed);
  const rows: RunRow[] = [];
  for (const [templateId, { taskClass, p }] of Object.entries(shapes)) {
    for (let i = 0; i < perTemplate; i++) {
      const finishedAtMs = START + Math.floor(rng.next() * (END - START));
      let attempt = 1;
      while (attempt < 3 && !(rng.next() < p(finishedAtMs))) attempt++;
      // The last attempt is drawn again only when the loop ran out of attempts.
      const passed = attempt < 3 || rng.next() < p(finishedAtMs);
      rows.push({
        runId: `${templateId}-${i}`,
        templateId,
        taskClass,
        repo: 'org/app',
        taskId: `${templateId}-task-${i}`,
        attempt,
        outcome: passed ? 'pass' : 'fail',
        retries: 0,
        durationSeconds: 600,
        failureReason: passed ? '' : 'checks failed: tests',
        finishedAtMs,
        agent: 'claude',
        model: 'sonnet',
      });
    }
  }
  return rows.sort((a, b) => a.finishedAtMs - b.finishedAtMs || (a.runId < b.runId ? -1 : 1));
}
