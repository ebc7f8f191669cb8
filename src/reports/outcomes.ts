/**
 * `report outcomes`: is the loop working? The three success metrics over a chosen window — pass
 * rate up, retry rate down, repeated failures down — start against end, with what learnloop
 * contributed beside them: the off-policy lift of the deployed policy over uniform in the same
 * window (src/ope) and the measured effect of each accepted refinement.
 *
 * Credibility: the window's first third (start) and last third (end) are compared per metric by
 * Newcombe's interval for the difference at the simultaneous level 1 − 0.05/3 (Bonferroni over the
 * three metrics), so on a log where nothing changes the section as a whole claims a change at most
 * about 5% of the time. A change is credible when that interval excludes 0.
 */
import { liftOverUniform, type LiftEstimate, type LoggedDecision } from '../ope/index.js';
import type { RemediationRules } from './failures.js';
import { metricsOf, MetricsTally, type Metrics, type MetricsTallyState } from './metrics.js';
import { failureOccurrences, repeatsSection, repeatShare, DEFAULT_REPEAT_WINDOW_DAYS, type FailureOccurrence, type RepeatsSection } from './repeats.js';
import { byString, rowsAsOf, taskKey, type LogRows, type RefinementRow, type RunRow } from './rows.js';
import { newcombeInterval, normalQuantileUpper, wilsonInterval } from './stats.js';
import { TaskNumbers } from './tasks.js';

const MS_PER_DAY = 86_400_000;

export type OutcomeMetric = 'pass_rate' | 'retry_rate' | 'repeat_share';
export const OUTCOME_METRICS: readonly OutcomeMetric[] = ['pass_rate', 'retry_rate', 'repeat_share'];
const HIGHER_IS_BETTER: Record<OutcomeMetric, boolean> = { pass_rate: true, retry_rate: false, repeat_share: false };

/** Family-wise error of the section's change claims, split over the three metrics. */
export const SCOREBOARD_ALPHA = 0.05;

/** A proportion: successes x of n, its rate and 95% Wilson interval (rate 0 when n = 0). */
export interface Proportion {
  readonly x: number;
  readonly n: number;
  readonly rate: number;
  readonly low: number;
  readonly high: number;
}

export function proportion(x: number, n: number): Proportion {
  const [low, high] = wilsonInterval(x, n);
  return { x, n, rate: n > 0 ? x / n : 0, low, high };
}

/**
 * end − start (or new − old) with its interval, and whether the interval excludes 0. When either
 * side has nothing (n = 0) there is no change to estimate: 0 over [−1, 1], never credible, as a
 * rate with nothing is 0 over [0, 1]; the sides' counts tell it from a measured 0.
 */
export interface Difference {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  /** The interval's level. */
  readonly level: number;
  readonly credible: boolean;
}

function difference(a: Proportion, b: Proportion, level: number): Difference {
  const [low, high] = newcombeInterval(a.x, a.n, b.x, b.n, normalQuantileUpper((1 - level) / 2));
  // An empty side's rate is a placeholder 0, so its difference would pass the other side's rate off as a change.
  if (a.n <= 0 || b.n <= 0) return { estimate: 0, low, high, level, credible: false };
  return { estimate: b.rate - a.rate, low, high, level, credible: low > 0 || high < 0 };
}

/**
 * A new version against its parent on one metric: both proportions and new − parent with its interval.
 * The one definition of a version's effect: `report outcomes` applies it to the parent's runs before a
 * refinement's decision against the new version's runs after it, `scores` to both templates' runs in
 * the segment.
 */
export interface VersionEffect {
  readonly parent: Proportion;
  readonly child: Proportion;
  readonly change: Difference;
}

export function versionEffect(parent: Proportion, child: Proportion, level: number): VersionEffect {
  return { parent, child, change: difference(parent, child, level) };
}

/** {@link versionEffect} on the pass rate (passes of judged runs), at 95% unless told. */
export function passRateVersusParent(parent: Metrics, child: Metrics, level = 0.95): VersionEffect {
  return versionEffect(proportion(parent.passes, parent.judged), proportion(child.passes, child.judged), level);
}

export interface ScoreMetric {
  readonly metric: OutcomeMetric;
  readonly higherIsBetter: boolean;
  readonly start: Proportion;
  readonly end: Proportion;
  readonly change: Difference;
  /** 'better', 'worse', or 'no credible change'. */
  readonly verdict: 'better' | 'worse' | 'no credible change';
  /** One point per sparkline bin, oldest first. */
  readonly spark: readonly Proportion[];
  /** Accepted refinements whose own effect on this metric is credible and in the direction of the change. */
  readonly attributedTo: readonly string[];
}

export interface RefinementEffect {
  readonly refinementId: string;
  readonly parentTemplateId: string;
  readonly newTemplateId: string;
  readonly decidedAtMs: number;
  /** The parent's runs in the span before the decision (as long as the window) against the new version's runs after it, to untilMs. */
  readonly effects: ReadonlyArray<VersionEffect & { readonly metric: OutcomeMetric; readonly verdict: ScoreMetric['verdict'] }>;
}

export interface LiftSection {
  /** Decisions in the window with a learnable outcome of the chosen template. */
  readonly decisions: number;
  /** null when the window has no such decisions. */
  readonly estimate: LiftEstimate | null;
}

export interface OutcomesOptions {
  readonly sinceMs: number;
  readonly untilMs: number;
  /** Look-back of a repeated failure, days (default 14). */
  readonly repeatWindowDays: number;
  /** Sparkline bin, days (default 7). */
  readonly binDays: number;
}

export interface OutcomesReport {
  readonly kind: 'outcomes';
  readonly options: OutcomesOptions;
  /** Start and end of the comparison: the window's first and last thirds. */
  readonly startUntilMs: number;
  readonly endSinceMs: number;
  readonly metrics: readonly ScoreMetric[];
  readonly repeats: RepeatsSection;
  readonly refinements: readonly RefinementEffect[];
  readonly lift: LiftSection;
}

/** A logged decision with its outcome (ope: joinDecisions) and the time it was logged. */
export type TimedDecision = LoggedDecision & { readonly atMs: number };

export interface OutcomesInput extends Omit<LogRows, 'rows'> {
  /** The runs, or a function that gives them when a report needs them (with `rangeMetrics` and `occurrences`, only for refinement effects). */
  readonly rows: readonly RunRow[] | (() => readonly RunRow[]);
  /** The decisions, or a function that gives them when the report needs them (not with an `estimateLift` that answers without them). */
  readonly decisions: readonly TimedDecision[] | (() => readonly TimedDecision[]);
  readonly rules: RemediationRules;
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly repeatWindowDays?: number;
  readonly binDays?: number;
  /**
   * The window's lift section from its decisions (given by the function, in the order the estimate
   * takes them): by default their count and liftOverUniform. The dashboard passes one that keeps the
   * result for its lift page (the lift is computed once) and between reports.
   */
  readonly estimateLift?: (decisions: () => readonly LoggedDecision[]) => LiftSection;
  /**
   * The failure occurrences of the rows (failureOccurrences of every row finished by untilMs, with
   * repeatWindowDays), when the caller keeps them between reports (the dashboard: FailureOccurrences).
   */
  readonly occurrences?: (rows: () => readonly RunRow[], windowDays: number) => readonly FailureOccurrence[];
  /** The metrics of the rows finished in each range, when the caller keeps them between reports (the dashboard: RangeTallies). */
  readonly rangeMetrics?: (ranges: ReadonlyArray<readonly [number, number]>) => readonly Metrics[];
}

/**
 * The runs finished in each of a report's ranges [a, b) (a range may overlap others), tallied as
 * they arrive: each range's metrics are metricsOf its runs, in any order (MetricsTally).
 */
export class RangeTallies {
  private tallies: MetricsTally[];

  /** @param numbers the task numbering the tallies share (their own by default) */
  constructor(
    readonly ranges: ReadonlyArray<readonly [number, number]>,
    private readonly numbers = new TaskNumbers(),
  ) {
    this.tallies = ranges.map(() => new MetricsTally(undefined, numbers));
  }

  /** Whether these are the tallies of `ranges`. */
  isOf(ranges: ReadonlyArray<readonly [number, number]>): boolean {
    return ranges.length === this.ranges.length && ranges.every(([a, b], i) => a === this.ranges[i]![0] && b === this.ranges[i]![1]);
  }

  /** Adds a run; `task` is its task's number, when the caller has it. */
  add(r: RunRow, task?: number): void {
    const t = r.finishedAtMs;
    for (let i = 0; i < this.ranges.length; i++) {
      const [a, b] = this.ranges[i]!;
      if (t >= a && t < b) this.tallies[i]!.add(r, (task ??= this.numbers.numberOf(taskKey(r))));
    }
  }

  metrics(): Metrics[] {
    return this.tallies.map((t) => t.metrics());
  }

  state(): RangeTalliesState {
    return { ranges: this.ranges.map(([a, b]) => [a, b] as const), tallies: this.tallies.map((t) => t.state()) };
  }

  static fromState(s: RangeTalliesState, numbers: TaskNumbers): RangeTallies {
    const r = new RangeTallies(s.ranges, numbers);
    if (s.tallies.length !== s.ranges.length) throw new RangeError('range tallies of another count than their ranges');
    r.tallies = s.tallies.map((t) => MetricsTally.fromState(t, numbers));
    return r;
  }
}

/** What RangeTallies holds. */
export interface RangeTalliesState {
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  readonly tallies: readonly MetricsTallyState[];
}

/** The items whose time falls in each range [a, b), in their order. */
function split<T>(xs: readonly T[], t: (x: T) => number, ranges: ReadonlyArray<readonly [number, number]>): T[][] {
  const out = ranges.map((): T[] => []);
  for (const x of xs) {
    const v = t(x);
    for (let i = 0; i < ranges.length; i++) if (v >= ranges[i]![0] && v < ranges[i]![1]) out[i]!.push(x);
  }
  return out;
}

/** The three metrics of a set of runs (their metrics) and their failures, as proportions. */
function measure(m: Metrics, occ: readonly FailureOccurrence[]): Record<OutcomeMetric, Proportion> {
  const r = repeatShare(occ, 'template');
  return { pass_rate: proportion(m.passes, m.judged), retry_rate: proportion(m.retriedTasks, m.tasks), repeat_share: proportion(r.repeats, r.failed) };
}

const measureRows = (rows: readonly RunRow[], occ: readonly FailureOccurrence[]) => measure(metricsOf(rows), occ);

/** The metrics of the rows finished in each range, tallied in one pass. */
function rangeMetricsOf(rows: readonly RunRow[], ranges: ReadonlyArray<readonly [number, number]>): Metrics[] {
  const t = new RangeTallies(ranges);
  for (const r of rows) t.add(r);
  return t.metrics();
}

const verdictOf = (metric: OutcomeMetric, d: Difference): ScoreMetric['verdict'] =>
  !d.credible ? 'no credible change' : d.estimate > 0 === HIGHER_IS_BETTER[metric] ? 'better' : 'worse';

/**
 * The scoreboard over [sinceMs, untilMs] (runs finished after untilMs are left out everywhere).
 * @throws RangeError when the window is empty or reversed
 */
export function outcomesReport(input: OutcomesInput): OutcomesReport {
  const { sinceMs, untilMs } = input;
  if (!(untilMs > sinceMs)) throw new RangeError(`the window must end after it starts: since ${sinceMs}, until ${untilMs}`);
  const o: OutcomesOptions = {
    sinceMs,
    untilMs,
    repeatWindowDays: input.repeatWindowDays ?? DEFAULT_REPEAT_WINDOW_DAYS,
    binDays: input.binDays ?? 7,
  };
  const given = input.rows;
  let rows: readonly RunRow[] | undefined;
  const all = () => (rows ??= rowsAsOf(typeof given === 'function' ? given() : given, untilMs));
  const occ = input.occurrences?.(all, o.repeatWindowDays) ?? failureOccurrences(all(), input.templates, o.repeatWindowDays);
  const third = (untilMs + 1 - sinceMs) / 3;
  const startUntilMs = Math.floor(sinceMs + third);
  const endSinceMs = Math.ceil(untilMs + 1 - third);
  const bins: Array<[number, number]> = [];
  for (let b = sinceMs; b <= untilMs; b += o.binDays * MS_PER_DAY) bins.push([b, Math.min(untilMs + 1, b + o.binDays * MS_PER_DAY)]);
  // The start, the end and each spark bin: [a, b) ranges, the runs and failures of each in one pass.
  const ranges: Array<readonly [number, number]> = [[sinceMs, startUntilMs], [endSinceMs, untilMs + 1], ...bins];
  const metricsIn = input.rangeMetrics?.(ranges) ?? rangeMetricsOf(all(), ranges);
  const occIn = split(occ, (x) => x.atMs, ranges);
  const [start, end, ...sparks] = ranges.map((_, i) => measure(metricsIn[i]!, occIn[i]!)) as [Record<OutcomeMetric, Proportion>, Record<OutcomeMetric, Proportion>, ...Array<Record<OutcomeMetric, Proportion>>];
  const level = 1 - SCOREBOARD_ALPHA / OUTCOME_METRICS.length;

  const refinements = refinementEffects(all, occ, input.refinements, o, level);
  const metrics = OUTCOME_METRICS.map((metric): ScoreMetric => {
    const change = difference(start[metric], end[metric], level);
    const verdict = verdictOf(metric, change);
    return {
      metric,
      higherIsBetter: HIGHER_IS_BETTER[metric],
      start: start[metric],
      end: end[metric],
      change,
      verdict,
      spark: sparks.map((s) => s[metric]),
      attributedTo:
        verdict === 'no credible change'
          ? []
          : refinements
              .filter((r) => r.decidedAtMs >= sinceMs && r.effects.some((e) => e.metric === metric && e.verdict === verdict))
              .map((r) => r.refinementId),
    };
  });

  const logged = input.decisions;
  const decisions = () => windowDecisions(typeof logged === 'function' ? logged() : logged, sinceMs, untilMs);
  return {
    kind: 'outcomes',
    options: o,
    startUntilMs,
    endSinceMs,
    metrics,
    repeats: repeatsSection(occ, input.refinements, input.rules, sinceMs, untilMs, o.repeatWindowDays),
    refinements,
    lift: (input.estimateLift ?? liftSection)(decisions),
  };
}

/** The decisions logged in [sinceMs, untilMs], in the order the lift takes them. */
function windowDecisions(decisions: readonly TimedDecision[], sinceMs: number, untilMs: number): TimedDecision[] {
  // In a fixed order (time first), so DR's reward model, fitted on each decision's predecessors, sees the same history whatever order they came in.
  return decisions
    .filter((d) => d.atMs >= sinceMs && d.atMs <= untilMs)
    .sort((a, b) => a.atMs - b.atMs || byString(a.context, b.context) || byString(a.chosen, b.chosen) || a.propensity - b.propensity || a.reward - b.reward || byString(a.candidates.join('\u0000'), b.candidates.join('\u0000')));
}

/** A window's lift section: its decisions' count and their lift over uniform. */
function liftSection(decisions: () => readonly LoggedDecision[]): LiftSection {
  const ds = decisions();
  return { decisions: ds.length, estimate: ds.length > 0 ? liftOverUniform(ds) : null };
}

/**
 * Each refinement accepted by untilMs whose new version ran in the window: the parent's runs in the
 * span before the decision (as long as the window) against the new version's runs from the decision
 * to untilMs. The two periods differ, so other changes in between are in the difference too.
 */
function refinementEffects(all: () => readonly RunRow[], occ: readonly FailureOccurrence[], refinements: readonly RefinementRow[], o: OutcomesOptions, level: number): RefinementEffect[] {
  const span = o.untilMs - o.sinceMs;
  return refinements
    .filter((r) => r.status === 'accepted' && r.newTemplateId !== '' && r.decidedAtMs <= o.untilMs)
    .filter((r) => all().some((x) => x.templateId === r.newTemplateId && x.finishedAtMs >= o.sinceMs))
    .sort((a, b) => a.decidedAtMs - b.decidedAtMs || byString(a.refinementId, b.refinementId))
    .map((r) => {
      const before = (t: number) => t >= r.decidedAtMs - span && t < r.decidedAtMs;
      const after = (t: number) => t >= r.decidedAtMs && t <= o.untilMs;
      const parent = measureRows(
        all().filter((x) => x.templateId === r.templateId && before(x.finishedAtMs)),
        occ.filter((x) => x.templateId === r.templateId && before(x.atMs)),
      );
      const child = measureRows(
        all().filter((x) => x.templateId === r.newTemplateId && after(x.finishedAtMs)),
        occ.filter((x) => x.templateId === r.newTemplateId && after(x.atMs)),
      );
      return {
        refinementId: r.refinementId,
        parentTemplateId: r.templateId,
        newTemplateId: r.newTemplateId,
        decidedAtMs: r.decidedAtMs,
        effects: OUTCOME_METRICS.map((metric) => {
          const effect = versionEffect(parent[metric], child[metric], level);
          return { metric, ...effect, verdict: verdictOf(metric, effect.change) };
        }),
      };
    });
}
