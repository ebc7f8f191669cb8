/**
 * Vega-Lite specifications of every chart learnloop draws. One spec serves both places: the static
 * HTML reports render it to SVG in Node (svg.ts), and the dashboard hands it to vega-embed in the
 * page, which adds tooltips. Data is always inline, so nothing is fetched.
 */
import type { TopLevelSpec } from 'vega-lite';

/** Okabe & Ito (2008): colour-blind-safe. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

/** Most characters of a label shown whole: about 470 px at 13 px. */
export const LABEL_CHARS = 64;

/**
 * A Vega expression showing `datum.label` whole up to `max` characters, and beyond that its start
 * and end around an ellipsis: ids may have 256 characters, and a label that long would squeeze the
 * chart. The whole label stays in the tooltips and the tables. Labels have no pixel limit
 * (labelLimit 0): the length is capped here, and the SVG renderer's width estimate would cut them again.
 * A Unicode regular expression counts characters as ids' limits do (code points), and never cuts one
 * in half: length() and slice() count UTF-16 units, and would split an emoji into two broken halves.
 */
function shortLabel(max = LABEL_CHARS): string {
  const head = Math.ceil((max - 1) / 2);
  const tail = max - 1 - head;
  return `replace(datum.label, regexp('^([^]{${head}})[^]{2,}([^]{${tail}})$', 'u'), '$1…$2')`;
}

/** Sizes chosen to read at 1,400 px wide: 13 px labels, 14 px titles. */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", sans-serif',
  background: 'white',
  padding: 8,
  title: { fontSize: 16, anchor: 'start', offset: 12 },
  axis: { labelFontSize: 13, titleFontSize: 14, titleFontWeight: 600, gridColor: '#e3e3e3', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 13, titleFontSize: 13, labelLimit: 0, symbolSize: 120 },
  header: { labelFontSize: 14, labelFontWeight: 600 },
  range: { category: PALETTE },
  view: { stroke: '#ddd' },
} as const;

/**
 * A chart with nothing to draw: its title and "no data yet" where the plot would be, rather than
 * empty axes (whose scales vega cannot size: it warns of an infinite extent).
 */
function emptySpec(title: string, width: number): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    config: CONFIG,
    data: { values: [{ text: NO_DATA_YET }] },
    width,
    height: 40,
    mark: { type: 'text', fontSize: 14, color: '#666', align: 'left', x: 0 },
    encoding: { text: { field: 'text' } },
  } as TopLevelSpec;
}
export const NO_DATA_YET = 'no data yet';

/** One point of a rate series: a value in [0, 1] with its 95% interval and the runs behind it. */
export interface RatePoint {
  /** The series (template, 'overall', ...). */
  readonly series: string;
  /** Position on the x axis: a date label ('YYYY-MM-DD' or 'MM-DD') or ms since the epoch. */
  readonly x: string | number;
  readonly value: number;
  readonly low?: number;
  readonly high?: number;
  /** Runs behind the value (shown on the point). */
  readonly n: number;
}

export interface RateLinesOptions {
  readonly title: string;
  readonly yTitle: string;
  readonly xTitle?: string;
  /** 'overlay': every series in one panel; 'panels': one small panel per series (readable with many). */
  readonly layout?: 'overlay' | 'panels';
  /** Whether x holds ms since the epoch (a UTC time axis) or labels (one tick per label, in order). */
  readonly time?: boolean;
  /** Plot width in px (each panel's, with 'panels'). */
  readonly width?: number;
  readonly height?: number;
  /** Dated vertical markers, e.g. detected changes: x as in the points, with a label. */
  readonly markers?: ReadonlyArray<{ readonly x: string | number; readonly label: string; readonly series?: string }>;
  /** Label each point with its run count (default true). */
  readonly counts?: boolean;
}

/** At most about 12 tick values on a time axis: every k-th distinct x (weekly data gets weekly ticks). */
function tickValues(xs: ReadonlyArray<string | number>): number[] {
  const distinct = [...new Set(xs.filter((x): x is number => typeof x === 'number'))].sort((a, b) => a - b);
  const k = Math.max(1, Math.ceil(distinct.length / 12));
  return distinct.filter((_, i) => i % k === 0);
}

/** A UTC date for tooltips (time axes hold ms; label axes hold their label already). */
const dateLabel = (x: string | number) => (typeof x === 'number' ? new Date(x).toISOString().slice(0, 10) : x);

const pctTip = (field: string, title: string) => ({ field, type: 'quantitative' as const, title, format: '.1%' });

/** Where a point's run count is printed, so the counts of overlaid series at one x never overlap. */
type CountPlace = 'above' | 'right' | 'below';

/**
 * Per x, the highest series' count goes above its point, the lowest's below (unless the point sits
 * on the x axis) and any between to the right: the counts move apart as the points do.
 */
function countPlaces(points: readonly RatePoint[]): CountPlace[] {
  const byX = new Map<string | number, number[]>();
  points.forEach((p, i) => byX.set(p.x, [...(byX.get(p.x) ?? []), i]));
  const out: CountPlace[] = points.map(() => 'above');
  for (const idx of byX.values()) {
    if (idx.length < 2) continue;
    const order = [...idx].sort((a, b) => points[b]!.value - points[a]!.value || a - b);
    order.forEach((i, k) => {
      if (k === 0) out[i] = 'above';
      else if (k === order.length - 1) out[i] = points[i]!.value >= BELOW_MIN ? 'below' : 'right';
      else out[i] = 'right';
    });
  }
  return out;
}
/** A count below a point lower than this would sit on the x axis labels. */
const BELOW_MIN = 0.08;

const COUNT_MARKS: Record<CountPlace, object> = {
  above: { dy: -12 },
  below: { dy: 14 },
  right: { dx: 8, align: 'left', baseline: 'middle' },
};

/** Height of one row of marker labels above the plot. */
const MARKER_ROW = 16;

/**
 * Rates over time: a line per series, the 95% interval as a band and as a bar on each point, the
 * run count printed on each point, a legend, and tooltips in the page. On a time axis the x scale
 * runs from the first point to the last, so charts of the same windows line up; markers outside it
 * are left out.
 */
export function rateLinesSpec(points: readonly RatePoint[], o: RateLinesOptions): TopLevelSpec {
  const panels = o.layout === 'panels';
  if (points.length === 0) return emptySpec(o.title, o.width ?? 960);
  const times = points.map((p) => p.x).filter((x): x is number => typeof x === 'number');
  const domain = o.time && times.length > 0 ? [Math.min(...times), Math.max(...times)] : null;
  const xField = o.time
    ? { field: 'x', type: 'temporal' as const, title: o.xTitle ?? 'date', scale: { type: 'utc' as const, ...(domain ? { domain } : {}) }, axis: { format: '%Y-%m-%d', labelAngle: -30, values: tickValues(points.map((p) => p.x)) } }
    : { field: 'x', type: 'ordinal' as const, title: o.xTitle ?? 'window start', sort: null, axis: { labelAngle: -30 } };
  const single = new Set(points.map((p) => p.series)).size <= 1;
  const y = { field: 'value', type: 'quantitative' as const, title: o.yTitle, scale: { domain: [0, 1] }, axis: { format: '.0%', tickCount: 5 } };
  const color = { field: 'series', type: 'nominal' as const, title: null, legend: panels || single ? null : { orient: 'right' as const, labelExpr: shortLabel() } };
  const tooltip = [
    { field: 'series', type: 'nominal' as const, title: 'series' },
    { field: 'when', type: 'nominal' as const, title: o.xTitle ?? 'window start' },
    pctTip('value', o.yTitle),
    pctTip('low', '95% low'),
    pctTip('high', '95% high'),
    { field: 'n', type: 'quantitative' as const, title: 'runs' },
  ];
  const hasBand = points.some((p) => p.low !== undefined && p.high !== undefined);
  // Panels hold one series each: every count goes above its point.
  const places = panels ? points.map((): CountPlace => 'above') : countPlaces(points);
  const data = points.map((p, i) => ({ series: p.series, x: p.x, when: dateLabel(p.x), value: p.value, low: p.low ?? null, high: p.high ?? null, n: p.n, place: places[i] }));
  const layers: unknown[] = [];
  if (hasBand) {
    layers.push({ mark: { type: 'area', opacity: 0.13 }, encoding: { x: xField, y: { ...y, field: 'low' }, y2: { field: 'high' }, color } });
    layers.push({ mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.55 }, encoding: { x: xField, y: { ...y, field: 'low' }, y2: { field: 'high' }, color } });
  }
  layers.push({ mark: { type: 'line', strokeWidth: 2.5 }, encoding: { x: xField, y, color } });
  layers.push({
    mark: { type: 'point', filled: true, size: 70 },
    encoding: { x: xField, y, color, tooltip },
  });
  if (o.counts !== false) {
    for (const place of ['above', 'right', 'below'] as const) {
      if (!places.includes(place)) continue;
      layers.push({
        transform: [{ filter: `datum.place === '${place}'` }],
        mark: { type: 'text', fontSize: 12, color: '#333', ...COUNT_MARKS[place] },
        encoding: { x: xField, y, text: { field: 'n', type: 'quantitative', format: 'd' } },
      });
    }
  }
  // Marker labels sit above the plot, higher when a count printed above a point reaches there.
  const countsOnTop = o.counts !== false && points.some((p, i) => places[i] === 'above' && p.value > 0.9);
  const markers = markerRows(o.markers ?? [], points, domain, countsOnTop ? -22 : -4);
  if (markers.length > 0) {
    // Each date's label gets its own row above the plot, so labels of near dates never overlap,
    // and none covers a point; it runs away from the nearer edge.
    const label = (align: 'left' | 'right') => ({
      transform: [{ filter: `datum.align === '${align}'` }],
      mark: { type: 'text', color: '#B00020', align, dx: align === 'left' ? 4 : -4, baseline: 'bottom', fontSize: 12 },
      encoding: { x: xField, y: { field: 'top', type: 'quantitative', scale: null }, text: { field: 'label' }, tooltip: [{ field: 'detail', type: 'nominal', title: 'changes' }] },
    });
    layers.push({
      data: { values: markers },
      layer: [
        { transform: [{ filter: 'datum.rule' }], mark: { type: 'rule', color: '#B00020', strokeDash: [6, 4], strokeWidth: 2 }, encoding: { x: xField, y: { field: 'top', type: 'quantitative', scale: null }, y2: { value: 'height' }, tooltip: [{ field: 'detail', type: 'nominal', title: 'changes' }] } },
        ...(markers.some((m) => m.align === 'left') ? [label('left')] : []),
        ...(markers.some((m) => m.align === 'right') ? [label('right')] : []),
      ],
    });
  }
  const body = { width: o.width ?? (panels ? 360 : 960), height: o.height ?? (panels ? 200 : 320), layer: layers };
  const spec = panels
    ? { data: { values: data }, facet: { field: 'series', type: 'nominal', title: null, header: { labelFontSize: 14, labelExpr: shortLabel(40), labelLimit: 0 } }, columns: 3, spec: body, resolve: { scale: { x: 'shared' } } }
    : { data: { values: data }, ...body };
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: o.title, config: CONFIG, ...spec } as TopLevelSpec;
}

/** Most rows of marker labels above a plot; with more markers than this, one row per date. */
const MARKER_ROWS = 4;

/**
 * The markers as drawn, in x order: each with its row's top in px (negative: above the plot; the
 * lowest row's at `bottom`) and
 * the side its label runs. Each marker has a row of its own when they fit in MARKER_ROWS;
 * otherwise the markers of one x share a row and its label counts them.
 */
function markerRows(
  markers: NonNullable<RateLinesOptions['markers']>,
  points: readonly RatePoint[],
  domain: readonly number[] | null,
  bottom: number,
): Array<{ x: string | number; label: string; detail: string; top: number; align: 'left' | 'right'; rule: boolean }> {
  const labels = [...new Set(points.map((p) => p.x))];
  const inside = (x: string | number) => (domain ? typeof x === 'number' && x >= domain[0]! && x <= domain[1]! : labels.includes(x));
  // Where an x sits across the axis, 0 to 1.
  const at = (x: string | number) => (domain ? (domain[1]! > domain[0]! ? ((x as number) - domain[0]!) / (domain[1]! - domain[0]!) : 0.5) : labels.length > 1 ? labels.indexOf(x) / (labels.length - 1) : 0.5);
  const byX = new Map<string | number, string[]>();
  for (const m of markers) if (inside(m.x)) byX.set(m.x, [...(byX.get(m.x) ?? []), m.label]);
  const xs = [...byX.keys()].sort((a, b) => at(a) - at(b));
  const rowEach = [...byX.values()].reduce((n, l) => n + l.length, 0) <= MARKER_ROWS;
  const shown = xs.flatMap((x) => {
    const all = byX.get(x)!;
    const one = (label: string) => ({ x, label, detail: all.join('; ') });
    return rowEach || all.length === 1 ? all.map(one) : [one(`${all.length} changes`)];
  });
  // One rule per x, from its topmost label down.
  return shown.map((m, row) => ({ ...m, top: bottom - (shown.length - 1 - row) * MARKER_ROW, align: at(m.x) < 0.5 ? ('left' as const) : ('right' as const), rule: row === 0 || shown[row - 1]!.x !== m.x }));
}

/** One horizontal bar: a rate with its interval and runs, or a count. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly low?: number;
  readonly high?: number;
  /** Runs behind a rate (printed beside the bar). */
  readonly n?: number;
  /** Extra tooltip text, e.g. a remediation. */
  readonly note?: string;
}

export interface BarsOptions {
  readonly title: string;
  readonly xTitle: string;
  /** 'rate' draws [0, 1] as percentages; 'count' scales to the largest bar. */
  readonly scale: 'rate' | 'count';
  readonly width?: number;
}

/** Horizontal bars with their labels (whole up to LABEL_CHARS), the value and run count printed, intervals as whiskers. */
export function barsSpec(bars: readonly Bar[], o: BarsOptions): TopLevelSpec {
  if (bars.length === 0) return emptySpec(o.title, o.width ?? 560);
  const rate = o.scale === 'rate';
  const data = bars.map((b) => ({
    label: b.label,
    value: b.value,
    low: b.low ?? null,
    high: b.high ?? null,
    n: b.n ?? null,
    note: b.note ?? '',
    shown: rate ? `${(b.value * 100).toFixed(1)}%${b.n !== undefined ? ` (n=${b.n})` : ''}` : String(b.value),
    at: rate ? Math.max(b.value, b.high ?? 0) : b.value,
  }));
  // sort: null keeps the caller's order (most frequent or best first).
  const yField = { field: 'label', type: 'nominal' as const, title: null, sort: null, axis: { labelExpr: shortLabel(), labelLimit: 0, labelFontSize: 13 } };
  const x = {
    field: 'value',
    type: 'quantitative' as const,
    title: o.xTitle,
    ...(rate ? { scale: { domain: [0, 1] }, axis: { format: '.0%' } } : { axis: { tickMinStep: 1, format: 'd' } }),
  };
  const tooltip = [
    { field: 'label', type: 'nominal', title: 'what' },
    rate ? pctTip('value', o.xTitle) : { field: 'value', type: 'quantitative', title: o.xTitle },
    ...(rate ? [pctTip('low', '95% low'), pctTip('high', '95% high'), { field: 'n', type: 'quantitative', title: 'runs' }] : []),
    ...(bars.some((b) => b.note) ? [{ field: 'note', type: 'nominal', title: 'remediation' }] : []),
  ];
  const layers: unknown[] = [
    { mark: { type: 'bar', color: PALETTE[0], height: { band: 0.7 } }, encoding: { y: yField, x, tooltip } },
    { mark: { type: 'text', align: 'left', dx: 6, fontSize: 13 }, encoding: { y: yField, x: { ...x, field: 'at' }, text: { field: 'shown' } } },
  ];
  if (bars.some((b) => b.low !== undefined)) {
    layers.splice(1, 0, { mark: { type: 'rule', color: '#1b1b1b', strokeWidth: 2 }, encoding: { y: yField, x: { ...x, field: 'low' }, x2: { field: 'high' } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    config: CONFIG,
    data: { values: data },
    width: o.width ?? 560,
    height: { step: 28 },
    layer: layers,
  } as TopLevelSpec;
}

/** One cell of a template × segment matrix. */
export interface MatrixCell {
  readonly template: string;
  readonly segment: string;
  /** Posterior mean pass rate and its 95% interval. */
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  /** The segment's own runs, and pseudo-runs borrowed from wider levels and the parent. */
  readonly own: number;
  readonly borrowed: number;
  readonly evidence: string;
}

/** A heat map: colour = the posterior rate given (the dashboard: pass rate), text = it and own + borrowed runs, tooltip with the interval. */
export function matrixSpec(cells: readonly MatrixCell[], o: { readonly title: string; readonly segmentTitle: string }): TopLevelSpec {
  if (cells.length === 0) return emptySpec(o.title, 600);
  const data = cells.map((c) => ({ ...c, label: `${(c.mean * 100).toFixed(0)}%`, runs: `${c.own.toFixed(0)} + ${c.borrowed.toFixed(1)}` }));
  // Columns narrow as segments grow, so the matrix stays within 1,360 px (the page's width) up to
  // ten segments, beside template labels of up to 32 characters and the legend.
  const step = Math.max(84, Math.min(150, Math.floor(840 / Math.max(1, new Set(cells.map((c) => c.segment)).size))));
  const x = { field: 'segment', type: 'nominal' as const, title: o.segmentTitle, axis: { labelAngle: -30, labelExpr: shortLabel(24), labelLimit: 0, orient: 'top' as const } };
  const y = { field: 'template', type: 'nominal' as const, title: 'template', axis: { labelExpr: shortLabel(32), labelLimit: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    config: CONFIG,
    data: { values: data },
    width: { step },
    height: { step: 52 },
    encoding: { x, y },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: { field: 'mean', type: 'quantitative', title: 'posterior pass rate', scale: { domain: [0, 1], scheme: 'blues' }, legend: { format: '.0%', orient: 'right' } },
          tooltip: [
            { field: 'template', type: 'nominal' },
            { field: 'segment', type: 'nominal', title: o.segmentTitle },
            pctTip('mean', 'posterior pass rate'),
            pctTip('low', '95% low'),
            pctTip('high', '95% high'),
            { field: 'own', type: 'quantitative', title: 'own runs' },
            { field: 'borrowed', type: 'quantitative', title: 'borrowed pseudo-runs', format: '.1f' },
            { field: 'evidence', type: 'nominal', title: 'evidence level' },
          ],
        },
      },
      { mark: { type: 'text', dy: -8, fontSize: 14, fontWeight: 600 }, encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.mean > 0.6', value: 'white' }, value: '#111' } } },
      { mark: { type: 'text', dy: 10, fontSize: 12 }, encoding: { text: { field: 'runs' }, color: { condition: { test: 'datum.mean > 0.6', value: 'white' }, value: '#111' } } },
    ],
  } as TopLevelSpec;
}

/** One template's share of something on one date, e.g. traffic or P(best). */
export interface ShareRow {
  readonly series: string;
  /** ms since the epoch (start of the bucket). */
  readonly x: number;
  readonly value: number;
  /** Decisions in the bucket. */
  readonly n: number;
}

/** Traffic share over time as stacked areas (shares of each bucket sum to 1). */
export function shareAreaSpec(rows: readonly ShareRow[], o: { readonly title: string; readonly yTitle: string }): TopLevelSpec {
  if (rows.length === 0) return emptySpec(o.title, 960);
  const x = { field: 'x', type: 'temporal' as const, title: 'week starting', scale: { type: 'utc' as const }, axis: { format: '%Y-%m-%d', labelAngle: -30, values: tickValues(rows.map((r) => r.x)) } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    config: CONFIG,
    data: { values: rows.map((r) => ({ ...r, when: dateLabel(r.x) })) },
    width: 960,
    height: 300,
    mark: { type: 'area', line: true, point: true, opacity: 0.85 },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', stack: 'zero', title: o.yTitle, scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'series', type: 'nominal', title: 'template', legend: { orient: 'right', labelExpr: shortLabel() } },
      order: { field: 'series' },
      tooltip: [
        { field: 'series', type: 'nominal', title: 'template' },
        { field: 'when', type: 'nominal', title: 'week starting' },
        pctTip('value', o.yTitle),
        { field: 'n', type: 'quantitative', title: 'decisions that week' },
      ],
    },
  } as TopLevelSpec;
}

/** Estimates with intervals on one axis, e.g. the deployed policy against uniform. */
export function intervalDotsSpec(
  rows: ReadonlyArray<{ readonly label: string; readonly estimate: number; readonly low: number; readonly high: number }>,
  o: { readonly title: string; readonly xTitle: string; readonly zeroRule?: boolean },
): TopLevelSpec {
  if (rows.length === 0) return emptySpec(o.title, 720);
  const y = { field: 'label', type: 'nominal' as const, title: null, sort: null, axis: { labelLimit: 0 } };
  const x = { field: 'estimate', type: 'quantitative' as const, title: o.xTitle, axis: { format: '+.0%' } };
  const layers: unknown[] = [
    { mark: { type: 'rule', strokeWidth: 3, color: PALETTE[0] }, encoding: { y, x: { ...x, field: 'low' }, x2: { field: 'high' } } },
    {
      mark: { type: 'point', filled: true, size: 140, color: PALETTE[0] },
      encoding: { y, x, tooltip: [{ field: 'label', type: 'nominal', title: 'estimator' }, { ...pctTip('estimate', o.xTitle), format: '+.1%' }, { ...pctTip('low', '95% low'), format: '+.1%' }, { ...pctTip('high', '95% high'), format: '+.1%' }] },
    },
  ];
  if (o.zeroRule) layers.unshift({ data: { values: [{ zero: 0 }] }, mark: { type: 'rule', color: '#888', strokeDash: [4, 4] }, encoding: { x: { field: 'zero', type: 'quantitative' } } });
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: o.title, config: CONFIG, data: { values: rows }, width: 720, height: { step: 40 }, layer: layers } as TopLevelSpec;
}
