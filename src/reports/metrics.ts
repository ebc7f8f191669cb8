/**
 * The one definition of each number learnloop shows for a set of runs: `scores`, every report,
 * GetScores and the dashboard's JSON call these (docs/reports.md, "Definitions").
 */
import type { EvidenceLevel } from '../bandit/index.js';
import { taskKey, type RunRow } from './rows.js';
import { wilsonInterval } from './stats.js';
import { own, TaskNumbers, TaskTable, type TaskTableState } from './tasks.js';

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
  const tally = new MetricsTally(partialReward);
  for (const r of rows) tally.add(r);
  return tally.metrics();
}

/** A task's state in a tally, as bits. */
const RETRIED = 1;
const JUDGED = 2;
const FIRST_PASSED = 4;
const firstTryPass = (t: number) => (t & JUDGED) !== 0 && (t & FIRST_PASSED) !== 0;

const LOWER = (a: number, b: number) => a > b;
const UPPER = (a: number, b: number) => a < b;

/** What a {@link MetricsTally} holds, to make it again without its runs (MetricsTally.fromState). */
export interface MetricsTallyState {
  readonly partialReward: number;
  readonly counts: readonly number[];
  readonly outcomes: ReadonlyArray<readonly [string, number]>;
  /** Each task (its number) and its state (bits: retried, judged, first attempt passed). */
  readonly tasks: TaskTableState;
  /** The two heaps of durations, in heap order. */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

/**
 * {@link metricsOf}, one run at a time: adding a run costs O(log runs) and reading the metrics
 * O(1), so a segment that gains a run is not recounted from its first (GetScores under Observe load).
 */
export class MetricsTally {
  private runs = 0;
  private judged = 0;
  private readonly outcomes = new Map<string, number>();
  private tasks = new TaskTable(false);
  private judgedTasks = 0;
  private firstTryPasses = 0;
  private retriedTasks = 0;
  /** The smaller half of the durations (a max-heap) and the larger half (a min-heap); lower holds the extra one. */
  private lower = new Heap(LOWER);
  private upper = new Heap(UPPER);
  private cached: Metrics | undefined;

  /** @param numbers the task numbering this tally shares with others (its own by default) */
  constructor(
    private readonly partialReward = DEFAULT_PARTIAL_REWARD,
    private readonly numbers = new TaskNumbers(),
  ) {}

  /** Adds a run; `task` is its task's number in this tally's numbering, when the caller has it. */
  add(r: RunRow, task = this.numbers.numberOf(taskKey(r))): void {
    this.cached = undefined;
    this.runs++;
    this.outcomes.set(r.outcome, (this.outcomes.get(r.outcome) ?? 0) + 1);
    const judged = isJudged(r);
    if (judged) this.judged++;
    const slot = this.tasks.slot(task);
    const was = this.tasks.bits[slot]!;
    let t = was;
    const wasFirstTryPass = firstTryPass(t);
    if ((r.attempt > 1 || r.retries > 0) && (t & RETRIED) === 0) {
      t |= RETRIED;
      this.retriedTasks++;
    }
    if (judged && (t & JUDGED) === 0) {
      t |= JUDGED;
      this.judgedTasks++;
    }
    if (r.attempt <= 1 && r.outcome === 'pass') t |= FIRST_PASSED;
    if (firstTryPass(t) && !wasFirstTryPass) this.firstTryPasses++;
    this.tasks.bits[slot] = t;
    const d = r.durationSeconds;
    if (this.lower.size === 0 || d <= this.lower.top()) this.lower.push(d);
    else this.upper.push(d);
    if (this.lower.size > this.upper.size + 1) this.upper.push(this.lower.pop());
    else if (this.upper.size > this.lower.size) this.lower.push(this.upper.pop());
  }

  /** What this tally holds (its tasks by number in its numbering). */
  state(): MetricsTallyState {
    return {
      partialReward: this.partialReward,
      counts: [this.runs, this.judged, this.judgedTasks, this.firstTryPasses, this.retriedTasks],
      outcomes: [...this.outcomes],
      tasks: this.tasks.state(),
      lower: this.lower.state(),
      upper: this.upper.state(),
    };
  }

  /** The tally a state was taken of, in the numbering its tasks are numbered in (taking over its large arrays, as TaskTable.fromState: the state is not to be used again). */
  static fromState(s: MetricsTallyState, numbers: TaskNumbers): MetricsTally {
    const t = new MetricsTally(s.partialReward, numbers);
    [t.runs, t.judged, t.judgedTasks, t.firstTryPasses, t.retriedTasks] = s.counts as [number, number, number, number, number];
    for (const [k, n] of s.outcomes) t.outcomes.set(k, n);
    t.tasks = TaskTable.fromState(s.tasks);
    t.lower = new Heap(LOWER, s.lower);
    t.upper = new Heap(UPPER, s.upper);
    return t;
  }

  metrics(): Metrics {
    return (this.cached ??= this.compute());
  }

  private compute(): Metrics {
    const count = (o: string) => this.outcomes.get(o) ?? 0;
    const { runs, judged, judgedTasks, firstTryPasses, retriedTasks, partialReward } = this;
    const passes = count('pass');
    const partials = count('partial');
    const tasks = this.tasks.size;
    const [lo, hi] = wilsonInterval(passes, judged);
    const [ftLo, ftHi] = wilsonInterval(firstTryPasses, judgedTasks);
    const [rLo, rHi] = wilsonInterval(retriedTasks, tasks);
    const [tLo, tHi] = wilsonInterval(count('timeout'), runs);
    // As median() computes it: the middle value, or the mean of the two middle values.
    const medianDurationSeconds = runs === 0 ? 0 : runs % 2 === 1 ? this.lower.top() : (this.lower.top() + this.upper.top()) / 2;
    return {
      runs,
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
      tasks,
      retriedTasks,
      retryRate: tasks > 0 ? retriedTasks / tasks : 0,
      retryRateLow: rLo,
      retryRateHigh: rHi,
      timeoutRate: runs > 0 ? count('timeout') / runs : 0,
      timeoutRateLow: tLo,
      timeoutRateHigh: tHi,
      medianDurationSeconds,
    };
  }
}

/** A binary heap of numbers in a typed array (a tally's state copies it whole); `before(a, b)` says a sits nearer the top. */
class Heap {
  /** In heap order: the first `size`. */
  private items: Float64Array;
  size = 0;
  constructor(
    private readonly before: (a: number, b: number) => boolean,
    items?: Float64Array,
  ) {
    // Taken over when it has its memory to itself (a decoded snapshot's: MetricsTally.fromState).
    this.items = items === undefined ? new Float64Array(16) : own(items) ? items : new Float64Array(items);
    this.size = items?.length ?? 0;
  }
  /** The items in heap order (a copy). */
  state(): Float64Array {
    return this.items.slice(0, this.size);
  }
  top(): number {
    return this.items[0]!;
  }
  push(x: number): void {
    if (this.size === this.items.length) {
      const more = new Float64Array(Math.max(16, 2 * this.size));
      more.set(this.items);
      this.items = more;
    }
    const a = this.items;
    let i = this.size++;
    a[i] = x;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const n = --this.size;
    if (n > 0) {
      a[0] = a[n]!;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.before(a[l]!, a[m]!)) m = l;
        if (r < n && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
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
