/**
 * The one definition of each number learnloop shows for a set of runs: `scores`, every report,
 * GetScores and the dashboard's JSON call these (docs/reports.md, "Definitions").
 */
import type { EvidenceLevel } from '../bandit/index.js';
import { taskKey, type RunRow } from './rows.js';
import { median, wilsonInterval } from './stats.js';

/** Shown where a rate has nothing to be computed over (no judged runs, no tasks). */
export const NO_DATA = '–';

/** The reward a partial pass earns unless the policy says otherwise (PolicyConfig.partialReward). */
export const DEFAULT_PARTIAL_REWARD = 0.5;

/** One label per evidence level, in every human and JSON output (gRPC keeps its enum). */
export const EVIDENCE_LABELS: Readonly<Record<EvidenceLevel, string>> = Object.freeze({
  prior: 'prior',
  global: 'global',
  task_class: 'task class',
  repo_task_class: 'repo+class',
});

/** The label of an evidence level. */
export const evidenceLabel = (level: EvidenceLevel): string => EVIDENCE_LABELS[level];

/** A rate as text: a percentage, or NO_DATA when its denominator is 0. */
export const rateText = (rate: number, denominator: number, digits = 1): string => (denominator > 0 ? `${(rate * 100).toFixed(digits)}%` : NO_DATA);

export interface Metrics {
  /** Observations, every outcome. */
  readonly runs: number;
  /** Runs that can be judged: infra errors and unverified runs excluded. */
  readonly judged: number;
  readonly passes: number;
  readonly partials: number;
  readonly fails: number;
  readonly timeouts: number;
  readonly infraErrors: number;
  readonly unverified: number;
  /** passes / judged (0 when nothing was judged: show NO_DATA). */
  readonly passRate: number;
  /** 95% Wilson interval of passRate. */
  readonly passRateLow: number;
  readonly passRateHigh: number;
  /** Mean reward over judged runs: pass 1, partial `partialReward`, fail and timeout 0 (0 when nothing was judged). */
  readonly expectedReward: number;
  /** Tasks with at least one judged run, and those whose first attempt passed. */
  readonly judgedTasks: number;
  readonly firstTryPasses: number;
  /** firstTryPasses / judgedTasks: a task retried after a failed first attempt, recorded or not, is not a first-try pass. */
  readonly firstTryPassRate: number;
  /** 95% Wilson interval of firstTryPassRate. */
  readonly firstTryPassRateLow: number;
  readonly firstTryPassRateHigh: number;
  /** Tasks among the runs, and those retried (an attempt after the first, or retries inside a run). */
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

/** Whether a run's outcome can be judged (infra errors and unverified runs teach nothing). */
export const isJudged = (r: Pick<RunRow, 'outcome'>): boolean => !JUDGED_OUT.has(r.outcome);

/**
 * Metrics of a set of runs. A retried bead is one task with several attempts: it counts once in
 * `tasks`, it is retried when any of its runs is an attempt after the first (or retried inside the
 * run), and it is a first-try pass only when a run with attempt 1 passed. A dispatcher that records
 * only a task's final attempt therefore gets the same rates as one that records every attempt.
 */
export function metricsOf(rows: readonly RunRow[], partialReward = DEFAULT_PARTIAL_REWARD): Metrics {
  const count = (o: string) => rows.filter((r) => r.outcome === o).length;
  const passes = count('pass');
  const partials = count('partial');
  const judged = rows.filter(isJudged).length;
  const tasks = new Map<string, { retried: boolean; judged: boolean; firstPassed: boolean }>();
  for (const r of rows) {
    const key = taskKey(r);
    const t = tasks.get(key) ?? { retried: false, judged: false, firstPassed: false };
    if (r.attempt > 1 || r.retries > 0) t.retried = true;
    if (isJudged(r)) t.judged = true;
    if (r.attempt <= 1 && r.outcome === 'pass') t.firstPassed = true;
    tasks.set(key, t);
  }
  let judgedTasks = 0;
  let firstTryPasses = 0;
  let retriedTasks = 0;
  for (const t of tasks.values()) {
    if (t.retried) retriedTasks++;
    if (t.judged) {
      judgedTasks++;
      if (t.firstPassed) firstTryPasses++;
    }
  }
  const [lo, hi] = wilsonInterval(passes, judged);
  const [ftLo, ftHi] = wilsonInterval(firstTryPasses, judgedTasks);
  const [rLo, rHi] = wilsonInterval(retriedTasks, tasks.size);
  const [tLo, tHi] = wilsonInterval(count('timeout'), rows.length);
  return {
    runs: rows.length,
    judged,
    passes,
    partials,
    fails: count('fail'),
    timeouts: count('timeout'),
    infraErrors: count('infra_error'),
    unverified: count('unverified'),
    passRate: judged > 0 ? passes / judged : 0,
    passRateLow: lo,
    passRateHigh: hi,
    expectedReward: judged > 0 ? (passes + partialReward * partials) / judged : 0,
    judgedTasks,
    firstTryPasses,
    firstTryPassRate: judgedTasks > 0 ? firstTryPasses / judgedTasks : 0,
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
export function groupBy<T = RunRow>(rows: readonly T[], key: (r: T) => string): Array<[string, T[]]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r) || '(none)';
    const list = m.get(k) ?? [];
    list.push(r);
    m.set(k, list);
  }
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
