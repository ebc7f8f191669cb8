/**
 * `report trend`: rates per window, overall and per template, and the change points of each
 * template's, each task class's and the overall series (changepoint.ts).
 */
import { changePointsOfBins, DayBins, DEFAULT_CHANGE_POINT_OPTIONS, type ChangePoint, type DayBinsState } from './changepoint.js';
import { isJudged, MetricsTally, type Metrics, type MetricsTallyState } from './metrics.js';
import { TaskNumbers, TaskTable, type TaskTableState } from './tasks.js';
import { byString, rowsAsOf, taskKey, type RunRow } from './rows.js';

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

/**
 * The windowed series (overall and per template) of runs as they arrive, for one date and window
 * count: window i (0 the latest) is [asOf + 1 − (i + 1)·width, asOf + 1 − i·width), so a run
 * finished exactly at asOf is in the latest one. A window's metrics do not depend on the order its
 * runs came in (MetricsTally).
 */
export class TrendWindows {
  private readonly overall: MetricsTally[];
  private readonly templates = new Map<string, MetricsTally[]>();
  private readonly width: number;

  constructor(
    readonly asOfMs: number,
    readonly o: Pick<TrendOptions, 'windowDays' | 'windows'>,
    private readonly numbers = new TaskNumbers(),
  ) {
    this.width = o.windowDays * MS_PER_DAY;
    this.overall = this.empty();
  }

  private empty(): MetricsTally[] {
    return Array.from({ length: this.o.windows }, () => new MetricsTally(undefined, this.numbers));
  }

  /** Adds a run finished by the date; `task` is its task's number, when the caller has it. */
  add(r: RunRow, task = this.numbers.numberOf(taskKey(r))): void {
    const t = r.templateId || '(none)';
    let byWindow = this.templates.get(t);
    if (byWindow === undefined) this.templates.set(t, (byWindow = this.empty()));
    const i = Math.ceil((this.asOfMs + 1 - r.finishedAtMs) / this.width) - 1;
    if (i >= 0 && i < this.o.windows) {
      this.overall[i]!.add(r, task);
      byWindow[i]!.add(r, task);
    }
  }

  /** What these windows hold (TrendWindows.fromState makes them again). */
  state(): TrendWindowsState {
    return {
      asOfMs: this.asOfMs,
      o: { windowDays: this.o.windowDays, windows: this.o.windows },
      overall: this.overall.map((t) => t.state()),
      templates: [...this.templates].map(([k, ts]) => [k, ts.map((t) => t.state())]),
    };
  }

  static fromState(s: TrendWindowsState, numbers: TaskNumbers): TrendWindows {
    const w = new TrendWindows(s.asOfMs, s.o, numbers);
    w.overall.splice(0, w.overall.length, ...s.overall.map((t) => MetricsTally.fromState(t, numbers)));
    for (const [k, ts] of s.templates) w.templates.set(k, ts.map((t) => MetricsTally.fromState(t, numbers)));
    return w;
  }

  /** The series, overall and per template in byte order; windows starting before `firstRunMs` are partial. */
  series(firstRunMs: number): { overall: TrendSeries; byTemplate: TrendSeries[] } {
    const of = (scope: string, byWindow: readonly MetricsTally[]): TrendSeries => {
      const points: TrendPoint[] = [];
      for (let i = this.o.windows - 1; i >= 0; i--) {
        const endMs = this.asOfMs + 1 - i * this.width;
        const startMs = endMs - this.width;
        points.push({ startMs, endMs, partial: startMs < firstRunMs, ...byWindow[i]!.metrics() });
      }
      return { scope, points };
    };
    return {
      overall: of('overall', this.overall),
      byTemplate: [...this.templates.entries()].sort(([a], [b]) => byString(a, b)).map(([t, w]) => of(t, w)),
    };
  }
}

/**
 * The day-binned series one scope's metrics are tested on, kept up to date as runs arrive in any
 * order: judged runs passing; tasks retried (an attempt after the first, or retries inside a run), on
 * the day of the task's earliest run, so a run earlier than the task's first seen moves it.
 */
export class ScopeSeries {
  /** Per task: whether it was retried (bits) and the time of its earliest run (times). */
  private tasks = new TaskTable(true);

  constructor(
    readonly pass = new DayBins(),
    readonly retry = new DayBins(),
    private readonly numbers = new TaskNumbers(),
  ) {}

  /** Adds a run; `task` is its task's number, when the caller has it. */
  add(r: RunRow, task = this.numbers.numberOf(taskKey(r))): void {
    if (isJudged(r)) this.pass.add(r.finishedAtMs, r.outcome === 'pass');
    const retried = r.attempt > 1 || r.retries > 0;
    const slot = this.tasks.slot(task);
    const { bits, times } = this.tasks;
    if (this.tasks.inserted) {
      bits[slot] = retried ? 1 : 0;
      times![slot] = r.finishedAtMs;
      this.retry.add(r.finishedAtMs, retried);
    } else if (r.finishedAtMs < times![slot]! || (retried && bits[slot] === 0)) {
      this.retry.add(times![slot]!, bits[slot] === 1, -1);
      times![slot] = Math.min(times![slot]!, r.finishedAtMs);
      if (retried) bits[slot] = 1;
      this.retry.add(times![slot]!, bits[slot] === 1);
    }
  }

  get version(): number {
    return this.pass.version + this.retry.version;
  }

  /** What this series holds (ScopeSeries.fromState makes it again). */
  state(): ScopeSeriesState {
    return { pass: this.pass.state(), retry: this.retry.state(), tasks: this.tasks.state() };
  }

  static fromState(s: ScopeSeriesState, numbers: TaskNumbers): ScopeSeries {
    const series = new ScopeSeries(DayBins.fromState(s.pass), DayBins.fromState(s.retry), numbers);
    series.tasks = TaskTable.fromState(s.tasks);
    return series;
  }
}

export interface ScopeSeriesState {
  readonly pass: DayBinsState;
  readonly retry: DayBinsState;
  readonly tasks: TaskTableState;
}

export interface TrendWindowsState {
  readonly asOfMs: number;
  readonly o: Pick<TrendOptions, 'windowDays' | 'windows'>;
  readonly overall: readonly MetricsTallyState[];
  readonly templates: ReadonlyArray<readonly [string, readonly MetricsTallyState[]]>;
}

/** A scope's series and the change points last found in it (with the series' version and the options they were found with). */
interface ScopeState {
  readonly series: ScopeSeriesState;
  readonly found: { readonly version: number; readonly key: string; readonly changes: Change[] } | null;
}

export interface TrendScopesState {
  readonly overall: ScopeState;
  readonly templates: ReadonlyArray<readonly [string, ScopeState]>;
  readonly classes: ReadonlyArray<readonly [string, ScopeState]>;
}

const HIGHER_IS_BETTER: Record<ChangeMetric, boolean> = { pass_rate: true, retry_rate: false };

/**
 * The change points of one scope's series, for each tested metric. The scope's false-alarm rate
 * `alpha` is split evenly over the metrics (Bonferroni), so a scope with no change is flagged at
 * most `alpha` of the time.
 */
function changesOf(scopeKind: ScopeKind, scope: string, s: ScopeSeries, o: Pick<TrendOptions, 'minRuns' | 'alpha'>): Change[] {
  return CHANGE_METRICS.flatMap((metric) =>
    changePointsOfBins((metric === 'pass_rate' ? s.pass : s.retry).bins(), `${scopeKind}\u0000${scope}\u0000${metric}`, { minSide: o.minRuns, alpha: o.alpha / CHANGE_METRICS.length }).map(
      (c): Change => ({ ...c, scopeKind, scope, metric, direction: c.size > 0 === HIGHER_IS_BETTER[metric] ? 'improved' : 'regressed' }),
    ),
  );
}

/** {@link changesOf} one scope's runs. */
export function detectChanges(scopeKind: ScopeKind, scope: string, rows: readonly RunRow[], o: Pick<TrendOptions, 'minRuns' | 'alpha'>): Change[] {
  const s = new ScopeSeries();
  for (const r of rows) s.add(r);
  return changesOf(scopeKind, scope, s, o);
}

/**
 * Every scope's series (overall, per template, per task class) as runs arrive, and their change
 * points, each scope's found again only when its series changed: the dashboard keeps one of these.
 */
export class TrendScopes {
  /** @param numbers the task numbering its series share (its own by default) */
  constructor(
    private readonly numbers = new TaskNumbers(),
    private readonly overall = new ScopeSeries(undefined, undefined, numbers),
  ) {}
  private readonly templates = new Map<string, ScopeSeries>();
  private readonly classes = new Map<string, ScopeSeries>();
  private readonly found = new Map<ScopeSeries, { version: number; key: string; changes: Change[] }>();

  /** Adds a run; `task` is its task's number, when the caller has it. */
  add(r: RunRow, task = this.numbers.numberOf(taskKey(r))): void {
    this.overall.add(r, task);
    const into = (m: Map<string, ScopeSeries>, k: string) => {
      let s = m.get(k);
      if (s === undefined) m.set(k, (s = new ScopeSeries(undefined, undefined, this.numbers)));
      s.add(r, task);
    };
    // Scopes are named as groupBy names them.
    into(this.templates, r.templateId || '(none)');
    into(this.classes, r.taskClass || '(none)');
  }

  /** What these scopes hold, with the change points last found (TrendScopes.fromState makes them again). */
  state(): TrendScopesState {
    const of = (s: ScopeSeries): ScopeState => ({ series: s.state(), found: this.found.get(s) ?? null });
    return {
      overall: of(this.overall),
      templates: [...this.templates].map(([k, s]) => [k, of(s)]),
      classes: [...this.classes].map(([k, s]) => [k, of(s)]),
    };
  }

  static fromState(s: TrendScopesState, numbers: TaskNumbers): TrendScopes {
    const scopes = new TrendScopes(numbers, ScopeSeries.fromState(s.overall.series, numbers));
    const found = (series: ScopeSeries, f: ScopeState['found']) => {
      if (f !== null) scopes.found.set(series, f);
      return series;
    };
    found(scopes.overall, s.overall.found);
    for (const [k, x] of s.templates) scopes.templates.set(k, found(ScopeSeries.fromState(x.series, numbers), x.found));
    for (const [k, x] of s.classes) scopes.classes.set(k, found(ScopeSeries.fromState(x.series, numbers), x.found));
    return scopes;
  }

  /** Every change point: overall, then per template and per task class, each in byte order of its name. */
  changes(o: Pick<TrendOptions, 'minRuns' | 'alpha'>): Change[] {
    const key = `${o.minRuns}\u0000${o.alpha}`;
    const of = (kind: ScopeKind, scope: string, s: ScopeSeries) => {
      const hit = this.found.get(s);
      if (hit !== undefined && hit.version === s.version && hit.key === key) return hit.changes;
      const changes = changesOf(kind, scope, s, o);
      this.found.set(s, { version: s.version, key, changes });
      return changes;
    };
    const sorted = (m: Map<string, ScopeSeries>) => [...m.entries()].sort(([a], [b]) => byString(a, b));
    return [
      ...of('overall', 'overall', this.overall),
      ...sorted(this.templates).flatMap(([t, s]) => of('template', t, s)),
      ...sorted(this.classes).flatMap(([c, s]) => of('task_class', c, s)),
    ];
  }
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
  const scopes = new TrendScopes();
  const windows = new TrendWindows(asOfMs, o);
  for (const r of seen) {
    scopes.add(r);
    windows.add(r);
  }
  return { kind: 'trend', asOfMs, options: o, ...windows.series(firstRunMs), changes: scopes.changes(o) };
}
