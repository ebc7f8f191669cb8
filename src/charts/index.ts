/** Charts: Vega-Lite specs shared by the static HTML reports (as SVG) and the dashboard (vega-embed). */
export { barsSpec, intervalDotsSpec, matrixSpec, NO_DATA_YET, PALETTE, rateLinesSpec, shareAreaSpec } from './specs.js';
export type { Bar, BarsOptions, MatrixCell, RateLinesOptions, RatePoint, ShareRow } from './specs.js';
export { escapeXml, renderSvg } from './svg.js';
