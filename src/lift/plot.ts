/** A dependency-free SVG line chart: one line per policy over the run's steps. */

const COLORS = ['#d62728', '#7f7f7f', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface Series {
  readonly name: string;
  readonly values: readonly number[];
}

/**
 * @param xs the step of each point (shared by all series)
 * @param references horizontal lines, e.g. best fixed in hindsight
 */
export function lineChart(title: string, yLabel: string, xs: readonly number[], series: readonly Series[], references: readonly Series[] = []): string {
  const W = 760;
  const H = 420;
  const L = 60;
  const R = 200;
  const Tp = 40;
  const B = 50;
  const all = [...series.flatMap((s) => s.values), ...references.flatMap((r) => r.values)].filter(Number.isFinite);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 1e-9) hi = lo + 1;
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const xMax = xs[xs.length - 1] ?? 1;
  const px = (x: number) => L + ((W - L - R) * x) / xMax;
  const py = (y: number) => Tp + (H - Tp - B) * (1 - (y - lo) / (hi - lo));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${Tp}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">step</text>`,
    `<text x="14" y="${(Tp + H - B) / 2}" transform="rotate(-90 14 ${(Tp + H - B) / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = lo + ((hi - lo) * i) / 5;
    out.push(`<line x1="${L - 4}" y1="${py(y).toFixed(1)}" x2="${W - R}" y2="${py(y).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${L - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${y.toFixed(3)}</text>`);
    const x = (xMax * i) / 5;
    out.push(`<text x="${px(x).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${Math.round(x)}</text>`);
  }
  const legend = (i: number, name: string, color: string, dash: string) => {
    const y = Tp + 10 + i * 18;
    out.push(`<line x1="${W - R + 10}" y1="${y}" x2="${W - R + 34}" y2="${y}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - R + 40}" y="${y + 4}">${esc(name)}</text>`);
  };
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = s.values.map((v, j) => `${px(xs[j]!).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
    legend(i, s.name, color, '');
  });
  references.forEach((r, i) => {
    const pts = r.values.map((v, j) => `${px(xs[j]!).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="black" stroke-width="1" stroke-dasharray="${i === 0 ? '6 3' : '2 3'}" points="${pts}"/>`);
    legend(series.length + i, r.name, 'black', ` stroke-dasharray="${i === 0 ? '6 3' : '2 3'}"`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
