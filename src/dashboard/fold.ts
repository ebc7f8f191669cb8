/**
 * What the dashboard keeps of the log between builds: each event is folded in once, so a build after
 * k new events reads and decodes k events, not the whole log. Folding a log in any number of pieces
 * gives the state one pass over it gives (test/dashboard/fold.test.ts).
 *
 * The fold keeps every observation as a report row (a restored fold: as its snapshot's columns,
 * until a view needs the rows themselves; the dashboard's date filters them when a view is built)
 * and every decision in the outcome join (filtered by time the same way). Weekly traffic is
 * summed as decisions arrive, for those logged by the fold's date; one logged after it waits in
 * `later`. The date may move forward (the dashboard's date is now) until it passes a waiting decision
 * (a clock behind another writer's): then the log is folded again from the start rather than summed
 * out of log order, so the traffic's sums are always the ones one pass gives, bit for bit.
 */
import type { LoggedEvent, PolicyConfig } from '../bandit/index.js';
import { decisionJoiner, JOINER_FIELDS, type DecisionJoiner, type JoinerFrom, type LogJoin } from '../ope/index.js';
import { LiftFold, type LiftEstimate, type LiftFoldState, type LoggedDecision } from '../ope/index.js';
import {
  byString,
  FailureOccurrences,
  FailureTally,
  MetricsTally,
  RangeTallies,
  runRowOf,
  taskKey,
  TaskNumbers,
  TrendScopes,
  TrendWindows,
  type FailureOccurrence,
  type LiftSection,
  type FailureOccurrencesState,
  type FailureTallyState,
  type Metrics,
  type MetricsTallyState,
  type RangeTalliesState,
  type RunRow,
  type TrendOptions,
  type TrendScopesState,
  type TrendWindowsState,
  type TemplateRow,
} from '../reports/index.js';
import type { DashboardSource } from './source.js';

const MS_PER_DAY = 86_400_000;
const MS_PER_WEEK = 7 * MS_PER_DAY;
/** Most distinct strings kept in one copy (failure reasons can all differ). */
const MAX_INTERNED = 100_000;
/** Events read per page: the server answers other requests between pages. */
const PAGE = 500;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface TrafficWeek {
  readonly startMs: number;
  readonly decisions: number;
  readonly byTemplate: ReadonlyArray<{ readonly templateId: string; readonly chosen: number; readonly share: number; readonly meanProbBest: number; readonly offered: number }>;
}

/**
 * Run metrics tallied as rows arrive, for the views that show them per template and per segment (the
 * totals, the lineage, the matrix): reading them costs O(templates × segments), not a pass over every
 * run. A tally gives exactly metricsOf of the same rows in any order (src/reports/metrics.ts).
 */
export class RowTallies {
  /** The trend's windows for the last date and window count asked for. */
  private windows: TrendWindows | undefined;
  /** The scoreboard's ranges (start, end, spark bins) for the last date asked for. */
  private ranges: RangeTallies | undefined;
  private readonly templates = new Map<string, MetricsTally>();
  /** Per task class ('(none)' for none, as groupBy names it), then template. */
  private readonly classes = new Map<string, Map<string, MetricsTally>>();
  /** Per task class and repository ('\u0000'-joined), its runs, then template. */
  private readonly pairs = new Map<string, { runs: number; byTemplate: Map<string, MetricsTally> }>();

  /**
   * @param numbers the task numbering every tally here shares: a run's task key is looked up once
   * @param added every row added, for windows and ranges asked for a new date (by default the tallies keep a list of them)
   */
  constructor(
    private readonly numbers = new TaskNumbers(),
    readonly all = new MetricsTally(undefined, numbers),
    /** The trend's day-binned series per scope, whose change points are found again only when they change. */
    readonly trend = new TrendScopes(numbers),
    readonly failures = new FailureTally(),
    added?: () => readonly RunRow[],
  ) {
    if (added === undefined) {
      const kept: RunRow[] = [];
      this.kept = kept;
      this.added = () => kept;
    } else this.added = added;
  }

  private readonly added: () => readonly RunRow[];
  private readonly kept: RunRow[] | undefined;

  add(r: RunRow): void {
    const template = r.templateId || '(none)';
    const task = this.numbers.numberOf(taskKey(r));
    const into = (m: Map<string, MetricsTally>) => {
      let t = m.get(template);
      if (t === undefined) m.set(template, (t = new MetricsTally(undefined, this.numbers)));
      t.add(r, task);
    };
    this.kept?.push(r);
    this.all.add(r, task);
    this.trend.add(r, task);
    this.failures.add(r);
    this.windows?.add(r, task);
    this.ranges?.add(r, task);
    into(this.templates);
    const c = r.taskClass || '(none)';
    let byClass = this.classes.get(c);
    if (byClass === undefined) this.classes.set(c, (byClass = new Map()));
    into(byClass);
    const p = `${r.taskClass}\u0000${r.repo}`;
    let pair = this.pairs.get(p);
    if (pair === undefined) this.pairs.set(p, (pair = { runs: 0, byTemplate: new Map() }));
    pair.runs++;
    into(pair.byTemplate);
  }

  /** What these tallies hold, each part made when asked for (the snapshot takes one per turn). */
  stateParts(): Array<readonly [keyof RowTalliesState, () => unknown]> {
    const tallies = (m: ReadonlyMap<string, MetricsTally>) => [...m].map(([k, t]) => [k, t.state()] as const);
    return [
      ['all', () => this.all.state()],
      ['trend', () => this.trend.state()],
      ['failures', () => this.failures.state()],
      ['windows', () => this.windows?.state() ?? null],
      ['ranges', () => this.ranges?.state() ?? null],
      ['templates', () => tallies(this.templates)],
      ['classes', () => [...this.classes].map(([c, m]) => [c, tallies(m)] as const)],
      ['pairs', () => [...this.pairs].map(([k, p]) => [k, p.runs, tallies(p.byTemplate)] as const)],
      // The task keys the tallies' numbers stand for (taken last: every number above is in it).
      ['tasks', () => [...this.numbers.all]],
    ];
  }

  /** The tallies a state was taken of, `added` giving the rows they tallied (in any order); a part per turn. */
  static async fromState(s: RowTalliesState, added: () => readonly RunRow[]): Promise<RowTallies> {
    const given = s.tasks;
    const numbers = new TaskNumbers(typeof given === 'function' ? given : [...given]);
    const all = MetricsTally.fromState(s.all, numbers);
    await nextTurn();
    const trend = TrendScopes.fromState(s.trend, numbers);
    await nextTurn();
    const t = new RowTallies(numbers, all, trend, FailureTally.fromState(s.failures), added);
    const tallies = (xs: RowTalliesState['templates']) => new Map(xs.map(([k, x]) => [k, MetricsTally.fromState(x, numbers)]));
    if (s.windows !== null) t.windows = TrendWindows.fromState(s.windows, numbers);
    if (s.ranges !== null) t.ranges = RangeTallies.fromState(s.ranges, numbers);
    await nextTurn();
    for (const [k, x] of tallies(s.templates)) t.templates.set(k, x);
    await nextTurn();
    for (const [c, xs] of s.classes) t.classes.set(c, tallies(xs));
    await nextTurn();
    for (const [k, runs, xs] of s.pairs) t.pairs.set(k, { runs, byTemplate: tallies(xs) });
    return t;
  }

  /** The trend's windows ending at `asOfMs`: kept up to date while the date and count stay the same, else filled again from every row. */
  trendWindows(asOfMs: number, o: Pick<TrendOptions, 'windowDays' | 'windows'>): TrendWindows {
    const w = this.windows;
    if (w !== undefined && w.asOfMs === asOfMs && w.o.windowDays === o.windowDays && w.o.windows === o.windows) return w;
    const fresh = new TrendWindows(asOfMs, o, this.numbers);
    for (const r of this.added()) fresh.add(r, this.numbers.numberOf(taskKey(r)));
    return (this.windows = fresh);
  }

  /** The metrics of the rows finished in each of the scoreboard's ranges: kept up to date while the ranges stay the same, else tallied again from every row. */
  rangeMetrics(ranges: ReadonlyArray<readonly [number, number]>): Metrics[] {
    if (this.ranges?.isOf(ranges) !== true) {
      const fresh = new RangeTallies(ranges, this.numbers);
      for (const r of this.added()) fresh.add(r, this.numbers.numberOf(taskKey(r)));
      this.ranges = fresh;
    }
    return this.ranges.metrics();
  }

  /** A template's metrics over every run. */
  template(templateId: string): Metrics {
    return (this.templates.get(templateId) ?? EMPTY).metrics();
  }

  /** Each task class (in groupBy's order and naming) with its templates' metrics. */
  byTaskClass(): Array<[string, ReadonlyMap<string, Metrics>]> {
    return [...this.classes.entries()].sort(([a], [b]) => byString(a, b)).map(([c, m]) => [c, metricsOf(m)]);
  }

  /** The `most` (task class, repository) pairs with the most runs, in key order, with their templates' metrics. */
  busiestPairs(most: number): Array<[string, ReadonlyMap<string, Metrics>]> {
    return [...this.pairs.entries()]
      .sort(([a, x], [b, y]) => y.runs - x.runs || byString(a, b))
      .slice(0, most)
      .sort(([a], [b]) => byString(a, b))
      .map(([k, p]) => [k, metricsOf(p.byTemplate)]);
  }
}

/** What RowTallies holds, for a snapshot (RowTallies.stateParts). */
export interface RowTalliesState {
  readonly all: MetricsTallyState;
  readonly trend: TrendScopesState;
  readonly failures: FailureTallyState;
  readonly windows: TrendWindowsState | null;
  readonly ranges: RangeTalliesState | null;
  readonly templates: ReadonlyArray<readonly [string, MetricsTallyState]>;
  readonly classes: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, MetricsTallyState]>]>;
  readonly pairs: ReadonlyArray<readonly [string, number, ReadonlyArray<readonly [string, MetricsTallyState]>]>;
  /** Or a function that gives them (a restored fold's, decoded when first needed). */
  readonly tasks: readonly string[] | (() => readonly string[]);
}

const EMPTY = new MetricsTally();
const metricsOf = (m: ReadonlyMap<string, MetricsTally>): ReadonlyMap<string, Metrics> => new Map([...m.entries()].sort(([a], [b]) => byString(a, b)).map(([k, t]) => [k, t.metrics()]));

/** The log as the views read it, as of one date. */
export interface Scan {
  /** The joined decisions logged by the date (made when first asked for), and the join's counts. */
  readonly decisions: () => LogJoin['decisions'];
  readonly joined: Pick<LogJoin, 'unobserved' | 'invalid'>;
  /** Made when first asked for (a restored fold keeps its rows as columns until then). */
  readonly rows: () => readonly RunRow[];
  /** When the first of them finished (Infinity without any). */
  readonly firstRunMs: number;
  /** The rows' metrics per template and segment. */
  readonly tallies: RowTallies;
  readonly traffic: TrafficWeek[];
}

/** A row's fields (the type makes the list complete), in runRowOf's order: a snapshot keeps one column of each. */
const ROW_FIELDS = Object.keys({
  runId: 0, templateId: 0, taskClass: 0, repo: 0, taskId: 0, attempt: 0, outcome: 0, retries: 0, durationSeconds: 0, failureReason: 0, finishedAtMs: 0, agent: 0, model: 0,
} satisfies Record<keyof RunRow, 0>) as Array<keyof RunRow>;

/** Row `i` of a fold's columns (in ROW_FIELDS' order). */
function rowAt(c: ReadonlyArray<ArrayLike<unknown>>, i: number): RunRow {
  // A literal of a fixed shape (the one runRowOf makes), not one made key by key.
  const [runId, templateId, taskClass, repo, taskId, attempt, outcome, retries, durationSeconds, failureReason, finishedAtMs, agent, model] = c.map((col) => col[i]);
  return { runId, templateId, taskClass, repo, taskId, attempt, outcome, retries, durationSeconds, failureReason, finishedAtMs, agent, model } as RunRow;
}

/** The tallies' parts in a snapshot (the type makes the list complete). */
const TALLY_PARTS = Object.keys({ all: 0, trend: 0, failures: 0, windows: 0, ranges: 0, templates: 0, classes: 0, pairs: 0, tasks: 0 } satisfies Record<keyof RowTalliesState, 0>);

type Week = { decisions: number; byTemplate: Map<string, { chosen: number; probBest: number; offered: number }> };

/** What a fold holds of the log besides its columns, for a snapshot: the weekly traffic and its position. */
export interface FoldMeta {
  readonly head: number;
  /** When the event at `head` was logged: tells this log from another of the same length. */
  readonly headAtMs: number;
  readonly asOfMs: number;
  readonly weeks: ReadonlyMap<number, Week>;
}

/**
 * What a fold holds of the log, for a snapshot: its small part, and the rest as named parts (decoded,
 * for restore): the rows column by column (`rows.<field>`: a million rows serialise far smaller and
 * faster as a few arrays than as objects), the decision join, the decisions waiting for the date,
 * the strings kept once, the tallies (`tallies.<part>`) and the task keys they number.
 */
export interface FoldState {
  readonly state: FoldMeta;
  readonly parts: Readonly<Record<string, unknown>>;
}

/** A part of a fold's snapshot: made when asked for (the snapshot takes one per turn of the event loop). */
export interface SnapshotPart {
  readonly name: string;
  value(): unknown;
}

export class LogFold {
  /** Sequence number of the last event folded in, and when it was logged. */
  private head = 0;
  private headAtMs = 0;
  /**
   * A restored fold's rows, column by column (each column decoded when first read), made into
   * objects only when a view needs the rows themselves: until then they come before `rows`.
   */
  private restored: { readonly columns: ReadonlyArray<() => ArrayLike<unknown>>; readonly n: number } | undefined;
  /** The rows in log order (after the restored ones, while those are columns). */
  private rows: RunRow[] = [];
  /** The rows finished by the date are tallied; those finished after it wait in `laterRows` (a tally is the same in any order). */
  private tallies = new RowTallies(undefined, undefined, undefined, undefined, () => this.talliedRows());
  private laterRows: RunRow[] = [];
  /** Of a restored fold's rows (columns), those finished after the date, by place: made into `laterRows` when the date moves. */
  private laterRestored: number[] = [];
  /** When the first row finished by the date finished (Infinity without one). */
  private firstRunMs = Infinity;
  private readonly weeks = new Map<number, Week>();
  /** Decisions logged after `asOfMs`, in log order: not in `weeks` yet. */
  private readonly later: Array<{ atMs: number }> = [];
  private readonly joiner: DecisionJoiner;
  // One copy of each repeated string (template, task class, repository, outcome, agent, model,
  // failure reason): a million rows are otherwise mostly copies, and the reports' maps hash them again and again.
  private readonly strings = new Map<string, string>();

  /** The scoreboard's failure occurrences, extended while the rows only grow (FailureOccurrences). */
  private occurrences = new FailureOccurrences();
  /** Rows (in log order) the occurrences have been given; false when the date tallied rows among them out of log order. */
  private occurrencesAt = 0;
  private occurrencesInOrder = true;
  /** The last lift estimated, to extend when the next one's decisions begin with its. */
  private lift: LiftFold | undefined;
  /** The last lift section, its window and the decision join's version it was made at: given again while they stay. */
  private liftKept: { readonly version: number; readonly sinceMs: number; readonly untilMs: number; readonly section: LiftSection } | undefined;

  /** @param asOfMs the dashboard's date: runs finished and decisions logged after it are left out */
  constructor(
    policy: PolicyConfig,
    private asOfMs: number,
    joined?: JoinerFrom,
  ) {
    this.joiner = decisionJoiner(policy, joined);
  }

  /**
   * The fold's state for a snapshot: its small part now, the rest in parts made when asked for (the
   * rows, decisions and tallies they read must not change meanwhile: nothing may be folded in until
   * the last is made).
   */
  snapshotParts(): { state: FoldMeta; parts: SnapshotPart[] } {
    const rs = this.rows;
    const restored = this.restored;
    const column = (k: number, field: keyof RunRow): ArrayLike<unknown> => {
      const tail = rs.map((r): unknown => r[field]);
      if (restored === undefined) return tail;
      const head = restored.columns[k]!();
      return tail.length === 0 ? head : [...Array.from(head), ...tail];
    };
    const weeks = new Map([...this.weeks].map(([startMs, w]) => [startMs, { decisions: w.decisions, byTemplate: new Map([...w.byTemplate].map(([k, t]) => [k, { ...t }])) }]));
    return {
      state: { head: this.head, headAtMs: this.headAtMs, asOfMs: this.asOfMs, weeks },
      parts: [
        ...ROW_FIELDS.map((field, k): SnapshotPart => ({ name: `rows.${field}`, value: () => column(k, field) })),
        // The decision join a column per part (each is a pass over its 500,000 decisions at a million events).
        ...JOINER_FIELDS.map((k): SnapshotPart => ({ name: `joiner.${k}`, value: () => this.joiner.stateOf(k) })),
        { name: 'later', value: () => this.later.map((d) => d.atMs) },
        { name: 'strings', value: () => [...this.strings.keys()] },
        ...this.tallies.stateParts().map(([name, value]): SnapshotPart => ({ name: `tallies.${name}`, value })),
        { name: 'occurrences', value: () => this.occurrences.state() },
        // The lift's terms, so a restored fold extends them rather than estimating the window again.
        { name: 'lift', value: () => this.lift?.state() ?? null },
        // The window the last section was made for, when the decision join has not moved since.
        { name: 'liftKept', value: () => (this.liftKept !== undefined && this.liftKept.version === this.joiner.version ? { sinceMs: this.liftKept.sinceMs, untilMs: this.liftKept.untilMs, decisions: this.liftKept.section.decisions } : null) },
      ],
    };
  }

  /** Parts of a snapshot a restored fold reads only when it needs them (LogFold.restore takes them as functions): the row columns but their times. */
  static readsLater(name: string): boolean {
    return (name.startsWith('rows.') && name !== 'rows.finishedAtMs') || name === 'tallies.tasks' || (name.startsWith('joiner.') && name !== 'joiner.invalid');
  }

  /**
   * The fold a snapshot's state was taken of, with its tallies as they were (no row tallied again)
   * and its rows kept as the snapshot's columns; the server answers between its steps. A part may
   * be its value or a function that decodes it (LogFold.readsLater).
   */
  static async restore(policy: PolicyConfig, { state: s, parts }: FoldState): Promise<LogFold> {
    /** A part, or a function that decodes it when it was left to be read later (read by whoever keeps it). */
    const given = (name: string): unknown => {
      if (!(name in parts)) throw new RangeError(`the snapshot has no part ${name}`);
      return parts[name];
    };
    const part = <T>(name: string): T => {
      const v = given(name);
      return (typeof v === 'function' ? (v as () => unknown)() : v) as T;
    };
    const fold = new LogFold(policy, s.asOfMs, Object.fromEntries(JOINER_FIELDS.map((k) => [k, given(`joiner.${k}`)])) as unknown as JoinerFrom);
    fold.head = s.head;
    fold.headAtMs = s.headAtMs;
    for (const [startMs, w] of s.weeks) fold.weeks.set(startMs, w);
    for (const atMs of part<number[]>('later')) fold.later.push({ atMs });
    for (const x of part<string[]>('strings')) fold.strings.set(x, x);
    const finished = part<ArrayLike<number>>('rows.finishedAtMs');
    const n = finished.length;
    const columns = ROW_FIELDS.map((k) => {
      let v: ArrayLike<unknown> | undefined;
      return () => {
        v ??= part<ArrayLike<unknown>>(`rows.${k}`);
        if (v.length !== n) throw new RangeError("the snapshot's row columns differ in length");
        return v;
      };
    });
    fold.restored = { columns, n };
    let tallied = 0;
    const later: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = finished[i]!;
      if (t <= s.asOfMs) {
        tallied++;
        if (t < fold.firstRunMs) fold.firstRunMs = t;
      } else later.push(i);
    }
    fold.laterRestored = later;
    await nextTurn();
    const tallies = Object.fromEntries(TALLY_PARTS.map((k) => [k, k === 'tasks' ? given('tallies.tasks') : part(`tallies.${k}`)])) as unknown as RowTalliesState;
    fold.tallies = await RowTallies.fromState(tallies, () => fold.talliedRows());
    // The scoreboard's occurrences were last made of the rows finished by the fold's date.
    const occurrences = part<FailureOccurrencesState>('occurrences');
    if (occurrences.seen === tallied) {
      fold.occurrences = FailureOccurrences.fromState(occurrences);
      fold.occurrencesAt = n;
    } else fold.occurrencesInOrder = false;
    const lift = part<LiftFoldState | null>('lift');
    if (lift !== null) fold.lift = LiftFold.fromState(lift);
    const kept = part<{ sinceMs: number; untilMs: number; decisions: number } | null>('liftKept');
    if (kept !== null && (kept.decisions === 0 || kept.decisions === fold.lift?.size)) {
      const section = { decisions: kept.decisions, estimate: kept.decisions === 0 ? null : fold.lift!.estimate() };
      fold.liftKept = { version: fold.joiner.version, sinceMs: kept.sinceMs, untilMs: kept.untilMs, section };
    }
    return fold;
  }

  /** Every row in log order, as objects (a restored fold's columns made into rows once). */
  private allRows(): RunRow[] {
    const r = this.restored;
    if (r !== undefined) {
      const decoded = r.columns.map((c) => c());
      const made: RunRow[] = [];
      for (let i = 0; i < r.n; i++) made.push(rowAt(decoded, i));
      this.rows = made.concat(this.rows);
      this.laterRows = [...this.laterRestored.map((i) => made[i]!), ...this.laterRows];
      this.laterRestored = [];
      this.restored = undefined;
    }
    return this.rows;
  }

  /** The rows finished by the date, in log order. */
  private talliedRows(): readonly RunRow[] {
    const rows = this.allRows();
    return this.laterRows.length === 0 && this.laterRestored.length === 0 ? rows : rows.filter((r) => r.finishedAtMs <= this.asOfMs);
  }

  /** The rows finished after the date, as objects (in log order). */
  private waitingRows(): RunRow[] {
    if (this.laterRestored.length > 0) {
      const decoded = this.restored!.columns.map((c) => c());
      this.laterRows = [...this.laterRestored.map((i) => rowAt(decoded, i)), ...this.laterRows];
      this.laterRestored = [];
    }
    return this.laterRows;
  }

  /** Sequence number of the last event folded in. */
  get foldedHead(): number {
    return this.head;
  }

  /**
   * Moves the dashboard's date to `asOfMs`.
   * @returns false when this fold cannot serve it (an earlier date, or one past a decision it left
   * out): fold the log again
   */
  moveTo(asOfMs: number): boolean {
    if (asOfMs < this.asOfMs || this.later.some((d) => d.atMs <= asOfMs)) return false;
    if (asOfMs === this.asOfMs) return true;
    this.asOfMs = asOfMs;
    const waiting: RunRow[] = [];
    for (const r of this.waitingRows()) {
      if (r.finishedAtMs <= asOfMs) {
        this.tallies.add(r);
        this.firstRunMs = Math.min(this.firstRunMs, r.finishedAtMs);
        // Now among the rows finished by the date, out of log order: the occurrences are made again.
        this.occurrencesInOrder = false;
      } else waiting.push(r);
    }
    this.laterRows = waiting;
    return true;
  }

  /** Folds in the events after the last one folded, up to `head` or the log's end, a page at a time. */
  async catchUp(source: Pick<DashboardSource, 'eventPage'>, head: number, pageSize = PAGE): Promise<void> {
    while (this.head < head) {
      const page = await source.eventPage(this.head + 1, pageSize);
      if (page.length === 0) return;
      for (const e of page) this.add(e);
      this.head = page[page.length - 1]!.seq;
      this.headAtMs = page[page.length - 1]!.atMs;
      if (page.length === pageSize) await nextTurn();
    }
  }

  /** Folds in one event (events come in log order). */
  add(e: LoggedEvent): void {
    this.joiner.add(e);
    if (e.type === 'observation') this.addRow(runRowOf(e.observation));
    else if (e.type === 'decision') {
      if (e.atMs > this.asOfMs) {
        this.later.push({ atMs: e.atMs });
        return;
      }
      // Weeks start on Monday 00:00 UTC (the epoch was a Thursday).
      const week = Math.floor((e.atMs - 4 * MS_PER_DAY) / MS_PER_WEEK) * MS_PER_WEEK + 4 * MS_PER_DAY;
      let w = this.weeks.get(week);
      if (w === undefined) this.weeks.set(week, (w = { decisions: 0, byTemplate: new Map() }));
      w.decisions++;
      for (const r of e.decision.ranking) {
        let t = w.byTemplate.get(r.armId);
        if (t === undefined) w.byTemplate.set(r.armId, (t = { chosen: 0, probBest: 0, offered: 0 }));
        t.offered++;
        t.probBest += r.probBest;
        if (r.armId === e.decision.chosen) t.chosen++;
      }
    }
  }

  /**
   * liftOverUniform of `decisions` (in log order): a window that only gained decisions at its end
   * (the log grew, the date stayed) adds those to the last estimate's terms instead of refitting.
   */
  /**
   * The lift section of the window [sinceMs, untilMs], whose decisions `window` gives: the last one
   * while the window and the decision join stay as they were (a restored fold's, from its snapshot).
   */
  windowLift(sinceMs: number, untilMs: number, window: () => readonly LoggedDecision[]): LiftSection {
    const k = this.liftKept;
    if (k !== undefined && k.version === this.joiner.version && k.sinceMs === sinceMs && k.untilMs === untilMs) return k.section;
    const decisions = window();
    const section = { decisions: decisions.length, estimate: decisions.length > 0 ? this.liftOf(decisions) : null };
    this.liftKept = { version: this.joiner.version, sinceMs, untilMs, section };
    return section;
  }

  private liftOf(decisions: readonly LoggedDecision[]): LiftEstimate {
    const fold = this.lift?.isPrefixOf(decisions) === true ? this.lift : new LiftFold();
    for (let i = fold.size; i < decisions.length; i++) fold.add(decisions[i]!);
    this.lift = fold;
    return fold.estimate();
  }

  /** failureOccurrences of the rows finished by the date, kept between builds: extended by the rows folded in since the last call while they come in log order. */
  occurrencesOf(templates: readonly TemplateRow[], windowDays: number): readonly FailureOccurrence[] {
    const n = (this.restored?.n ?? 0) + this.rows.length;
    let added: RunRow[] | undefined;
    if (this.occurrencesInOrder) {
      // Every restored row was given before (LogFold.restore): the new ones are all in `rows`.
      const offset = this.restored?.n ?? 0;
      added = [];
      for (let i = this.occurrencesAt; i < n; i++) {
        const r = this.rows[i - offset]!;
        if (r.finishedAtMs <= this.asOfMs) added.push(r);
      }
    }
    this.occurrencesAt = n;
    this.occurrencesInOrder = true;
    return this.occurrences.extend(added, () => this.talliedRows(), templates, windowDays);
  }

  private addRow(r: RunRow): void {
    const one = (x: string) => {
      const y = this.strings.get(x);
      if (y !== undefined) return y;
      if (this.strings.size < MAX_INTERNED) this.strings.set(x, x);
      return x;
    };
    const row = { ...r, templateId: one(r.templateId), taskClass: one(r.taskClass), repo: one(r.repo), failureReason: one(r.failureReason), agent: one(r.agent), model: one(r.model) };
    this.rows.push(row);
    if (row.finishedAtMs <= this.asOfMs) {
      this.tallies.add(row);
      if (row.finishedAtMs < this.firstRunMs) this.firstRunMs = row.finishedAtMs;
    } else this.laterRows.push(row);
  }

  /** The rows finished by the date (made when asked for), the weekly traffic and the joined decisions logged by it. */
  scan(): Scan {
    const asOfMs = this.asOfMs;
    // Runs finished after the date (a clock ahead, or an earlier --as-of) are left out.
    const rows = () => this.talliedRows();
    const tallies = this.tallies;
    const traffic = [...this.weeks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([startMs, w]) => ({
        startMs,
        decisions: w.decisions,
        byTemplate: [...w.byTemplate.entries()]
          .sort(([a], [b]) => byString(a, b))
          .map(([templateId, t]) => ({ templateId, chosen: t.chosen, share: t.chosen / w.decisions, meanProbBest: t.probBest / t.offered, offered: t.offered })),
      }));
    const decisions = () => this.joiner.result().decisions.filter((d) => d.atMs <= asOfMs);
    return { rows, firstRunMs: this.firstRunMs, tallies, traffic, decisions, joined: this.joiner.counts() };
  }
}
