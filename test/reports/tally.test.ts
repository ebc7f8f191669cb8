/**
 * MetricsTally (one run at a time) gives exactly the metrics of the runs counted at once, after every
 * run, also when made again part-way from its state (whose arrays it takes over, as from a snapshot).
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isJudged, metricsOf, MetricsTally } from '../../src/reports/metrics.js';
import { TaskNumbers } from '../../src/reports/tasks.js';
import { taskKey, type RunRow } from '../../src/reports/rows.js';
import { median, wilsonInterval } from '../../src/reports/stats.js';

/** The definitions written out by counting, as docs/reports.md states them: the reference the tally must match. */
function counted(rows: readonly RunRow[], partialReward: number) {
  const count = (o: string) => rows.filter((r) => r.outcome === o).length;
  const judged = rows.filter(isJudged).length;
  const byTask = new Map<string, RunRow[]>();
  for (const r of rows) byTask.set(taskKey(r), [...(byTask.get(taskKey(r)) ?? []), r]);
  const tasks = [...byTask.values()];
  const judgedTasks = tasks.filter((rs) => rs.some(isJudged));
  const firstTryPasses = judgedTasks.filter((rs) => rs.some((r) => r.attempt <= 1 && r.outcome === 'pass')).length;
  const retriedTasks = tasks.filter((rs) => rs.some((r) => r.attempt > 1 || r.retries > 0)).length;
  const passes = count('pass');
  const interval = (x: number, n: number) => wilsonInterval(x, n);
  return {
    runs: rows.length,
    judged,
    passes,
    partials: count('partial'),
    timeouts: count('timeout'),
    passRate: judged > 0 ? passes / judged : 0,
    passInterval: interval(passes, judged),
    expectedReward: judged > 0 ? (passes + partialReward * count('partial')) / judged : 0,
    judgedTasks: judgedTasks.length,
    firstTryPasses,
    firstTryInterval: interval(firstTryPasses, judgedTasks.length),
    tasks: tasks.length,
    retriedTasks,
    retryInterval: interval(retriedTasks, tasks.length),
    timeoutInterval: interval(count('timeout'), rows.length),
    medianDurationSeconds: median(rows.map((r) => r.durationSeconds)),
  };
}

const rowArb = fc.record({
  runId: fc.string({ maxLength: 3 }),
  templateId: fc.constant('t'),
  taskClass: fc.constant(''),
  repo: fc.constant(''),
  taskId: fc.constantFrom('', 'a', 'b', 'c', 'd'),
  attempt: fc.integer({ min: 1, max: 3 }),
  outcome: fc.constantFrom('pass', 'partial', 'fail', 'timeout', 'infra_error', 'unverified'),
  retries: fc.integer({ min: 0, max: 2 }),
  durationSeconds: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
  finishedAtMs: fc.constant(0),
}) as fc.Arbitrary<RunRow>;

describe('MetricsTally', () => {
  test('after every run it equals the metrics of the runs so far, counted at once', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 60 }), fc.constantFrom(0.5, 0.25), (rows, partialReward) => {
        const tally = new MetricsTally(partialReward);
        for (let i = 0; i <= rows.length; i++) {
          const m = tally.metrics();
          const want = counted(rows.slice(0, i), partialReward);
          expect({
            runs: m.runs,
            judged: m.judged,
            passes: m.passes,
            partials: m.partials,
            timeouts: m.timeouts,
            passRate: m.passRate,
            passInterval: [m.passRateLow, m.passRateHigh],
            expectedReward: m.expectedReward,
            judgedTasks: m.judgedTasks,
            firstTryPasses: m.firstTryPasses,
            firstTryInterval: [m.firstTryPassRateLow, m.firstTryPassRateHigh],
            tasks: m.tasks,
            retriedTasks: m.retriedTasks,
            retryInterval: [m.retryRateLow, m.retryRateHigh],
            timeoutInterval: [m.timeoutRateLow, m.timeoutRateHigh],
            medianDurationSeconds: m.medianDurationSeconds,
          }).toEqual(want);
          expect(m).toEqual(metricsOf(rows.slice(0, i), partialReward));
          if (i < rows.length) tally.add(rows[i]!);
        }
      }),
      { seed: 10, numRuns: 300 },
    );
  });

  test('made again part-way from its state, taking its arrays over, it goes on as the tally it was taken of', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 80 }), fc.nat(), (rows, at) => {
        const cut = at % (rows.length + 1);
        const numbers = new TaskNumbers();
        const first = new MetricsTally(0.5, numbers);
        for (const r of rows.slice(0, cut)) first.add(r);
        // structuredClone gives arrays with their memory to themselves, as a decoded snapshot's large ones.
        const again = MetricsTally.fromState(structuredClone(first.state()), numbers);
        for (const r of rows.slice(cut)) {
          first.add(r);
          again.add(r);
          expect(again.metrics()).toEqual(first.metrics());
        }
        expect(again.state()).toEqual(first.state());
      }),
      { seed: 11, numRuns: 200 },
    );
  });
});
