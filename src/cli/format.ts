import { NO_DATA } from '../reports/metrics.js';

const isNumber = (c: string | number | undefined) => typeof c === 'number' || /^[-+]?[\d.]+%?$/.test(String(c));

/**
 * Plain-text tables for people; --json output is for programs. A column of numbers is right-aligned,
 * also where some rows have nothing to show (NO_DATA), so its numbers stay in line.
 */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.some((r) => isNumber(r[i])) && rows.every((r) => isNumber(r[i]) || r[i] === NO_DATA));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
export const fixed = (x: number, digits = 3): string => x.toFixed(digits);
