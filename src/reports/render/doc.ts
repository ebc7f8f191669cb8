/**
 * A report as a document: headings, paragraphs, lists, tables and charts. Each report builds one;
 * the Markdown and HTML renderers print it. Numbers arrive here already formatted as text, so
 * both formats show the same figures.
 */

export interface LineSeries {
  readonly name: string;
  /** One value per x label; null where there is no data. */
  readonly values: ReadonlyArray<number | null>;
  /** Optional interval band, same length as values. */
  readonly low?: ReadonlyArray<number | null>;
  readonly high?: ReadonlyArray<number | null>;
  /** Runs behind each value, printed on its point (same length as values). */
  readonly counts?: ReadonlyArray<number>;
}

export interface LineChart {
  readonly kind: 'line';
  readonly title: string;
  readonly xLabels: readonly string[];
  readonly series: readonly LineSeries[];
  /** Values are rates in [0, 1], drawn as percentages. */
  readonly yMax: 1;
  /** Dated markers, e.g. detected changes: the x label they sit on and what they say. */
  readonly markers?: ReadonlyArray<{ readonly xLabel: string; readonly label: string }>;
}

export interface BarChart {
  readonly kind: 'bar';
  readonly title: string;
  readonly bars: ReadonlyArray<{ readonly label: string; readonly value: number; readonly low?: number; readonly high?: number; readonly n?: number }>;
  /** 'rate' draws [0, 1] as percentages; 'count' scales to the largest bar. */
  readonly scale: 'rate' | 'count';
}

export type Chart = LineChart | BarChart;

/**
 * Text a report quotes from the log or the rules file (an id, a failure signature, a remediation):
 * the HTML isolates it (`<bdi>`), so right-to-left letters in it cannot reorder the words beside it.
 */
export interface Quoted {
  readonly quoted: string;
}

/** The text of a block: the report's own words, quoted text, or a run of both. */
export type Inline = string | Quoted | ReadonlyArray<string | Quoted>;

/** `text` marked as quoted (see Quoted). */
export const quote = (text: string): Quoted => ({ quoted: text });

/** The pieces of an inline, in order. */
export const inlineParts = (text: Inline): ReadonlyArray<string | Quoted> => (typeof text === 'string' || 'quoted' in text ? [text] : text);

/** An inline as one string, the marks dropped (Markdown shows quoted text as it shows the rest). */
export const plain = (text: Inline): string => inlineParts(text).map((p) => (typeof p === 'string' ? p : p.quoted)).join('');

/** Inlines one after another with `separator` between them. */
export const joinInline = (texts: readonly Inline[], separator: string): Inline => texts.flatMap((t, i) => [...(i > 0 ? [separator] : []), ...inlineParts(t)]);

export type Block =
  | { readonly kind: 'heading'; readonly level: 2 | 3; readonly text: Inline }
  | { readonly kind: 'para'; readonly text: Inline }
  | { readonly kind: 'list'; readonly items: readonly Inline[] }
  | { readonly kind: 'table'; readonly headers: readonly string[]; readonly rows: ReadonlyArray<readonly Inline[]>; readonly numeric?: readonly boolean[] }
  | { readonly kind: 'chart'; readonly chart: Chart };

export interface Doc {
  readonly title: string;
  readonly subtitle: string;
  readonly blocks: readonly Block[];
}

/** Fixed-precision formatting shared by every report. */
export const fmt = {
  pct: (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`,
  num: (x: number, digits = 0): string => x.toFixed(digits),
  interval: (lo: number, hi: number): string => `${(lo * 100).toFixed(0)}–${(hi * 100).toFixed(0)}%`,
  /** UTC date, YYYY-MM-DD. */
  date: (ms: number): string => new Date(ms).toISOString().slice(0, 10),
  /** UTC date and time to the minute. */
  time: (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' '),
  /** A count and its noun, singular for 1: "1 run", "2 runs". */
  count: (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`,
};
