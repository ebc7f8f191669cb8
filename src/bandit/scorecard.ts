import type { Observation } from './types.js';

/** Plain counts behind a scorecard; every field is additive so segments can be summed. */
export interface Counters {
  readonly runs: number;
  readonly passes: number;
  readonly partials: number;
  readonly fails: number;
  readonly timeouts: number;
  readonly infraErrors: number;
  /** Finished without verification; absent in counters stored before this field existed. */
  readonly unverified?: number;
  /** Runs with at least one retry, and the retries in them. */
  readonly retriedRuns: number;
  readonly retries: number;
  readonly durationSecondsSum: number;
  /** Runs that were a task's first attempt, and how many of those passed. */
  readonly firstAttempts: number;
  readonly firstAttemptPasses: number;
  /** Newest finish time seen, ms since the epoch (0 when none). */
  readonly lastFinishedAtMs: number;
}

export const EMPTY_COUNTERS: Counters = Object.freeze({
  runs: 0,
  passes: 0,
  partials: 0,
  fails: 0,
  timeouts: 0,
  infraErrors: 0,
  retriedRuns: 0,
  retries: 0,
  durationSecondsSum: 0,
  firstAttempts: 0,
  firstAttemptPasses: 0,
  lastFinishedAtMs: 0,
});

/** Counts one observed run. */
export function countRun(c: Counters, o: Observation): Counters {
  const first = o.attempt <= 1 ? 1 : 0;
  return {
    runs: c.runs + 1,
    passes: c.passes + (o.outcome === 'pass' ? 1 : 0),
    partials: c.partials + (o.outcome === 'partial' ? 1 : 0),
    fails: c.fails + (o.outcome === 'fail' ? 1 : 0),
    timeouts: c.timeouts + (o.outcome === 'timeout' ? 1 : 0),
    infraErrors: c.infraErrors + (o.outcome === 'infra_error' ? 1 : 0),
    unverified: (c.unverified ?? 0) + (o.outcome === 'unverified' ? 1 : 0),
    retriedRuns: c.retriedRuns + (o.retries > 0 ? 1 : 0),
    retries: c.retries + o.retries,
    durationSecondsSum: c.durationSecondsSum + o.durationSeconds,
    firstAttempts: c.firstAttempts + first,
    firstAttemptPasses: c.firstAttemptPasses + (first && o.outcome === 'pass' ? 1 : 0),
    lastFinishedAtMs: Math.max(c.lastFinishedAtMs, o.finishedAtMs),
  };
}

/** Rates derived from counters; each is 0 when its denominator is 0. */
export function rates(c: Counters): { passRate: number; retryRate: number; timeoutRate: number; meanDurationSeconds: number } {
  const judged = c.runs - c.infraErrors - (c.unverified ?? 0);
  return {
    passRate: judged > 0 ? c.passes / judged : 0,
    retryRate: c.runs > 0 ? c.retriedRuns / c.runs : 0,
    timeoutRate: c.runs > 0 ? c.timeouts / c.runs : 0,
    meanDurationSeconds: c.runs > 0 ? c.durationSecondsSum / c.runs : 0,
  };
}
