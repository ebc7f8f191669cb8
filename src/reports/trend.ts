/**
 * `report trend`: rates per window, overall and per template, and the change points of each
 * template's, each task class's and the overall series (changepoint.ts).
 */
import { changePoints, DEFAULT_CHANGE_POINT_OPTIONS, type ChangePoint, type ChangePointOptions, type Outcome01 } from './changepoint.js';
import { groupBy, isJudged, metricsOf, type Metrics } from './metrics.js';
import { rowsAsOf, taskKey, type RunRow } from './rows.js';

const MS_PER_DAY = 86_400_000;

export interface TrendOptions {
  /** Window length in days (default 7: weekly). */
  readonly windowDays: number;
  /** Windows shown, ending at asOf (default 8). */
  readonly windows: number;
  /** Fewest outcomes on each side of a change point (default 10). */
  readonly minRuns: number;
  /** False-alarm rate per scope and report, split evenly over the metrics tested (default 0.05). */
  readonly alpha: number;
}

export const DEFAULT_TREND_OPTIONS: TrendOptions = Object.freeze({ windowDays: 7, windows: 8, minRuns: DEFAULT_CHANGE_POINT_OPTIONS.minSide, alpha: 0.05 });

export interface TrendPoint extends Metrics {
  /** Window [startMs, endMs). */
  readonly startMs: number;
  readonly endMs: number;
  /** True when the window starts before the log's first run: part of it had no chance of data. */
  readonly partial: boolean;
}

/** The metrics the detector tests: the pass rate over judged runs, the retry rate over tasks. */
export type ChangeMetric = 'pass_rate' | 'retry_rate';
export const CHANGE_METRICS: readonly ChangeMetric[] = ['pass_rate', 'retry_rate'];

export type ScopeKind = 'overall' | 'template' | 'task_class';

/** A change point in one scope's series of one metric. */
export interface Change extends ChangePoint {
  readonly scopeKind: ScopeKind;
  /** 'overall', a template id or a task class. */
  readonly scope: string;
  readonly metric: ChangeMetric;
  readonly direction: 'improved' | 'regressed';
}

export interface TrendSeries {
  /** 'overall' or a template id. */
  readonly scope: string;
  readonly points: readonly TrendPoint[];
}

export interface TrendReport {
  readonly kind: 'trend';
  readonly asOfMs: number;
  readonly options: TrendOptions;
  readonly overall: TrendSeries;
  readonly byTemplate: readonly TrendSeries[];
  /** Every change point found, by scope kind, scope, metric and date. */
  readonly changes: readonly Change[];
}

function series(scope: string, rows: readonly RunRow[], asOfMs: number, o: TrendOptions, firstRunMs: number): TrendSeries {
  const width = o.windowDays * MS_PER_DAY;
  // Windows end just after asOf so a run finished exactly at asOf is in the latest one: window i
  // (0 the latest) is [asOf + 1 − (i + 1)·width, asOf + 1 − i·width). Rows go to their window in one
  // pass, keeping their order.
  const inWindow: RunRow[][] = Array.from({ length: o.windows }, () => []);
  for (const r of rows) {
    const i = Math.ceil((asOfMs + 1 - r.finishedAtMs) / width) - 1;
    if (i >= 0 && i < o.windows) inWindow[i]!.push(r);
  }
  const points: TrendPoint[] = [];
  for (let i = o.windows - 1; i >= 0; i--) {
    const endMs = asOfMs + 1 - i * width;
    const startMs = endMs - width;
    const partial = startMs < firstRunMs;
    points.push({ startMs, endMs, partial, ...metricsOf(inWindow[i]!) });
  }
  return { scope, points };
}

/** The yes/no series a metric is tested on: judged runs passing; tasks (at their first run) retried. */
export function outcomeSeries(rows: readonly RunRow[], metric: ChangeMetric): Outcome01[] {
  if (metric === 'pass_rate') return rows.filter(isJudged).map((r) => ({ atMs: r.finishedAtMs, success: r.outcome === 'pass' }));
  const tasks = new Map<string, { atMs: number; retried: boolean }>();
  for (const r of rows) {
    const key = taskKey(r);
    let t = tasks.get(key);
    if (t === undefined) tasks.set(key, (t = { atMs: r.finishedAtMs, retried: false }));
    else if (r.finishedAtMs < t.atMs) t.atMs = r.finishedAtMs;
    if (r.attempt > 1 || r.retries > 0) t.retried = true;
  }
  return [...tasks.values()].map((t) => ({ atMs: t.atMs, success: t.retried }));
}

const HIGHER_IS_BETTER: Record<ChangeMetric, boolean> = { pass_rate: true, retry_rate: false };

/**
 * The change points of one scope's runs, for each tested metric. The scope's false-alarm rate
 * `alpha` is split evenly over the metrics (Bonferroni), so a scope with no change is flagged at
 * most `alpha` of the time.
 */
export function detectChanges(scopeKind: ScopeKind, scope: string, rows: readonly RunRow[], o: Pick<TrendOptions, 'minRuns' | 'alpha'>): Change[] {
  return CHANGE_METRICS.flatMap((metric) =>
    changePoints(outcomeSeries(rows, metric), `${scopeKind}\u0000${scope}\u0000${metric}`, { minSide: o.minRuns, alpha: o.alpha / CHANGE_METRICS.length }).map(
      (c): Change => ({ ...c, scopeKind, scope, metric, direction: c.size > 0 === HIGHER_IS_BETTER[metric] ? 'improved' : 'regressed' }),
    ),
  );
}

/** The latest change per scope and metric that is dated on or after `sinceMs`: what is new. */
export function recentChanges(changes: readonly Change[], sinceMs: number): Change[] {
  const latest = new Map<string, Change>();
  for (const c of changes) {
    const key = `${c.scopeKind}\u0000${c.scope}\u0000${c.metric}`;
    const prev = latest.get(key);
    if (prev === undefined || c.atMs > prev.atMs) latest.set(key, c);
  }
  return [...latest.values()].filter((c) => c.atMs >= sinceMs);
}

/**
 * Trend of every run finished by `asOfMs`.
 * @param asOfMs end of the latest window, ms since the epoch
 */
export function trendReport(rows: readonly RunRow[], asOfMs: number, options: Partial<TrendOptions> = {}): TrendReport {
  const o: TrendOptions = { ...DEFAULT_TREND_OPTIONS, ...options };
  const seen = rowsAsOf(rows, asOfMs);
  let firstRunMs = asOfMs;
  for (const r of seen) if (r.finishedAtMs < firstRunMs) firstRunMs = r.finishedAtMs;
  const byTemplateRows = groupBy(seen, (r) => r.templateId);
  const changes = [
    ...detectChanges('overall', 'overall', seen, o),
    ...byTemplateRows.flatMap(([t, rs]) => detectChanges('template', t, rs, o)),
    ...groupBy(seen, (r) => r.taskClass).flatMap(([c, rs]) => detectChanges('task_class', c, rs, o)),
  ];
  return {
    kind: 'trend',
    asOfMs,
    options: o,
    overall: series('overall', seen, asOfMs, o, firstRunMs),
    byTemplate: byTemplateRows.map(([t, rs]) => series(t, rs, asOfMs, o, firstRunMs)),
    changes,
  };
}
