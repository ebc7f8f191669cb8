/** Inline SVG charts: no scripts, no external resources, fixed coordinates (2 decimals). */
import type { BarChart, Chart, LineChart } from './doc.js';

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Colour-blind-safe palette (Okabe & Ito, 2008). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const n2 = (x: number) => x.toFixed(2);

function lineChart(c: LineChart): string {
  const W = 720;
  const H = 300;
  const left = 48;
  const right = 170;
  const top = 28;
  const bottom = 40;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const n = c.xLabels.length;
  const x = (i: number) => left + (n <= 1 ? pw / 2 : (i * pw) / (n - 1));
  const y = (v: number) => top + ph - v * ph;
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="18" class="chart-title">${escapeXml(c.title)}</text>`);
  for (const g of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${left}" x2="${left + pw}" y1="${n2(y(g))}" y2="${n2(y(g))}" class="grid"/>`);
    parts.push(`<text x="${left - 6}" y="${n2(y(g) + 4)}" class="axis" text-anchor="end">${(g * 100).toFixed(0)}%</text>`);
  }
  c.xLabels.forEach((label, i) => {
    if (n > 12 && i % Math.ceil(n / 12) !== 0) return;
    parts.push(`<text x="${n2(x(i))}" y="${H - bottom + 16}" class="axis" text-anchor="middle">${escapeXml(label)}</text>`);
  });
  c.series.forEach((s, si) => {
    const colour = PALETTE[si % PALETTE.length]!;
    if (s.low && s.high) {
      const idx = s.values.map((_, i) => i).filter((i) => s.low![i] != null && s.high![i] != null);
      if (idx.length > 1) {
        const upper = idx.map((i) => `${n2(x(i))},${n2(y(s.high![i]!))}`);
        const lower = [...idx].reverse().map((i) => `${n2(x(i))},${n2(y(s.low![i]!))}`);
        parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${colour}" class="band"/>`);
      }
    }
    const pts = s.values.map((v, i) => (v == null ? null : `${n2(x(i))},${n2(y(v))}`));
    // A gap (no data) breaks the line rather than drawing through it.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) parts.push(`<polyline points="${run.join(' ')}" fill="none" stroke="${colour}" class="line"/>`);
      run = [];
    };
    pts.forEach((p) => (p === null ? flush() : run.push(p)));
    flush();
    s.values.forEach((v, i) => {
      if (v == null) return;
      parts.push(
        `<circle cx="${n2(x(i))}" cy="${n2(y(v))}" r="3" fill="${colour}"><title>${escapeXml(`${s.name} ${c.xLabels[i] ?? ''}: ${(v * 100).toFixed(1)}%`)}</title></circle>`,
      );
    });
    const ly = top + 14 + si * 18;
    parts.push(`<rect x="${left + pw + 14}" y="${ly - 9}" width="12" height="12" fill="${colour}"/>`);
    parts.push(`<text x="${left + pw + 32}" y="${ly + 1}" class="legend">${escapeXml(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${escapeXml(c.title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}

function barChart(c: BarChart): string {
  const W = 720;
  const rowH = 24;
  const left = 220;
  const right = 70;
  const top = 28;
  const H = top + Math.max(1, c.bars.length) * rowH + 12;
  const pw = W - left - right;
  const max = c.scale === 'rate' ? 1 : Math.max(1, ...c.bars.map((b) => b.value));
  const x = (v: number) => left + (v / max) * pw;
  const parts: string[] = [`<text x="8" y="18" class="chart-title">${escapeXml(c.title)}</text>`];
  c.bars.forEach((b, i) => {
    const yTop = top + i * rowH;
    const label = b.label.length > 34 ? `${b.label.slice(0, 33)}…` : b.label;
    const shown = c.scale === 'rate' ? `${(b.value * 100).toFixed(1)}%` : b.value.toFixed(0);
    parts.push(`<text x="${left - 8}" y="${yTop + 16}" class="axis" text-anchor="end">${escapeXml(label)}</text>`);
    parts.push(
      `<rect x="${left}" y="${yTop + 4}" width="${n2(Math.max(0, x(b.value) - left))}" height="${rowH - 8}" fill="${PALETTE[0]}" class="bar"><title>${escapeXml(`${b.label}: ${shown}`)}</title></rect>`,
    );
    if (b.low !== undefined && b.high !== undefined) {
      const yc = yTop + rowH / 2;
      parts.push(`<line x1="${n2(x(b.low))}" x2="${n2(x(b.high))}" y1="${yc}" y2="${yc}" class="whisker"/>`);
    }
    parts.push(`<text x="${n2(x(c.scale === 'rate' ? Math.max(b.value, b.high ?? 0) : b.value) + 6)}" y="${yTop + 16}" class="axis">${shown}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${escapeXml(c.title)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`;
}

/** One chart as an inline SVG element. */
export function renderChart(c: Chart): string {
  return c.kind === 'line' ? lineChart(c) : barChart(c);
}
