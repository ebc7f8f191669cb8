/** Each report model as a document (render/doc.ts) for the Markdown and HTML renderers. */
import type { FailuresReport } from './failures.js';
import { NO_DATA, rateText, type Metrics } from './metrics.js';
import { OUTCOME_METRICS, SCOREBOARD_ALPHA, type Difference, type OutcomeMetric, type OutcomesReport, type Proportion } from './outcomes.js';
import type { RepeatShare, RepeatsSection } from './repeats.js';
import type { RefinementRow } from './rows.js';
import type { ScoreRow, ScoresReport, TemplateScoreRow } from './scores.js';
import type { Change, TrendReport, TrendSeries } from './trend.js';
import type { WeeklyReport } from './weekly.js';
import { fmt, joinInline, quote, type Block, type Inline, type LineChart } from './render/doc.js';

/** Keys and their counts, "a@v1 (3), b@v1 (2)", each key quoted (ids come from the log). */
const counted = (list: ReadonlyArray<{ readonly key: string; readonly count: number }>): Inline =>
  joinInline(list.map((t) => [quote(t.key), ` (${t.count})`]), ', ');

/** A pattern's remediation as "[rule id] action", quoted (the rules file is text from maintainers, not from us). */
const remedyText = (r: FailuresReport['patterns'][number]['remediation']): Inline => (r ? ['[', quote(r.ruleId), '] ', quote(r.action)] : 'no rule');

const SCORE_HEADERS = ['', 'runs', 'judged', 'pass rate', '95% CI', 'first-try pass', 'retry rate', 'timeout rate', 'unverified', 'median s'];
const SCORE_NUMERIC = [false, true, true, true, true, true, true, true, true, true];

function scoreCells(key: Inline, m: Metrics): Inline[] {
  return [
    key,
    fmt.num(m.runs),
    fmt.num(m.judged),
    rateText(m.passRate, m.judged),
    m.judged > 0 ? fmt.interval(m.passRateLow, m.passRateHigh) : NO_DATA,
    m.judgedTasks > 0 ? `${fmt.pct(m.firstTryPassRate)} (${m.firstTryPasses}/${m.judgedTasks})` : NO_DATA,
    rateText(m.retryRate, m.tasks),
    rateText(m.timeoutRate, m.runs),
    fmt.num(m.unverified),
    m.runs > 0 ? fmt.num(m.medianDurationSeconds) : NO_DATA,
  ];
}

function scoreTable(title: string, rows: readonly ScoreRow[]): Block[] {
  return [
    { kind: 'heading', level: 2, text: title },
    { kind: 'table', headers: [title.replace(/^By /, ''), ...SCORE_HEADERS.slice(1)], rows: rows.map((r) => scoreCells(quote(r.key), r)), numeric: SCORE_NUMERIC },
  ];
}

/** Per template, with the evidence level `scores` and GetScores show for the whole log. */
function templateScoreTable(rows: readonly TemplateScoreRow[]): Block[] {
  return [
    { kind: 'heading', level: 2, text: 'By template' },
    {
      kind: 'table',
      headers: ['template', ...SCORE_HEADERS.slice(1), 'evidence'],
      rows: rows.map((r) => [...scoreCells(quote(r.key), r), r.evidence || NO_DATA]),
      numeric: [...SCORE_NUMERIC, false],
    },
  ];
}

const NOTES =
  'Pass rate = passes / judged runs (infra errors and unverified runs are not judged), with a 95% Wilson interval. ' +
  'First-try pass = tasks whose first attempt passed / judged tasks. Retry rate = tasks with an attempt after the first or retries inside a run / tasks. ' +
  `${NO_DATA} = nothing to judge. Definitions: docs/reports.md.`;

export function scoresDoc(r: ScoresReport) {
  const judged = r.byTemplate.filter((t) => t.judged > 0);
  return {
    title: 'learnloop scores',
    subtitle: `As of ${fmt.time(r.asOfMs)} UTC · ${fmt.count(r.overall.runs, 'run')}, ${fmt.count(r.overall.tasks, 'task')}`,
    blocks: [
      { kind: 'para', text: NOTES },
      { kind: 'heading', level: 2, text: 'Overall' },
      { kind: 'table', headers: ['', ...SCORE_HEADERS.slice(1)], rows: [scoreCells('all runs', r.overall)], numeric: SCORE_NUMERIC },
      {
        kind: 'chart',
        chart: {
          kind: 'bar',
          title: 'Pass rate per template (95% interval)',
          scale: 'rate',
          bars: judged.map((t) => ({ label: t.key, value: t.passRate, low: t.passRateLow, high: t.passRateHigh, n: t.judged })),
        },
      },
      ...templateScoreTable(r.byTemplate),
      ...scoreTable('By task class', r.byTaskClass),
      ...scoreTable('By repository', r.byRepo),
    ] satisfies Block[],
  };
}

const METRIC_WORDS: Record<Change['metric'], string> = {
  pass_rate: 'pass rate',
  retry_rate: 'retry rate',
};

const SCOPE_WORDS: Record<Change['scopeKind'], string> = { overall: '', template: 'template ', task_class: 'task class ' };

/** A change point in one line: where (quoted), what, when (with its likely range), how big and how sure. */
export function changeText(c: Change): Inline {
  const when = c.earliestMs === c.latestMs ? fmt.date(c.atMs) : `${fmt.date(c.atMs)} (likely ${fmt.date(c.earliestMs)} to ${fmt.date(c.latestMs)})`;
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
  return [
    SCOPE_WORDS[c.scopeKind],
    c.scopeKind === 'overall' ? c.scope : quote(c.scope),
    `: ${METRIC_WORDS[c.metric]} ${c.direction} from ${when} — ` +
      `${fmt.pct(c.beforeRate)} (n=${c.beforeN}) → ${fmt.pct(c.afterRate)} (n=${c.afterN}), ` +
      `${signed(c.size)} points (95% CI ${signed(c.sizeLow)} to ${signed(c.sizeHigh)}), p${c.pValue < 0.001 ? '<0.001' : `=${c.pValue.toFixed(3)}`}`,
  ];
}

function trendChart(title: string, series: readonly TrendSeries[], pick: 'passRate' | 'retryRate'): LineChart {
  const labels = (series[0]?.points ?? []).map((p) => fmt.date(p.startMs).slice(5));
  return {
    kind: 'line',
    title,
    yMax: 1,
    xLabels: labels,
    series: series.map((s) => ({
      name: s.scope,
      values: s.points.map((p) => (pick === 'passRate' ? (p.judged > 0 ? p.passRate : null) : p.tasks > 0 ? p.retryRate : null)),
      counts: s.points.map((p) => (pick === 'passRate' ? p.judged : p.tasks)),
      ...(pick === 'passRate'
        ? { low: s.points.map((p) => (p.judged > 0 ? p.passRateLow : null)), high: s.points.map((p) => (p.judged > 0 ? p.passRateHigh : null)) }
        : { low: s.points.map((p) => (p.tasks > 0 ? p.retryRateLow : null)), high: s.points.map((p) => (p.tasks > 0 ? p.retryRateHigh : null)) }),
    })),
  };
}

/** A rate with its 95% interval, e.g. "58.3% (41–74%)"; '–' without data. */
const withInterval = (n: number, rate: number, lo: number, hi: number) => (n > 0 ? `${fmt.pct(rate)} (${fmt.interval(lo, hi)})` : NO_DATA);

function seriesTable(s: TrendSeries): Block {
  return {
    kind: 'table',
    headers: ['window start', 'runs', 'judged', 'pass rate (95% CI)', 'first-try pass (95% CI)', 'retry rate (95% CI)', 'timeout rate (95% CI)'],
    numeric: [false, true, true, true, true, true, true],
    rows: s.points.map((p) => [
      p.partial ? `${fmt.date(p.startMs)} (partial)` : fmt.date(p.startMs),
      fmt.num(p.runs),
      fmt.num(p.judged),
      withInterval(p.judged, p.passRate, p.passRateLow, p.passRateHigh),
      withInterval(p.judgedTasks, p.firstTryPassRate, p.firstTryPassRateLow, p.firstTryPassRateHigh),
      withInterval(p.tasks, p.retryRate, p.retryRateLow, p.retryRateHigh),
      withInterval(p.runs, p.timeoutRate, p.timeoutRateLow, p.timeoutRateHigh),
    ]),
  };
}

export function trendDoc(r: TrendReport) {
  const o = r.options;
  return {
    title: 'learnloop trend',
    subtitle: `As of ${fmt.time(r.asOfMs)} UTC · ${o.windows} windows of ${o.windowDays} days`,
    blocks: [
      {
        kind: 'para',
        text:
          `Change points over each series' whole history (overall, per template, per task class): binary segmentation ` +
          `with a CUSUM scan over day boundaries, at least ${o.minRuns} outcomes on each side, a seeded permutation ` +
          `test at ${o.alpha} per scope split over pass rate and retry rate; the likely range of each date is its ` +
          `likelihood region. Windows marked partial start before the log's first run; the detector reads runs, not windows.`,
      },
      { kind: 'heading', level: 2, text: 'Changes' },
      { kind: 'list', items: r.changes.length > 0 ? r.changes.map(changeText) : ['no change points'] },
      { kind: 'chart', chart: trendChart('Pass rate per window, overall (95% interval)', [r.overall], 'passRate') },
      { kind: 'chart', chart: trendChart('Pass rate per window, per template (95% interval, judged runs on points)', r.byTemplate, 'passRate') },
      { kind: 'chart', chart: trendChart('Retry rate per window, per template (95% interval, tasks on points)', r.byTemplate, 'retryRate') },
      { kind: 'heading', level: 2, text: 'Overall' },
      seriesTable(r.overall),
      ...r.byTemplate.flatMap((s): Block[] => [{ kind: 'heading', level: 3, text: ['Template ', quote(s.scope)] }, seriesTable(s)]),
    ] satisfies Block[],
  };
}

export function failuresDoc(r: FailuresReport) {
  return {
    title: 'learnloop failure patterns',
    subtitle: `As of ${fmt.time(r.asOfMs)} UTC · ${fmt.count(r.failedRuns, 'run')} that did not pass · rules version ${r.rulesVersion}`,
    blocks: [
      {
        kind: 'para',
        text: 'A signature is the outcome and the failure reason with paths, numbers, hashes and quoted text replaced by placeholders; exit codes are kept. Remediations come from rules/remediations.json.',
      },
      {
        kind: 'chart',
        chart: { kind: 'bar', title: 'Most frequent failure patterns', scale: 'count', bars: r.patterns.slice(0, 10).map((p) => ({ label: p.signature, value: p.count })) },
      },
      { kind: 'heading', level: 2, text: 'Patterns' },
      {
        kind: 'table',
        headers: ['signature', 'count', 'first seen', 'last seen', 'templates', 'segments', 'examples', 'remediation'],
        numeric: [false, true, false, false, false, false, false, false],
        rows: r.patterns.map((p) => [
          quote(p.signature),
          fmt.num(p.count),
          fmt.date(p.firstSeenMs),
          fmt.date(p.lastSeenMs),
          counted(p.byTemplate),
          counted(p.bySegment),
          joinInline(p.examples.map((e) => quote(e.runId)), ', '),
          remedyText(p.remediation),
        ]),
      },
      { kind: 'heading', level: 2, text: 'Recurring patterns that need a rule' },
      { kind: 'list', items: r.needingRule.map(quote) },
    ] satisfies Block[],
  };
}

export function refinementCells(x: RefinementRow, retired: ReadonlySet<string> = new Set()): Inline[] {
  return [quote(x.refinementId), retired.has(x.templateId) ? [quote(x.templateId), ' (retired)'] : quote(x.templateId), x.trigger, fmt.date(x.openedAtMs), quote(x.summary)];
}

export function weeklyDoc(r: WeeklyReport) {
  const delta = (a: Metrics, b: Metrics) =>
    a.judged > 0 && b.judged > 0 ? ` (${a.passRate >= b.passRate ? '+' : ''}${((a.passRate - b.passRate) * 100).toFixed(1)} points on last week)` : '';
  return {
    title: 'learnloop weekly strategy summary',
    subtitle: `Week ${fmt.date(r.weekStartMs)} to ${fmt.date(r.asOfMs)} (as of ${fmt.time(r.asOfMs)} UTC)`,
    blocks: [
      {
        kind: 'para',
        text:
          `This week: ${fmt.count(r.thisWeek.runs, 'run')} on ${fmt.count(r.thisWeek.tasks, 'task')}; pass rate ` +
          (r.thisWeek.judged > 0 ? `${fmt.pct(r.thisWeek.passRate)} (95% CI ${fmt.interval(r.thisWeek.passRateLow, r.thisWeek.passRateHigh)})` : NO_DATA) +
          `${delta(r.thisWeek, r.lastWeek)}; retry rate ${rateText(r.thisWeek.retryRate, r.thisWeek.tasks)}; ${r.thisWeek.unverified} unverified.`,
      },
      { kind: 'chart', chart: trendChart('Pass rate per week, overall (95% interval)', [r.overallTrend], 'passRate') },
      { kind: 'heading', level: 2, text: 'What improved' },
      { kind: 'list', items: r.improved.map(changeText) },
      { kind: 'heading', level: 2, text: 'What regressed' },
      { kind: 'list', items: r.regressed.map(changeText) },
      { kind: 'heading', level: 2, text: 'Recommended default template per task class' },
      {
        kind: 'table',
        headers: ['task class', 'template', 'judged', 'pass rate', '95% CI', 'runner-up', 'P(better)', 'confidence'],
        numeric: [false, false, true, true, true, false, true, false],
        rows: r.recommendations.map((x) => [
          quote(x.taskClass),
          x.confidence === 'none' ? 'none: every template with runs here was retired' : quote(x.templateId),
          x.metrics ? fmt.num(x.metrics.judged) : '0',
          x.metrics && x.metrics.judged > 0 ? fmt.pct(x.metrics.passRate) : NO_DATA,
          x.metrics && x.metrics.judged > 0 ? fmt.interval(x.metrics.passRateLow, x.metrics.passRateHigh) : NO_DATA,
          x.runnerUp ? [quote(x.runnerUp), ` (${fmt.pct(x.runnerUpPassRate)} of ${x.runnerUpJudged})`] : NO_DATA,
          x.runnerUp ? x.probBetter.toFixed(3) : NO_DATA,
          x.confidence === 'none' ? NO_DATA : x.confidence,
        ]),
      },
      { kind: 'heading', level: 2, text: 'Open refinements' },
      { kind: 'table', headers: ['item', 'template', 'trigger', 'opened', 'evidence'], rows: r.openRefinements.map((x) => refinementCells(x, new Set(r.openRefinementsRetired))) },
      { kind: 'heading', level: 2, text: 'Top failure patterns and remediations' },
      {
        kind: 'table',
        // Counted over the whole log: the last time a pattern was seen tells one still failing from one fixed long ago.
        headers: ['signature', 'count', 'last seen', 'templates', 'remediation', 'why'],
        numeric: [false, true, false, false, false, false],
        rows: r.topFailures.map((p) => [
          quote(p.signature),
          fmt.num(p.count),
          fmt.date(p.lastSeenMs),
          counted(p.byTemplate),
          p.remediation ? quote(p.remediation.action) : 'no rule yet',
          p.remediation ? quote(p.remediation.rationale) : '',
        ]),
      },
      { kind: 'heading', level: 3, text: `Recurring patterns with no rule (rules version ${r.rulesVersion})` },
      { kind: 'list', items: r.needingRule.map(quote) },
      ...scoreboardBlocks(r.scoreboard),
    ] satisfies Block[],
  };
}

const OUTCOME_WORDS: Record<OutcomeMetric, string> = { pass_rate: 'pass rate', retry_rate: 'retry rate', repeat_share: 'repeated failures' };
const SPARK = '▁▂▃▄▅▆▇█';

/** A rate series as a text sparkline on a fixed 0–100% scale ('·' where there is no data). */
export function sparkline(points: readonly Proportion[]): string {
  return points.map((p) => (p.n > 0 ? SPARK[Math.min(SPARK.length - 1, Math.floor(p.rate * SPARK.length))] : '·')).join('');
}

const prop = (p: Proportion) => (p.n > 0 ? `${fmt.pct(p.rate)} (${fmt.interval(p.low, p.high)}, n=${p.n})` : NO_DATA);
const points = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`;
const diff = (d: Difference, a: Proportion, b: Proportion) =>
  a.n > 0 && b.n > 0 ? `${points(d.estimate)} points (${(d.level * 100).toFixed(1)}% CI ${points(d.low)} to ${points(d.high)})` : NO_DATA;
const ci = (i: { estimate: number; ciLow: number; ciHigh: number }, signed = false) =>
  signed ? `${points(i.estimate)} points (95% CI ${points(i.ciLow)} to ${points(i.ciHigh)})` : `${fmt.pct(i.estimate)} (95% CI ${fmt.interval(i.ciLow, i.ciHigh)})`;

/** The scoreboard section: shared by `report outcomes`, `report weekly` and the dashboard. */
export function scoreboardBlocks(r: OutcomesReport): Block[] {
  const o = r.options;
  const lift = r.lift.estimate;
  return [
    { kind: 'heading', level: 2, text: `Scoreboard: ${fmt.date(o.sinceMs)} to ${fmt.date(o.untilMs)}` },
    {
      kind: 'para',
      text:
        `Start = ${fmt.date(o.sinceMs)} to ${fmt.date(r.startUntilMs - 1)}, end = ${fmt.date(r.endSinceMs)} to ${fmt.date(o.untilMs)} (the window's first and last thirds). ` +
        `A change is credible when its ${((1 - SCOREBOARD_ALPHA / 3) * 100).toFixed(1)}% Newcombe interval excludes 0: the 5% error is shared by the three metrics, ` +
        `so where nothing changed the section claims a change about 5% of the time or less. Start and end rates carry 95% Wilson intervals. ` +
        `Sparklines: one mark per ${o.binDays} days on a 0–100% scale.`,
    },
    {
      kind: 'table',
      headers: ['metric', 'start', 'end', 'change', 'verdict', `per ${o.binDays} days`, 'attributed to'],
      numeric: [false, true, true, true, false, false, false],
      rows: r.metrics.map((m) => [
        `${OUTCOME_WORDS[m.metric]} (${m.higherIsBetter ? 'up is better' : 'down is better'})`,
        prop(m.start),
        prop(m.end),
        diff(m.change, m.start, m.end),
        m.verdict,
        sparkline(m.spark),
        m.attributedTo.length > 0 ? joinInline(m.attributedTo.map(quote), ', ') : NO_DATA,
      ]),
    },
    {
      kind: 'chart',
      chart: {
        kind: 'line',
        title: `The three metrics per ${o.binDays} days (95% intervals, runs, tasks or failed runs on points)`,
        yMax: 1,
        xLabels: (r.metrics[0]?.spark ?? []).map((_, i) => fmt.date(o.sinceMs + i * o.binDays * 86_400_000).slice(5)),
        series: r.metrics.map((m) => ({
          name: OUTCOME_WORDS[m.metric],
          values: m.spark.map((p) => (p.n > 0 ? p.rate : null)),
          low: m.spark.map((p) => (p.n > 0 ? p.low : null)),
          high: m.spark.map((p) => (p.n > 0 ? p.high : null)),
          counts: m.spark.map((p) => p.n),
        })),
        // The accepted refinements in the window, on the bin they fall in.
        markers: r.refinements
          .filter((x) => x.decidedAtMs >= o.sinceMs)
          .map((x) => ({ xLabel: fmt.date(o.sinceMs + Math.floor((x.decidedAtMs - o.sinceMs) / (o.binDays * 86_400_000)) * o.binDays * 86_400_000).slice(5), label: x.refinementId })),
      },
    },
    { kind: 'heading', level: 3, text: 'What learnloop contributed' },
    {
      kind: 'para',
      text:
        lift === null
          ? `Off-policy lift: no logged decisions with outcomes in the window.`
          : `Off-policy lift over uniform in the window (${fmt.count(lift.decisions, 'decision')} with outcomes, effective sample size ${lift.effectiveSampleSize.toFixed(1)}): ` +
            `deployed policy ${ci(lift.deployed)}; uniform by doubly robust ${ci(lift.uniform.dr)}; lift ${ci(lift.lift.dr, true)}. ` +
            `IPS lift ${ci(lift.lift.ips, true)}, SNIPS lift ${ci(lift.lift.snips, true)}.`,
    },
    r.refinements.length === 0
      ? { kind: 'para', text: 'No accepted refinement has a new version with runs in the window.' }
      : {
        kind: 'table',
        headers: ['refinement', 'parent → new version', 'accepted', ...OUTCOME_METRICS.map((m) => `${OUTCOME_WORDS[m]}: parent → new, change`)],
        numeric: [false, false, false, true, true, true],
        rows: r.refinements.map((x) => [
          quote(x.refinementId),
          [quote(x.parentTemplateId), ' → ', quote(x.newTemplateId)],
          fmt.date(x.decidedAtMs),
          ...x.effects.map((e) => `${rateText(e.parent.rate, e.parent.n)} → ${rateText(e.child.rate, e.child.n)}, ${diff(e.change, e.parent, e.child)}: ${e.verdict}`),
        ]),
      },
  ];
}

function repeatsBlocks(s: RepeatsSection): Block[] {
  const share = (x: RepeatShare) => (x.failed > 0 ? `${fmt.pct(x.share)} (${fmt.interval(x.low, x.high)}) of ${x.failed}` : NO_DATA);
  return [
    { kind: 'heading', level: 2, text: `Repeated failures (look-back ${s.windowDays} days)` },
    {
      kind: 'para',
      text:
        `A failed run (fail, partial or timeout) repeats when the same failure pattern was seen in the ${s.windowDays} days before it for the same template ` +
        `(its refined versions included) — or, separately, in the same repository. Share of failed runs that are repeats, 95% Wilson interval: ` +
        `same template ${share(s.overall.template)}; same repository ${share(s.overall.repo)}.` +
        (s.unjudgeable > 0 ? ` ${fmt.count(s.unjudgeable, 'failed run')} within ${fmt.count(s.windowDays, 'day')} of the log's first run are left out (no look-back).` : ''),
    },
    {
      kind: 'table',
      headers: ['template', 'failed runs', 'repeats', 'share (95% CI)'],
      numeric: [false, true, true, true],
      rows: s.byTemplate.map((t) => [quote(t.key), fmt.num(t.failed), fmt.num(t.repeats), t.failed > 0 ? `${fmt.pct(t.share)} (${fmt.interval(t.low, t.high)})` : NO_DATA]),
    },
    {
      kind: 'table',
      headers: ['repository', 'failed runs', 'repeats', 'share (95% CI)'],
      numeric: [false, true, true, true],
      rows: s.byRepo.map((t) => [quote(t.key), fmt.num(t.failed), fmt.num(t.repeats), t.failed > 0 ? `${fmt.pct(t.share)} (${fmt.interval(t.low, t.high)})` : NO_DATA]),
    },
    { kind: 'heading', level: 3, text: 'Patterns that recur most' },
    {
      kind: 'table',
      headers: ['signature', 'repeats', 'failed runs', 'templates', 'remediation', 'refinement'],
      numeric: [false, true, true, false, false, false],
      rows: s.patterns.map((p) => [
        quote(p.signature),
        fmt.num(p.repeats),
        fmt.num(p.failures),
        counted(p.byTemplate),
        remedyText(p.remediation),
        p.refinements.length > 0
          ? joinInline(
            p.refinements.map((x) => [
              quote(x.refinementId), ' → ', quote(x.newTemplateId), ` (${fmt.date(x.decidedAtMs)}): `,
              ...(x.repeatsSince === 0 ? ['not repeated since'] : [`repeated ${x.repeatsSince} times on `, quote(x.newTemplateId)]),
            ]),
            '; ',
          )
          : 'none addressed it',
      ]),
    },
  ];
}

export function outcomesDoc(r: OutcomesReport) {
  return {
    title: 'learnloop outcomes',
    subtitle: `${fmt.time(r.options.sinceMs)} to ${fmt.time(r.options.untilMs)} UTC`,
    blocks: [...scoreboardBlocks(r), ...repeatsBlocks(r.repeats)] satisfies Block[],
  };
}
