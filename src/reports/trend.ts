/** `report trend`: rates per window, overall and per template, with a change detector. */
import { groupBy, metricsOf, type Metrics } from './metrics.js';
import { rowsAsOf, type RunRow } from './rows.js';
import { twoProportionTest } from './stats.js';

const MS_PER_DAY = 86_400_000;

export interface TrendOptions {
  /** Window length in days (default 7: weekly). */
  readonly windowDays: number;
  /** Windows shown, ending at asOf (default 8). */
  readonly windows: number;
  /** Windows before the latest pooled as the change detector's baseline (default 4). */
  readonly baselineWindows: number;
  /** Fewest judged runs on each side before a change can be flagged (default 8). */
  readonly minRuns: number;
  /** Two-sided significance level of the change detector (default 0.05). */
  readonly alpha: number;
}

export const DEFAULT_TREND_OPTIONS: TrendOptions = Object.freeze({ windowDays: 7, windows: 8, baselineWindows: 4, minRuns: 8, alpha: 0.05 });

export interface TrendPoint extends Metrics {
  /** Window [startMs, endMs). */
  readonly startMs: number;
  readonly endMs: number;
}

export type ChangeMetric = 'pass_rate' | 'first_try_pass_rate' | 'retry_rate' | 'timeout_rate';

/** A significant difference between the latest window and the baseline before it. */
export interface Change {
  readonly scope: string;
  readonly metric: ChangeMetric;
  readonly direction: 'improved' | 'regressed';
  readonly recentRate: number;
  readonly recentN: number;
  readonly baselineRate: number;
  readonly baselineN: number;
  readonly z: number;
  readonly pValue: number;
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
  readonly changes: readonly Change[];
}

function series(scope: string, rows: readonly RunRow[], asOfMs: number, o: TrendOptions): TrendSeries {
  const width = o.windowDays * MS_PER_DAY;
  const points: TrendPoint[] = [];
  for (let i = o.windows - 1; i >= 0; i--) {
    // Windows end just after asOf so a run finished exactly at asOf is in the latest one.
    const endMs = asOfMs + 1 - i * width;
    const startMs = endMs - width;
    points.push({ startMs, endMs, ...metricsOf(rows.filter((r) => r.finishedAtMs >= startMs && r.finishedAtMs < endMs)) });
  }
  return { scope, points };
}

/** Success counts and trials of a metric, and whether higher is better. */
const METRICS: ReadonlyArray<{ metric: ChangeMetric; x: (m: Metrics) => number; n: (m: Metrics) => number; higherIsBetter: boolean }> = [
  { metric: 'pass_rate', x: (m) => m.passes, n: (m) => m.judged, higherIsBetter: true },
  { metric: 'first_try_pass_rate', x: (m) => m.firstTryPasses, n: (m) => m.firstTryTasks, higherIsBetter: true },
  { metric: 'retry_rate', x: (m) => m.retriedTasks, n: (m) => m.tasks, higherIsBetter: false },
  { metric: 'timeout_rate', x: (m) => m.timeouts, n: (m) => m.runs, higherIsBetter: false },
];

/**
 * Change detector: the latest window against the pooled `baselineWindows` before it, by a
 * two-proportion z-test per metric. Flags only with at least `minRuns` on each side and
 * p < alpha. Several metrics and templates are tested at once, so an occasional false flag at
 * the nominal rate is expected; the weekly summary shows the evidence with every flag.
 */
export function detectChanges(s: TrendSeries, o: TrendOptions): Change[] {
  const pts = s.points;
  if (pts.length < 2) return [];
  const recent = pts[pts.length - 1]!;
  const base = pts.slice(Math.max(0, pts.length - 1 - o.baselineWindows), pts.length - 1);
  const out: Change[] = [];
  for (const m of METRICS) {
    const x1 = m.x(recent);
    const n1 = m.n(recent);
    const x2 = base.reduce((a, p) => a + m.x(p), 0);
    const n2 = base.reduce((a, p) => a + m.n(p), 0);
    if (n1 < o.minRuns || n2 < o.minRuns) continue;
    const { z, pValue } = twoProportionTest(x1, n1, x2, n2);
    if (!(pValue < o.alpha)) continue;
    const up = z > 0;
    out.push({
      scope: s.scope,
      metric: m.metric,
      direction: up === m.higherIsBetter ? 'improved' : 'regressed',
      recentRate: x1 / n1,
      recentN: n1,
      baselineRate: x2 / n2,
      baselineN: n2,
      z,
      pValue,
    });
  }
  return out;
}

/**
 * Trend of every run finished by `asOfMs`.
 * @param asOfMs end of the latest window, ms since the epoch
 */
export function trendReport(rows: readonly RunRow[], asOfMs: number, options: Partial<TrendOptions> = {}): TrendReport {
  const o: TrendOptions = { ...DEFAULT_TREND_OPTIONS, ...options };
  const seen = rowsAsOf(rows, asOfMs);
  const overall = series('overall', seen, asOfMs, o);
  const byTemplate = groupBy(seen, (r) => r.templateId).map(([t, rs]) => series(t, rs, asOfMs, o));
  const changes = [overall, ...byTemplate].flatMap((s) => detectChanges(s, o));
  return { kind: 'trend', asOfMs, options: o, overall, byTemplate, changes };
}
