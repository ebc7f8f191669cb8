/**
 * Every dashboard view as plain data, computed in one go from the log (then cached per log head by
 * the server). The numbers come from the reports' definitions (src/reports: metricsOf, the trend and
 * its change detector, failure patterns) and from src/ope for the lift, never computed a second way.
 */
import type { RefinementRecord, TemplateRecord } from '../bandit/index.js';
import { LIFT_METHOD, type Interval, type LiftEstimate, type LiftMethod, type LogJoin } from '../ope/index.js';
import {
  byString,
  DEFAULT_TREND_OPTIONS,
  metricsOf,
  outcomesReport,
  passRateVersusParent,
  type Change,
  type FailurePattern,
  type Metrics,
  type OutcomesReport,
  type RemediationRules,
  type TrendSeries,
  versionEffect,
} from '../reports/index.js';
import { refinementRowOf } from '../service/refinement-queue.js';

import { LogFold, type RowTallies, type Scan, type TrafficWeek } from './fold.js';
import type { DashboardSource } from './source.js';

export type { TrafficWeek };

const MS_PER_DAY = 86_400_000;
const MS_PER_WEEK = 7 * MS_PER_DAY;
/** Most weekly windows the overview shows (a year). */
const MAX_WINDOWS = 52;
/** Most (task class, repository) columns in the matrix: the busiest ones. */
const MAX_REPO_SEGMENTS = 24;
/** The metrics of no runs ('–' everywhere). */
const NO_RUNS = metricsOf([]);

export interface Overview {
  readonly totals: Metrics;
  /** The three success metrics start vs end, the lift and refinement effects (issue 14's scoreboard, src/reports/outcomes.ts). */
  readonly scoreboard: OutcomesReport;
  readonly windowDays: number;
  readonly overall: TrendSeries;
  readonly byTemplate: readonly TrendSeries[];
  /** Change points over each series' whole history, dated (src/reports/changepoint.ts). */
  readonly changes: readonly Change[];
}

export interface MatrixCell {
  readonly templateId: string;
  readonly taskClass: string;
  /** '' in the template × task-class matrix. */
  readonly repo: string;
  /** The posterior pass rate and its 95% interval, as GetScores shows it for the segment. */
  readonly posteriorPassRate: number;
  readonly posteriorPassRateLow: number;
  readonly posteriorPassRateHigh: number;
  /** The posterior expected reward (what the policy decides on: a partial earns the partial reward) and its 95% interval. */
  readonly expectedReward: number;
  readonly expectedRewardLow: number;
  readonly expectedRewardHigh: number;
  /** Pseudo-runs from the cell's own level, and from wider levels and the parent. */
  readonly ownRuns: number;
  readonly borrowedRuns: number;
  /** The evidence level as every output labels it (src/reports/metrics.ts). */
  readonly evidenceLabel: string;
  /** Runs observed in the cell and their pass rate ('–' when none judged: null). */
  readonly runs: number;
  readonly judged: number;
  readonly passRate: number | null;
}

export interface Matrix {
  readonly byTaskClass: readonly MatrixCell[];
  readonly byRepo: readonly MatrixCell[];
}

export interface LiftView {
  readonly available: boolean;
  /** Why there is no estimate, when there is none. */
  readonly reason: string;
  /** The window: the scoreboard's, whose lift this is (one estimate for both). */
  readonly sinceMs: number;
  readonly untilMs: number;
  /** Decisions in the window with an outcome. */
  readonly decisions: number;
  /** In the whole log: decisions without an outcome yet, and with unusable propensities. */
  readonly unobserved: number;
  readonly invalid: number;
  /** How the intervals were made (closed-form, src/ope liftOverUniform); '' when there is no estimate. */
  readonly interval: LiftMethod['interval'] | '';
  /** The headline: doubly robust lift of the deployed policy over uniform, in pass-rate points. */
  readonly headline: Interval | null;
  readonly deployed: Interval | null;
  readonly effectiveSampleSize: number;
  readonly meanWeight: number;
  readonly byEstimator: ReadonlyArray<{ readonly estimator: string; readonly uniform: Interval; readonly lift: Interval }>;
}

export interface LineageNode {
  readonly templateId: string;
  readonly parentTemplateId: string;
  readonly status: string;
  readonly description: string;
  readonly implicit: boolean;
  readonly registeredAtMs: number;
  /** The task classes it is registered for (Recommend offers it by default only there); empty: every class. */
  readonly taskClasses: readonly string[];
  readonly children: readonly string[];
  /** The accepted refinement that created this version, if any. */
  readonly createdBy: { readonly refinementId: string; readonly actor: string; readonly reason: string; readonly decidedAtMs: number } | null;
  readonly metrics: Metrics;
  /** Pass rate of this version minus its parent's, with a 95% interval; null without judged runs on both. */
  readonly effect: Interval | null;
}

export interface DashboardModel {
  readonly head: number;
  readonly asOfMs: number;
  readonly overview: Overview;
  readonly matrix: Matrix;
  readonly traffic: readonly TrafficWeek[];
  readonly lift: LiftView;
  readonly failures: { readonly failedRuns: number; readonly rulesVersion: number; readonly patterns: readonly FailurePattern[]; readonly needingRule: readonly string[] };
  readonly refinements: readonly RefinementRecord[];
  readonly lineage: readonly LineageNode[];
  /** Events read and folded in by this build: the whole log when it started from nothing, else those since the last build. */
  readonly eventsFolded: number;
  /** Milliseconds the aggregation took (not part of the JSON views' numbers). */
  readonly buildMs: number;
  /** Of which each part, ms: reading the new events into the fold (runs, traffic, decisions), then each view's own work. */
  readonly phasesMs: Readonly<Record<'scan' | 'trend' | 'scoreboard' | 'lift' | 'failures' | 'matrix' | 'lineage', number>>;
}

/** Days of the scoreboard's window, ending at the dashboard's date (as `report outcomes` by default). */
const SCOREBOARD_DAYS = 70;

/** The overview, and the lift its scoreboard estimated (once, with a bounded cost) for the lift view. */
function overviewOf(
  fold: LogFold,
  { rows, firstRunMs, tallies, decisions }: Pick<Scan, 'rows' | 'firstRunMs' | 'tallies' | 'decisions'>,
  templates: readonly TemplateRecord[],
  refinements: readonly RefinementRecord[],
  rules: RemediationRules,
  asOfMs: number,
  timed: Timer,
): { overview: Overview; lift: (LiftEstimate & { method: LiftMethod }) | null } {
  const first = Math.min(asOfMs, firstRunMs);
  const windows = Math.max(8, Math.min(MAX_WINDOWS, Math.ceil((asOfMs - first + 1) / MS_PER_WEEK)));
  const trend = timed('trend', () => ({ ...tallies.trendWindows(asOfMs, { windowDays: 7, windows }).series(first), changes: tallies.trend.changes(DEFAULT_TREND_OPTIONS) }));
  let lift: (LiftEstimate & { method: LiftMethod }) | null = null;
  const sinceMs = asOfMs + 1 - SCOREBOARD_DAYS * MS_PER_DAY;
  const scoreboard = timed('scoreboard', () => outcomesReport({
    rows,
    templates: templates.map((t) => ({ templateId: t.templateId, parentTemplateId: t.parentTemplateId, status: t.status })),
    refinements: refinements.map(refinementRowOf),
    decisions,
    rules,
    sinceMs,
    untilMs: asOfMs,
    estimateLift: (window) =>
      timed('lift', () => {
        const s = fold.windowLift(sinceMs, asOfMs, window);
        lift = s.estimate === null ? null : { ...s.estimate, method: LIFT_METHOD };
        return { decisions: s.decisions, estimate: lift };
      }),
    occurrences: (_, windowDays) => fold.occurrencesOf(templates, windowDays),
    rangeMetrics: (ranges) => tallies.rangeMetrics(ranges),
  }));
  return { overview: { totals: tallies.all.metrics(), scoreboard, windowDays: 7, overall: trend.overall, byTemplate: trend.byTemplate, changes: trend.changes }, lift };
}

async function matrixOf(source: DashboardSource, tallies: RowTallies): Promise<Matrix> {
  const cells = async (taskClass: string, repo: string, byTemplate: ReadonlyMap<string, Metrics>): Promise<MatrixCell[]> => {
    const segment = await source.segment(taskClass, repo, [...byTemplate.keys()]);
    return segment.map(({ templateId, posterior: s, evidenceLabel, pooled: p }) => {
      const c = p.contributions;
      const own = repo !== '' ? c.repo_task_class : taskClass !== '' ? c.task_class : c.global;
      const m = byTemplate.get(templateId) ?? NO_RUNS;
      return {
        templateId,
        taskClass,
        repo,
        posteriorPassRate: s.passRate ?? s.mean,
        posteriorPassRateLow: s.passRateLow ?? s.ciLow,
        posteriorPassRateHigh: s.passRateHigh ?? s.ciHigh,
        expectedReward: s.mean,
        expectedRewardLow: s.ciLow,
        expectedRewardHigh: s.ciHigh,
        ownRuns: own,
        borrowedRuns: Math.max(0, p.alpha + p.beta - c.prior - own),
        evidenceLabel,
        runs: m.runs,
        judged: m.judged,
        passRate: m.judged > 0 ? m.passRate : null,
      };
    });
  };
  const byTaskClass: MatrixCell[] = [];
  for (const [taskClass, m] of tallies.byTaskClass()) byTaskClass.push(...(await cells(taskClass === '(none)' ? '' : taskClass, '', m)));
  const byRepo: MatrixCell[] = [];
  for (const [key, m] of tallies.busiestPairs(MAX_REPO_SEGMENTS)) {
    const [taskClass = '', repo = ''] = key.split('\u0000');
    if (repo !== '') byRepo.push(...(await cells(taskClass, repo, m)));
  }
  return { byTaskClass, byRepo };
}

function liftOf(join: Pick<LogJoin, 'unobserved' | 'invalid'>, scoreboard: OutcomesReport, est: (LiftEstimate & { method: LiftMethod }) | null): LiftView {
  const base = { sinceMs: scoreboard.options.sinceMs, untilMs: scoreboard.options.untilMs, decisions: scoreboard.lift.decisions, unobserved: join.unobserved, invalid: join.invalid };
  if (est === null) {
    const reason = `no logged decisions with observed outcomes in the last ${SCOREBOARD_DAYS} days yet`;
    return { available: false, reason, ...base, interval: '', headline: null, deployed: null, effectiveSampleSize: 0, meanWeight: 0, byEstimator: [] };
  }
  return {
    available: true,
    reason: '',
    ...base,
    interval: est.method.interval,
    headline: est.lift.dr,
    deployed: est.deployed,
    effectiveSampleSize: est.effectiveSampleSize,
    meanWeight: est.meanWeight,
    byEstimator: (['dr', 'snips', 'ips'] as const).map((e) => ({ estimator: e.toUpperCase(), uniform: est.uniform[e], lift: est.lift[e] })),
  };
}

/**
 * A version's pass rate minus its parent's, with a 95% Newcombe interval, by the one definition
 * `scores` uses (versionEffect): for a version an accepted refinement made, on the scoreboard's
 * measure (the parent's runs before the decision against the new version's after it), otherwise on
 * all their runs. The scoreboard's own interval is at its simultaneous level (1 − 0.05/3), which
 * this column does not claim.
 */
function effectOf(templateId: string, child: Metrics, parent: Metrics, scoreboard: OutcomesReport): Interval | null {
  const made = scoreboard.refinements.find((r) => r.newTemplateId === templateId)?.effects.find((e) => e.metric === 'pass_rate');
  const e = made !== undefined ? versionEffect(made.parent, made.child, EFFECT_LEVEL) : passRateVersusParent(parent, child, EFFECT_LEVEL);
  return e.parent.n > 0 && e.child.n > 0 ? { estimate: e.change.estimate, ciLow: e.change.low, ciHigh: e.change.high } : null;
}
const EFFECT_LEVEL = 0.95;

function lineageOf(templates: readonly TemplateRecord[], refinements: readonly RefinementRecord[], tallies: RowTallies, scoreboard: OutcomesReport): LineageNode[] {
  const m = (id: string) => tallies.template(id || '(none)');
  return [...templates]
    .sort((a, b) => byString(a.templateId, b.templateId))
    .map((t) => {
      const made = refinements.find((r) => r.status === 'accepted' && r.newTemplateId === t.templateId);
      return {
        templateId: t.templateId,
        parentTemplateId: t.parentTemplateId,
        status: t.status,
        description: t.description,
        implicit: t.implicit,
        registeredAtMs: t.registeredAtMs,
        taskClasses: t.taskClasses ?? [],
        children: templates.filter((c) => c.parentTemplateId === t.templateId).map((c) => c.templateId).sort(byString),
        createdBy: made ? { refinementId: made.refinementId, actor: made.actor, reason: made.reason, decidedAtMs: made.decidedAtMs } : null,
        metrics: m(t.templateId),
        effect: t.parentTemplateId === '' ? null : effectOf(t.templateId, m(t.templateId), m(t.parentTemplateId), scoreboard),
      };
    });
}

export interface BuildOptions {
  readonly rules: RemediationRules;
  /** The dashboard's date: runs after it are left out; default now. */
  readonly asOfMs: number;
  /** Failure patterns kept (default 50). */
  readonly maxPatterns?: number;
}

type Phase = keyof DashboardModel['phasesMs'];
type Timer = <T>(phase: Phase, f: () => T) => T;

/** What a caller keeps between builds so that each reads only the events since the last. */
export interface Folds {
  current?: LogFold;
  /** With no current fold: one restored from a snapshot, tried once (a fold that fails to restore is folded afresh). */
  restore?: (() => Promise<LogFold>) | undefined;
  /** Events read per page (default LogFold's). */
  readonly page?: number;
}

/**
 * Every view, from the log as it stands. With `folds`, the log is read from where the last build
 * left it (a fresh fold when there is none, when the log is shorter than it, or when the date cannot
 * be served by it: see LogFold.moveTo).
 */
export async function buildDashboard(source: DashboardSource, o: BuildOptions, folds: Folds = {}): Promise<DashboardModel> {
  const started = performance.now();
  const phasesMs: Record<Phase, number> = { scan: 0, trend: 0, scoreboard: 0, lift: 0, failures: 0, matrix: 0, lineage: 0 };
  // Nested phases (the lift inside the scoreboard) count in their own line only.
  let inner = 0;
  const timed: Timer = (phase, f) => {
    const t0 = performance.now();
    const before = inner;
    const out = f();
    const spent = performance.now() - t0;
    phasesMs[phase] += spent - (inner - before);
    inner = before + spent;
    return out;
  };
  const head = await source.head();
  const t0 = performance.now();
  const restore = folds.restore;
  folds.restore = undefined;
  // A fold that fails to restore (a corrupt snapshot) is folded afresh.
  const kept = folds.current ?? (restore === undefined ? undefined : await Promise.resolve().then(restore).catch(() => undefined));
  const fold = kept !== undefined && kept.foldedHead <= head && kept.moveTo(o.asOfMs) ? kept : new LogFold(source.policy, o.asOfMs);
  folds.current = fold;
  try {
    return await viewsOf(source, o, fold, { head, page: folds.page, started, scanFrom: t0, phasesMs, timed });
  } catch (e) {
    // A fold that fails part-way (a restored one whose part is corrupt, read late) is not kept: the next build folds the log afresh.
    if (folds.current === fold) delete folds.current;
    throw e;
  }
}

/** buildDashboard's views from its fold, caught up to `head`; the build started at `started`, reading (the scan phase) at `scanFrom`. */
async function viewsOf(
  source: DashboardSource,
  o: BuildOptions,
  fold: LogFold,
  { head, page, started, scanFrom, phasesMs, timed }: { head: number; page: number | undefined; started: number; scanFrom: number; phasesMs: Record<Phase, number>; timed: Timer },
): Promise<DashboardModel> {
  let t0 = scanFrom;
  const from = fold.foldedHead;
  await fold.catchUp(source, head, page);
  const scan = fold.scan();
  const { tallies, traffic, joined } = scan;
  const templates = await source.templates();
  const refinements = [...(await source.refinements())].sort(
    (a, b) => Number(b.status === 'open') - Number(a.status === 'open') || b.openedAtMs - a.openedAtMs || byString(a.refinementId, b.refinementId),
  );
  phasesMs.scan = performance.now() - t0;
  const failures = timed('failures', () => tallies.failures.report(o.asOfMs, o.rules));
  const { overview, lift } = overviewOf(fold, scan, templates, refinements, o.rules, o.asOfMs, timed);
  t0 = performance.now();
  const matrix = await matrixOf(source, tallies);
  phasesMs.matrix = performance.now() - t0;
  const lineage = timed('lineage', () => lineageOf(templates, refinements, tallies, overview.scoreboard));
  return {
    // A page may have read past the head asked for: the model holds what was folded.
    head: Math.max(head, fold.foldedHead),
    asOfMs: o.asOfMs,
    overview,
    matrix,
    traffic,
    lift: liftOf(joined, overview.scoreboard, lift),
    failures: { failedRuns: failures.failedRuns, rulesVersion: failures.rulesVersion, patterns: failures.patterns.slice(0, o.maxPatterns ?? 50), needingRule: failures.needingRule },
    refinements,
    lineage,
    eventsFolded: fold.foldedHead - from,
    buildMs: performance.now() - started,
    phasesMs,
  };
}
