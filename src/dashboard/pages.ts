/**
 * The dashboard's pages: server-rendered HTML (tables and numbers need no script), with each chart
 * as a Vega-Lite spec in a JSON script element that /assets/dashboard.js hands to vega-embed.
 */
import { barsSpec, escapeXml as esc, intervalDotsSpec, matrixSpec, rateLinesSpec, shareAreaSpec, type RatePoint } from '../charts/index.js';
import { changeText, fmt, htmlText, inlineHtml, isolatedHtml, printable, type Change, type Metrics, type TrendSeries } from '../reports/index.js';
import type { DashboardModel, LineageNode, MatrixCell, TrafficWeek } from './model.js';

export interface PageContext {
  /** Form field that proves a POST came from one of our pages. */
  readonly csrf: string;
  /** A one-line message after an action, or ''. */
  readonly flash: string;
  readonly flashIsError: boolean;
  /** The scoreboard section as the reports render it (overview only), or ''. */
  readonly scoreboardHtml: string;
  /** The log has moved since this model was built and a newer build is running. */
  readonly stale: boolean;
}

export const VIEWS = [
  ['overview', '/', 'Overview'],
  ['matrix', '/matrix', 'Template × task class'],
  ['traffic', '/traffic', 'Traffic & P(best)'],
  ['lift', '/lift', 'Lift'],
  ['failures', '/failures', 'Failures'],
  ['refinements', '/refinements', 'Refinements'],
  ['templates', '/templates', 'Lineage'],
] as const;

export type ViewName = (typeof VIEWS)[number][0];

let chartSeq = 0;
/** A chart placeholder: the spec travels as JSON (not executed), '<' escaped so it cannot end the element. */
function chart(spec: unknown, caption: string): string {
  const id = `chart-${++chartSeq}`;
  const json = JSON.stringify(spec).replace(/</g, '\\u003c');
  return `<figure class="vl" data-spec="${id}"><div class="vl-target" role="img" aria-label="${esc(caption)}"></div><script type="application/json" id="${id}">${json}</script><figcaption>${esc(caption)}</figcaption></figure>`;
}

const points = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, numeric: readonly boolean[] = [], cls = ''): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * Cells are HTML: every text value passes through htmlText() on its way in (printable(), then esc()), so a
 * control or bidirectional formatting character in it shows as its escape (`\u202e`), as a terminal and the
 * HTML reports show it, instead of reordering what the operator reads ("Trojan Source").
 */
const cell = (s: string | number) => htmlText(String(s));
/** Free text from callers (failure text, reasons, names) in a cell: isolated, so right-to-left letters in it cannot reorder the words beside it. */
const freeText = isolatedHtml;

/** Ids longer than this may wrap anywhere in a table (an id may have 256 characters). */
const LONG_ID = 32;
/** An id in a table, whole: on one line when short; a long one wraps anywhere, so the table still fits the page. */
const idCell = (s: string) => `<code class="id${s.length > LONG_ID ? ' long' : ''}" dir="auto">${cell(s)}</code>`;

/** A value and its interval or counts: where the column is narrow they wrap between the two, never inside either. */
const withDetail = (value: string, detail: string) => `<span class="nb">${cell(value)}</span> <span class="nb">(${cell(detail)})</span>`;

function metricCells(m: Metrics): string[] {
  return [
    cell(m.runs),
    cell(m.judged),
    m.judged > 0 ? withDetail(fmt.pct(m.passRate), fmt.interval(m.passRateLow, m.passRateHigh)) : '–',
    m.judgedTasks > 0 ? withDetail(fmt.pct(m.firstTryPassRate), `${m.firstTryPasses}/${m.judgedTasks}`) : '–',
    m.tasks > 0 ? withDetail(fmt.pct(m.retryRate), fmt.interval(m.retryRateLow, m.retryRateHigh)) : '–',
  ];
}
const METRIC_HEADERS = ['runs', 'judged', 'pass rate (95% CI)', 'first-try pass', 'retry rate (95% CI)'];


function seriesPoints(series: readonly TrendSeries[], metric: 'pass' | 'retry'): RatePoint[] {
  return series.flatMap((s) =>
    s.points.flatMap((p): RatePoint[] => {
      const n = metric === 'pass' ? p.judged : p.tasks;
      if (n === 0) return [];
      return metric === 'pass'
        ? [{ series: s.scope, x: p.startMs, value: p.passRate, low: p.passRateLow, high: p.passRateHigh, n }]
        : [{ series: s.scope, x: p.startMs, value: p.retryRate, low: p.retryRateLow, high: p.retryRateHigh, n }];
    }),
  );
}

function overviewBody(m: DashboardModel, ctx: PageContext): string {
  const o = m.overview;
  const t = o.totals;
  const card = `<section class="cards"><div class="card"><div class="card-title">All runs to ${fmt.date(m.asOfMs)}</div><div class="big" data-number="runs">${t.runs}</div><div class="sub">${t.judged} judged · pass rate <span data-number="pass-rate">${t.judged > 0 ? fmt.pct(t.passRate) : '–'}</span> (${t.judged > 0 ? fmt.interval(t.passRateLow, t.passRateHigh) : '–'}) · retry rate <span data-number="retry-rate">${t.tasks > 0 ? fmt.pct(t.retryRate) : '–'}</span> over ${fmt.count(t.tasks, 'task')}</div></div></section>`;
  // Each overall chart marks its own metric's changes, overall and per template, on the week each
  // falls in (so the axis ends at the last week, as the chart below's does); task-class ones are listed.
  const weeks = o.overall.points.map((p) => p.startMs);
  const markers = (metric: Change['metric']) =>
    o.changes.flatMap((c) => {
      const week = weeks.filter((w) => w <= c.atMs).pop();
      return c.scopeKind === 'task_class' || c.metric !== metric || week === undefined ? [] : [{ x: week, label: `${c.scope}: ${c.direction} ${fmt.date(c.atMs).slice(5)}` }];
    });
  return [
    card,
    `<section class="scoreboard">${ctx.scoreboardHtml}</section>`,
    '<h2>Changes</h2>',
    o.changes.length === 0 ? '<p class="none">no change points found</p>' : `<ul class="changes">${o.changes.map((c) => `<li class="${c.direction}">${inlineHtml(changeText(c))}</li>`).join('')}</ul>`,
    chart(
      rateLinesSpec(seriesPoints([o.overall], 'pass'), { title: 'Pass rate per week, all templates (95% interval, judged runs on points; dashed: pass-rate change points)', yTitle: 'pass rate', time: true, xTitle: 'week starting', width: 1000, markers: markers('pass_rate') }),
      'Overall pass rate per week',
    ),
    chart(
      rateLinesSpec(seriesPoints([o.overall], 'retry'), { title: 'Retry rate per week, all templates (95% interval, tasks on points; dashed: retry-rate change points)', yTitle: 'retry rate', time: true, xTitle: 'week starting', width: 1000, markers: markers('retry_rate') }),
      'Overall retry rate per week',
    ),
    chart(
      rateLinesSpec(seriesPoints(o.byTemplate, 'pass'), { title: 'Pass rate per week, per template (95% interval, judged runs on points)', yTitle: 'pass rate', time: true, xTitle: 'week starting', layout: 'panels', width: 340 }),
      'Pass rate per template per week',
    ),
  ].join('\n');
}

function matrixTable(cells: readonly MatrixCell[], withRepo: boolean): string {
  return table(
    ['template', 'task class', ...(withRepo ? ['repository'] : []), 'posterior pass rate (95% CI)', 'posterior expected reward (95% CI)', 'own pseudo-runs', 'borrowed', 'evidence', 'runs', 'pass rate'],
    cells.map((c) => [
      idCell(c.templateId),
      idCell(c.taskClass || '(none)'),
      ...(withRepo ? [idCell(c.repo)] : []),
      withDetail(fmt.pct(c.posteriorPassRate), fmt.interval(c.posteriorPassRateLow, c.posteriorPassRateHigh)),
      withDetail(fmt.pct(c.expectedReward), fmt.interval(c.expectedRewardLow, c.expectedRewardHigh)),
      cell(c.ownRuns.toFixed(1)),
      cell(c.borrowedRuns.toFixed(1)),
      cell(c.evidenceLabel),
      cell(c.runs),
      c.passRate === null ? '–' : cell(fmt.pct(c.passRate)),
    ]),
    [false, false, ...(withRepo ? [false] : []), true, true, true, true, false, true, true],
    'matrix',
  );
}

const toSpecCells = (cells: readonly MatrixCell[], segment: (c: MatrixCell) => string) =>
  cells.map((c) => ({ template: c.templateId, segment: segment(c), mean: c.posteriorPassRate, low: c.posteriorPassRateLow, high: c.posteriorPassRateHigh, own: Math.round(c.ownRuns * 10) / 10, borrowed: c.borrowedRuns, evidence: c.evidenceLabel }));

/** Most segments a matrix chart shows (the busiest); its table lists them all. */
const CHART_SEGMENTS = 10;

function busiest(cells: readonly MatrixCell[], segment: (c: MatrixCell) => string): MatrixCell[] {
  const runs = new Map<string, number>();
  for (const c of cells) runs.set(segment(c), (runs.get(segment(c)) ?? 0) + c.runs);
  const keep = new Set([...runs.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, CHART_SEGMENTS).map(([k]) => k));
  return cells.filter((c) => keep.has(segment(c)));
}

function matrixBody(m: DashboardModel): string {
  const { byTaskClass, byRepo } = m.matrix;
  const classOf = (c: MatrixCell) => c.taskClass || '(none)';
  const pairOf = (c: MatrixCell) => `${classOf(c)} / ${c.repo}`;
  return [
    '<p class="note">Each cell is the posterior pass rate of that template in that segment, as GetScores and <code>scores</code> show it: its own runs there, plus pseudo-runs borrowed from the wider levels (all task classes, the parent version) by empirical-Bayes pooling. The recommender decides on the expected reward (a partial counts as the partial reward), given in the tables beside it.</p>',
    chart(matrixSpec(toSpecCells(busiest(byTaskClass, classOf), classOf), { title: 'Posterior pass rate: template × task class (own + borrowed runs)', segmentTitle: 'task class' }), 'Template by task class matrix'),
    matrixTable(byTaskClass, false),
    '<h2>Template × task class × repository</h2>',
    byRepo.length === 0
      ? '<p class="none">no runs name a repository</p>'
      : chart(matrixSpec(toSpecCells(busiest(byRepo, pairOf), pairOf), { title: `Posterior pass rate: template × (task class / repository), the ${CHART_SEGMENTS} busiest (own + borrowed runs)`, segmentTitle: 'task class / repository' }), 'Template by task class and repository matrix') +
        matrixTable(byRepo, true),
  ].join('\n');
}

function trafficBody(traffic: readonly TrafficWeek[]): string {
  if (traffic.length === 0) return '<p class="none">no logged decisions yet (Recommend writes one per call)</p>';
  const share = traffic.flatMap((w) => w.byTemplate.map((t) => ({ series: t.templateId, x: w.startMs, value: t.share, n: w.decisions })));
  const best = traffic.flatMap((w) => w.byTemplate.map((t) => ({ series: t.templateId, x: w.startMs, value: t.meanProbBest, n: t.offered })));
  return [
    chart(shareAreaSpec(share, { title: 'Traffic share per week: which template Recommend chose', yTitle: 'share of decisions' }), 'Traffic share per template per week'),
    chart(
      rateLinesSpec(best, { title: 'P(best) per week: mean over the decisions that offered the template', yTitle: 'P(best)', time: true, xTitle: 'week starting', width: 1000, counts: false }),
      'Probability of being best per template per week',
    ),
    table(
      ['week starting', 'decisions', 'template', 'chosen', 'share', 'mean P(best)'],
      traffic.flatMap((w) => w.byTemplate.map((t) => [cell(fmt.date(w.startMs)), cell(w.decisions), idCell(t.templateId), cell(t.chosen), cell(fmt.pct(t.share)), cell(t.meanProbBest.toFixed(3))])),
      [false, true, false, true, true, true],
    ),
  ].join('\n');
}

function liftBody(m: DashboardModel): string {
  const l = m.lift;
  if (!l.available || l.headline === null || l.deployed === null) return `<p class="none">${esc(l.reason)}</p>`;
  const h = l.headline;
  const verdict = h.ciLow > 0 ? 'credibly better than choosing uniformly' : h.ciHigh < 0 ? 'credibly worse than choosing uniformly' : 'not distinguishable from choosing uniformly yet';
  const method = 'closed-form intervals (Student\'s t on each estimator\'s influence values)';
  return [
    `<section class="cards"><div class="card wide"><div class="card-title">Lift of the deployed policy over uniform choice (doubly robust)</div><div class="big" data-number="lift">${points(h.estimate)} points</div><div class="sub">95% CI ${points(h.ciLow)} to ${points(h.ciHigh)} · effective sample size <span data-number="ess">${l.effectiveSampleSize.toFixed(1)}</span> of ${fmt.count(l.decisions, 'decision')} logged ${fmt.date(l.sinceMs)} to ${fmt.date(l.untilMs)} (the overview's scoreboard window) · ${esc(verdict)}</div><div class="sub">deployed policy reward ${fmt.pct(l.deployed.estimate)} (${fmt.interval(l.deployed.ciLow, l.deployed.ciHigh)}) · in the whole log ${l.unobserved} decisions without an outcome yet, ${l.invalid} with unusable propensities · ${esc(method)}</div></div></section>`,
    chart(
      intervalDotsSpec(l.byEstimator.map((e) => ({ label: e.estimator, estimate: e.lift.estimate, low: e.lift.ciLow, high: e.lift.ciHigh })), { title: 'Lift over uniform by estimator (95% closed-form interval)', xTitle: 'lift, expected-reward points', zeroRule: true }),
      'Lift by estimator',
    ),
    table(
      ['estimator', 'uniform policy reward (95% CI)', 'lift, points (95% CI)'],
      l.byEstimator.map((e) => [cell(e.estimator), cell(`${fmt.pct(e.uniform.estimate)} (${fmt.interval(e.uniform.ciLow, e.uniform.ciHigh)})`), cell(`${points(e.lift.estimate)} (${points(e.lift.ciLow)} to ${points(e.lift.ciHigh)})`)]),
      [false, true, true],
    ),
    `<p class="note">From the log: each decision's logged propensity re-weights its observed reward (a partial pass counts as the configured partial reward). A mean importance weight far from 1 (here ${l.meanWeight.toFixed(2)}) means the log barely covers some candidates.</p>`,
  ].join('\n');
}

function failuresBody(m: DashboardModel): string {
  const f = m.failures;
  const top = f.patterns.slice(0, 15);
  return [
    `<p class="note">${fmt.count(f.failedRuns, 'run')} did not pass. Remediations come from rules/remediations.json (version ${f.rulesVersion}).</p>`,
    top.length === 0
      ? ''
      : chart(barsSpec(top.map((p) => ({ label: printable(p.signature), value: p.count, note: printable(p.remediation?.action ?? 'no rule yet') })), { title: 'Most frequent failure patterns', xTitle: 'runs', scale: 'count', width: 420 }), 'Most frequent failure patterns'),
    table(
      ['pattern', 'runs', 'first seen', 'last seen', 'templates', 'suggested remediation'],
      f.patterns.map((p) => [
        `<code>${freeText(p.signature)}</code>`,
        cell(p.count),
        cell(fmt.date(p.firstSeenMs)),
        cell(fmt.date(p.lastSeenMs)),
        p.byTemplate.map((t) => `${idCell(t.key)} (${cell(t.count)})`).join(', '),
        p.remediation ? `<strong>${freeText(p.remediation.action)}</strong><br><span class="why">${freeText(p.remediation.rationale)}</span>` : '<span class="none">no rule yet</span>',
      ]),
      [false, true, false, false, false, false],
    ),
    '<h2>Recurring patterns that need a rule</h2>',
    f.needingRule.length === 0 ? '<p class="none">none</p>' : `<ul>${f.needingRule.map((s) => `<li><code>${freeText(s)}</code></li>`).join('')}</ul>`,
  ].join('\n');
}

const actorFields = `<label>by <input name="actor" required autocomplete="name"></label><label>reason <input name="reason" required></label>`;

/**
 * The id to suggest for the refinement of `templateId`: the version after every one of its line that is
 * registered (`feature@v1` → `feature@v3` once `feature@v2` exists; athena's unversioned `custom` →
 * `custom@v2`), since accepting into the item's own id or an existing one is refused.
 */
function nextVersionId(templateId: string, registered: readonly string[]): string {
  const base = templateId.replace(/@v\d+$/, '');
  const versionOf = (id: string): number => (id === base ? 1 : id.startsWith(`${base}@v`) && /^\d+$/.test(id.slice(base.length + 2)) ? Number(id.slice(base.length + 2)) : 0);
  return `${base}@v${Math.max(versionOf(templateId), ...registered.map(versionOf)) + 1}`;
}

function refinementsBody(m: DashboardModel, ctx: PageContext): string {
  const registered = m.lineage.map((t) => t.templateId);
  const rows = m.refinements.map((r) => {
    const action =
      r.status === 'open'
        ? `<form method="post" action="/refinements/${encodeURIComponent(r.refinementId)}/accept" class="act"><input type="hidden" name="csrf" value="${esc(ctx.csrf)}">${actorFields}<label>new version <input name="new_template_id" required placeholder="${esc(nextVersionId(r.templateId, registered))}"></label><button type="submit">Accept</button></form>` +
          `<form method="post" action="/refinements/${encodeURIComponent(r.refinementId)}/reject" class="act"><input type="hidden" name="csrf" value="${esc(ctx.csrf)}">${actorFields}<button type="submit" class="reject">Reject</button></form>`
        : `${cell(r.status)} by ${freeText(r.actor)} on ${cell(fmt.date(r.decidedAtMs))}: ${freeText(r.reason)}${r.newTemplateId ? ` → ${idCell(r.newTemplateId)}` : ''}`;
    return [idCell(r.refinementId), idCell(r.templateId), `<span class="status ${r.status}">${cell(r.status)}</span>`, cell(r.trigger), cell(fmt.date(r.openedAtMs)), freeText(r.summary), action];
  });
  return [
    '<p class="note">Items open when a template is credibly below the pass-rate threshold or regressed. Accepting registers the new version (you wrote its prompt) with the item\'s template as parent; learnloop never edits a prompt. Every decision is recorded in the log with who made it.</p>',
    table(['item', 'template', 'status', 'trigger', 'opened', 'evidence', 'decision'], rows, [], 'refinements'),
  ].join('\n');
}

function lineageBody(m: DashboardModel, ctx: PageContext): string {
  const byId = new Map(m.lineage.map((n) => [n.templateId, n]));
  const roots = m.lineage.filter((n) => n.parentTemplateId === '' || !byId.has(n.parentTemplateId));
  const tree = (n: LineageNode, depth: number): string => {
    if (depth > 32) return '';
    const kids = n.children.map((c) => byId.get(c)).filter((c): c is LineageNode => c !== undefined);
    return `<li>${idCell(n.templateId)} <span class="status ${n.status}">${esc(n.status)}</span>${n.createdBy ? ` <span class="sub">from ${idCell(n.createdBy.refinementId)}</span>` : ''}${kids.length ? `<ul>${kids.map((k) => tree(k, depth + 1)).join('')}</ul>` : ''}</li>`;
  };
  return [
    `<ul class="tree">${roots.map((r) => tree(r, 0)).join('')}</ul>`,
    table(
      ['template', 'parent', 'status', 'registered', 'created by', ...METRIC_HEADERS, 'effect vs parent, points (95% CI)', 'retire'],
      m.lineage.map((n) => [
        `${idCell(n.templateId)}${n.description ? `<br><span class="why">${freeText(n.description)}</span>` : ''}`,
        n.parentTemplateId ? idCell(n.parentTemplateId) : '–',
        `<span class="status ${n.status}">${cell(n.status)}</span>${n.taskClasses.length > 0 ? `<br><span class="why">for ${n.taskClasses.map(idCell).join(', ')}</span>` : ''}`,
        cell(fmt.date(n.registeredAtMs)),
        n.createdBy ? `${idCell(n.createdBy.refinementId)}, accepted by ${freeText(n.createdBy.actor)} on ${cell(fmt.date(n.createdBy.decidedAtMs))}: ${freeText(n.createdBy.reason)}` : n.implicit ? 'first seen in a run' : 'registered',
        ...metricCells(n.metrics),
        n.effect ? withDetail(points(n.effect.estimate), `${points(n.effect.ciLow)} to ${points(n.effect.ciHigh)}`) : '–',
        n.status === 'retired'
          ? ''
          : `<form method="post" action="/templates/${encodeURIComponent(n.templateId)}/retire" class="act narrow"><input type="hidden" name="csrf" value="${esc(ctx.csrf)}">${actorFields}<button type="submit" class="reject">Retire</button></form>`,
      ]),
      [false, false, false, false, false, true, true, true, true, true, true, false],
    ),
  ].join('\n');
}

const BODIES: Record<ViewName, (m: DashboardModel, ctx: PageContext) => string> = {
  overview: overviewBody,
  matrix: matrixBody,
  traffic: (m) => trafficBody(m.traffic),
  lift: liftBody,
  failures: failuresBody,
  refinements: refinementsBody,
  templates: lineageBody,
};

/** One view as a complete page. */
export function renderPage(view: ViewName, m: DashboardModel, ctx: PageContext): string {
  const title = VIEWS.find((v) => v[0] === view)![2];
  chartSeq = 0;
  const nav = VIEWS.map(([name, href, label]) => `<a href="${href}"${name === view ? ' aria-current="page"' : ''}>${esc(label)}</a>`).join('');
  const flash = ctx.flash === '' ? '' : `<p class="flash${ctx.flashIsError ? ' error' : ''}" role="status">${cell(ctx.flash)}</p>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>learnloop · ${esc(title)}</title>`,
    // No icon to fetch: the browser's own /favicon.ico request would 404 at a moment of its choosing.
    '<link rel="icon" href="data:,">',
    '<link rel="stylesheet" href="/assets/dashboard.css">',
    '<script src="/assets/vega.min.js" defer></script>',
    '<script src="/assets/vega-lite.min.js" defer></script>',
    '<script src="/assets/vega-embed.min.js" defer></script>',
    '<script src="/assets/dashboard.js" defer></script>',
    '</head>',
    '<body>',
    `<header><h1>learnloop</h1><nav>${nav}</nav></header>`,
    '<main>',
    `<h2 class="view-title">${esc(title)}</h2>`,
    `<p class="subtitle">As of ${fmt.time(m.asOfMs)} UTC · log head ${m.head} · <a href="/api/v1/${view === 'templates' ? 'templates' : view}">JSON</a> · built in ${m.buildMs.toFixed(0)} ms</p>`,
    ctx.stale ? `<p class="flash" role="status" data-stale="true">Newer data is being aggregated: this page shows the last build (log head ${m.head}) until it is done. Reload in a moment for the new one.</p>` : '',
    flash,
    BODIES[view](m, ctx),
    '</main>',
    '</body>',
    '</html>',
  ].join('\n') + '\n';
}

/** The page a request without the token gets. */
export function unauthorizedPage(): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>learnloop · token required</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/dashboard.css"></head><body><main><h1>Token required</h1><p>This dashboard needs its token. Open it once as <code>/?token=YOUR_TOKEN</code> (the server keeps it in a same-site cookie) or send <code>Authorization: Bearer YOUR_TOKEN</code>.</p></main></body></html>\n`;
}

/** The page a browser gets for an address the dashboard does not have: the views it has, linked. */
export function notFoundPage(path: string): string {
  const links = VIEWS.map(([, href, label]) => `<li><a href="${href}">${esc(label)}</a></li>`).join('');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>learnloop · not found</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/dashboard.css"></head><body><main><h1>Not found</h1><p>The dashboard has no page <code>${htmlText(path)}</code>. Its views:</p><ul>${links}</ul></main></body></html>\n`;
}

/** The page answered while the first build reads the log: it says how far it is and reloads itself. */
export function buildingPage(message: string, reloadSeconds: number): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${reloadSeconds}"><title>learnloop · building</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/dashboard.css"></head><body><main><h1>Reading the log</h1><p role="status">${esc(message)}. This page reloads itself every ${reloadSeconds} s until the dashboard is ready.</p></main></body></html>\n`;
}
