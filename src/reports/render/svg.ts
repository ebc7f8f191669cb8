/**
 * A report chart as inline SVG: the document's chart as a Vega-Lite spec (src/charts), rendered in Node.
 * Labels (template ids, failure signatures) go through printable(), as the page's text does.
 */
import { barsSpec, rateLinesSpec, renderSvg, type RatePoint } from '../../charts/index.js';
import type { BarChart, Chart, LineChart } from './doc.js';
import { printable } from './printable.js';

/** More series than this get one panel each instead of sharing one. */
const OVERLAY_MAX = 3;

/** The points of a line chart, skipping gaps (no data). */
function linePoints(c: LineChart): RatePoint[] {
  return c.series.flatMap((s) =>
    s.values.flatMap((v, i): RatePoint[] => {
      if (v === null) return [];
      const low = s.low?.[i];
      const high = s.high?.[i];
      return [{ series: printable(s.name), x: c.xLabels[i] ?? String(i), value: v, n: s.counts?.[i] ?? 0, ...(low != null && high != null ? { low, high } : {}) }];
    }),
  );
}

export function lineSpec(c: LineChart) {
  const counted = c.series.every((s) => s.counts !== undefined);
  return rateLinesSpec(linePoints(c), {
    title: c.title,
    yTitle: 'rate',
    layout: c.series.length > OVERLAY_MAX ? 'panels' : 'overlay',
    counts: counted,
    ...(c.markers ? { markers: c.markers.map((m) => ({ x: m.xLabel, label: printable(m.label) })) } : {}),
  });
}

export function barSpec(c: BarChart) {
  return barsSpec(
    c.bars.map((b) => ({ ...b, label: printable(b.label) })),
    { title: c.title, xTitle: c.scale === 'rate' ? 'pass rate' : 'runs', scale: c.scale },
  );
}

/** One chart as an inline SVG element. */
export function renderChart(c: Chart): Promise<string> {
  return renderSvg(c.kind === 'line' ? lineSpec(c) : barSpec(c));
}
