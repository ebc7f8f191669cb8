/**
 * `report weekly`: the strategy summary for the coordinator and the operator: what improved,
 * what regressed, the recommended default template per task class with its evidence, open
 * refinements, and the top failure patterns with their remediations.
 */
import { failuresReport, type FailurePattern, type RemediationRules } from './failures.js';
import { groupBy, metricsOf, type Metrics } from './metrics.js';
import { byString, refinementsOpenAt, rowsAsOf, templatesAsOf, type LogRows, type RefinementRow, type RunRow, type TemplateRow } from './rows.js';
import { outcomesReport, type OutcomesReport, type TimedDecision } from './outcomes.js';
import { normalCdf } from './stats.js';
import { recentChanges, trendReport, type Change, type TrendOptions, type TrendSeries } from './trend.js';

const MS_PER_DAY = 86_400_000;

export interface Recommendation {
  readonly taskClass: string;
  /** The template with the highest posterior mean pass rate, or '' when none has runs. */
  readonly templateId: string;
  readonly metrics: Metrics | null;
  /** Posterior mean under a uniform prior: (1 + passes) / (2 + judged). */
  readonly posteriorMean: number;
  /** The next best template in the class ('' when there is none), and its record. */
  readonly runnerUp: string;
  readonly runnerUpPosteriorMean: number;
  readonly runnerUpPassRate: number;
  readonly runnerUpJudged: number;
  /** P(chosen's rate > runner-up's), normal approximation to the two Beta posteriors; 1 without a runner-up. */
  readonly probBetter: number;
  /**
   * 'strong' (P >= 0.95 and enough judged runs), 'moderate' (P >= 0.75), 'weak', 'no alternative'
   * when only one template has runs in the class (nothing to compare it with), or 'none' when no
   * template with runs in the class could be recommended (all were retired by then).
   */
  readonly confidence: 'strong' | 'moderate' | 'weak' | 'no alternative' | 'none';
}

export interface WeeklyReport {
  readonly kind: 'weekly';
  readonly asOfMs: number;
  readonly weekStartMs: number;
  readonly thisWeek: Metrics;
  readonly lastWeek: Metrics;
  readonly improved: readonly Change[];
  readonly regressed: readonly Change[];
  readonly overallTrend: TrendSeries;
  readonly recommendations: readonly Recommendation[];
  readonly openRefinements: readonly RefinementRow[];
  /** Templates of the open refinements that were retired at asOfMs (the item waits for a person all the same). */
  readonly openRefinementsRetired: readonly string[];
  readonly topFailures: readonly FailurePattern[];
  readonly needingRule: readonly string[];
  readonly rulesVersion: number;
  /** The scoreboard over the weeks the trend shows. */
  readonly scoreboard: OutcomesReport;
}

export interface WeeklyInput extends LogRows {
  /** Logged decisions with outcomes, for the scoreboard's off-policy lift (none: no lift shown). */
  readonly decisions?: readonly TimedDecision[];
  readonly rules: RemediationRules;
  readonly asOfMs: number;
  readonly trend?: Partial<TrendOptions>;
  /** Fewest judged runs for a 'strong' recommendation (default 10). */
  readonly minRuns?: number;
  /** Failure patterns shown (default 5). */
  readonly topFailures?: number;
}

function beta(m: Metrics): { mean: number; variance: number } {
  const a = 1 + m.passes;
  const b = 1 + m.judged - m.passes;
  const mean = a / (a + b);
  return { mean, variance: (mean * (1 - mean)) / (a + b + 1) };
}

/**
 * The default template per task class, from every run in that class (all time up to asOf), among
 * the templates `templates` says are not retired (pass them as of the report's date: templatesAsOf).
 */
export function recommendDefaults(rows: readonly RunRow[], templates: readonly TemplateRow[], minRuns = 10): Recommendation[] {
  const retired = new Set(templates.filter((t) => t.status === 'retired').map((t) => t.templateId));
  return groupBy(rows, (r) => r.taskClass).map(([taskClass, rs]) => {
    const ranked = groupBy(rs.filter((r) => !retired.has(r.templateId)), (r) => r.templateId)
      .map(([templateId, trs]) => {
        const metrics = metricsOf(trs);
        return { templateId, metrics, ...beta(metrics) };
      })
      .sort((a, b) => b.mean - a.mean || byString(a.templateId, b.templateId));
    const best = ranked[0];
    const second = ranked[1];
    if (best === undefined) {
      return { taskClass, templateId: '', metrics: null, posteriorMean: 0, runnerUp: '', runnerUpPosteriorMean: 0, runnerUpPassRate: 0, runnerUpJudged: 0, probBetter: 0, confidence: 'none' as const };
    }
    const probBetter = second === undefined ? 1 : normalCdf((best.mean - second.mean) / Math.sqrt(best.variance + second.variance));
    const confidence =
      second === undefined
        ? 'no alternative'
        : probBetter >= 0.95 && best.metrics.judged >= minRuns
          ? 'strong'
          : probBetter >= 0.75 && best.metrics.judged > 0
            ? 'moderate'
            : 'weak';
    return {
      taskClass,
      templateId: best.templateId,
      metrics: best.metrics,
      posteriorMean: best.mean,
      runnerUp: second?.templateId ?? '',
      runnerUpPosteriorMean: second?.mean ?? 0,
      runnerUpPassRate: second?.metrics.passRate ?? 0,
      runnerUpJudged: second?.metrics.judged ?? 0,
      probBetter,
      confidence,
    };
  });
}

/**
 * The weekly strategy summary as of `asOfMs` (the week is the 7 days ending then).
 */
export function weeklyReport(input: WeeklyInput): WeeklyReport {
  const rows = rowsAsOf(input.rows, input.asOfMs);
  const weekEnd = input.asOfMs + 1;
  const weekStartMs = weekEnd - 7 * MS_PER_DAY;
  const inRange = (a: number, b: number) => rows.filter((r) => r.finishedAtMs >= a && r.finishedAtMs < b);
  const trend = trendReport(rows, input.asOfMs, { windowDays: 7, ...input.trend });
  // New since the first window shown: the latest change of each series, if it is that recent.
  const recent = recentChanges(trend.changes, trend.overall.points[0]?.startMs ?? input.asOfMs);
  const failures = failuresReport(rows, input.asOfMs, input.rules);
  const templates = templatesAsOf(input.templates, input.asOfMs);
  const openRefinements = refinementsOpenAt(input.refinements, input.asOfMs).sort((a, b) => byString(a.refinementId, b.refinementId));
  const retired = new Set(templates.filter((t) => t.status === 'retired').map((t) => t.templateId));
  return {
    kind: 'weekly',
    asOfMs: input.asOfMs,
    weekStartMs,
    thisWeek: metricsOf(inRange(weekStartMs, weekEnd)),
    lastWeek: metricsOf(inRange(weekStartMs - 7 * MS_PER_DAY, weekStartMs)),
    improved: recent.filter((c) => c.direction === 'improved'),
    regressed: recent.filter((c) => c.direction === 'regressed'),
    overallTrend: trend.overall,
    recommendations: recommendDefaults(rows, templates, input.minRuns ?? 10),
    openRefinements,
    openRefinementsRetired: [...new Set(openRefinements.map((r) => r.templateId).filter((id) => retired.has(id)))].sort(byString),
    topFailures: failures.patterns.slice(0, input.topFailures ?? 5),
    needingRule: failures.needingRule,
    rulesVersion: failures.rulesVersion,
    scoreboard: outcomesReport({
      rows,
      templates: input.templates,
      refinements: input.refinements,
      decisions: input.decisions ?? [],
      rules: input.rules,
      sinceMs: trend.overall.points[0]?.startMs ?? input.asOfMs - 7 * MS_PER_DAY,
      untilMs: input.asOfMs,
    }),
  };
}
