/** The numbers every report shows for a set of runs, computed one way everywhere. */
import { taskKey, type RunRow } from './rows.js';
import { median, wilsonInterval } from './stats.js';

export interface Metrics {
  readonly runs: number;
  /** Runs that can be judged: infra errors and unverified runs excluded. */
  readonly judged: number;
  readonly passes: number;
  readonly partials: number;
  readonly fails: number;
  readonly timeouts: number;
  readonly infraErrors: number;
  readonly unverified: number;
  /** passes / judged (0 when nothing was judged). */
  readonly passRate: number;
  /** 95% Wilson interval of passRate. */
  readonly passRateLow: number;
  readonly passRateHigh: number;
  /** Tasks whose first attempt is among the runs and could be judged, and how many of those passed. */
  readonly firstTryTasks: number;
  readonly firstTryPasses: number;
  readonly firstTryPassRate: number;
  /** 95% Wilson interval of firstTryPassRate. */
  readonly firstTryPassRateLow: number;
  readonly firstTryPassRateHigh: number;
  /** Tasks among the runs, and those retried (a later attempt, or retries inside a run). */
  readonly tasks: number;
  readonly retriedTasks: number;
  /** retriedTasks / tasks, with its 95% Wilson interval. */
  readonly retryRate: number;
  readonly retryRateLow: number;
  readonly retryRateHigh: number;
  /** timeouts / runs, with its 95% Wilson interval. */
  readonly timeoutRate: number;
  readonly timeoutRateLow: number;
  readonly timeoutRateHigh: number;
  readonly medianDurationSeconds: number;
}

const JUDGED_OUT = new Set(['infra_error', 'unverified']);

/**
 * Metrics of a set of runs. A retried bead is one task with several attempts: it counts once in
 * `tasks`, and its first attempt alone decides its first-try pass.
 */
export function metricsOf(rows: readonly RunRow[]): Metrics {
  const count = (o: string) => rows.filter((r) => r.outcome === o).length;
  const passes = count('pass');
  const judged = rows.filter((r) => !JUDGED_OUT.has(r.outcome)).length;
  const tasks = new Map<string, { retried: boolean; first?: RunRow }>();
  for (const r of rows) {
    const key = taskKey(r);
    const t = tasks.get(key) ?? { retried: false };
    if (r.attempt > 1 || r.retries > 0) t.retried = true;
    if (r.attempt <= 1) t.first = r;
    tasks.set(key, t);
  }
  let firstTryTasks = 0;
  let firstTryPasses = 0;
  let retriedTasks = 0;
  for (const t of tasks.values()) {
    if (t.retried) retriedTasks++;
    if (t.first !== undefined && !JUDGED_OUT.has(t.first.outcome)) {
      firstTryTasks++;
      if (t.first.outcome === 'pass') firstTryPasses++;
    }
  }
  const [lo, hi] = wilsonInterval(passes, judged);
  const [ftLo, ftHi] = wilsonInterval(firstTryPasses, firstTryTasks);
  const [rLo, rHi] = wilsonInterval(retriedTasks, tasks.size);
  const [tLo, tHi] = wilsonInterval(count('timeout'), rows.length);
  return {
    runs: rows.length,
    judged,
    passes,
    partials: count('partial'),
    fails: count('fail'),
    timeouts: count('timeout'),
    infraErrors: count('infra_error'),
    unverified: count('unverified'),
    passRate: judged > 0 ? passes / judged : 0,
    passRateLow: lo,
    passRateHigh: hi,
    firstTryTasks,
    firstTryPasses,
    firstTryPassRate: firstTryTasks > 0 ? firstTryPasses / firstTryTasks : 0,
    firstTryPassRateLow: ftLo,
    firstTryPassRateHigh: ftHi,
    tasks: tasks.size,
    retriedTasks,
    retryRate: tasks.size > 0 ? retriedTasks / tasks.size : 0,
    retryRateLow: rLo,
    retryRateHigh: rHi,
    timeoutRate: rows.length > 0 ? count('timeout') / rows.length : 0,
    timeoutRateLow: tLo,
    timeoutRateHigh: tHi,
    medianDurationSeconds: median(rows.map((r) => r.durationSeconds)),
  };
}

/** Groups rows by a key, keys in byte order; rows with an empty key are grouped under '(none)'. */
export function groupBy(rows: readonly RunRow[], key: (r: RunRow) => string): Array<[string, RunRow[]]> {
  const m = new Map<string, RunRow[]>();
  for (const r of rows) {
    const k = key(r) || '(none)';
    const list = m.get(k) ?? [];
    list.push(r);
    m.set(k, list);
  }
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
