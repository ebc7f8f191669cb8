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

/**
 * A column of run counts with its header. Without decay they are whole runs and show as integers; decay
 * weighs old runs down to fractions, so a fractional one is shown to a tenth under a header that says the
 * runs are effective (decayed), rather than passed off as a count.
 */
export function runsColumn(header: string, runs: readonly number[]): { header: string; cells: string[] } {
  const whole = runs.every((n) => Math.abs(n - Math.round(n)) < 1e-9);
  return whole ? { header, cells: runs.map((n) => String(Math.round(n))) } : { header: `${header} (decayed)`, cells: runs.map((n) => n.toFixed(1)) };
}
