/**
 * A Vega-Lite spec as a standalone SVG string, rendered in Node by vega's headless SVG renderer:
 * no browser, no canvas, no network (data is inline). Text widths are estimated from the font
 * size, so the output is the same on every machine.
 */
import { parse, resetSVGDefIds, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * @returns an `<svg>` element with role="img" and the chart's title as its aria-label.
 * @throws Error when the spec does not compile (a bug in a spec builder).
 */
export async function renderSvg(spec: TopLevelSpec, className = 'chart'): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    // Clip and gradient ids come from module counters; start them afresh so the same chart gives the same bytes.
    resetSVGDefIds();
    const svg = await view.toSVG();
    const title = typeof spec.title === 'string' ? spec.title : '';
    return svg.replace(/^<svg /, `<svg class="${className}" role="img" aria-label="${escapeXml(title)}" `);
  } finally {
    view.finalize();
  }
}

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
