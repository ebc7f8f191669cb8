/**
 * The chart specs laid out by vega itself (headless, text widths estimated as in the reports'
 * SVGs): what a reader would see overlap, and which x range an axis covers.
 */
import { parse, View, Warn } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { describe, expect, test, vi } from 'vitest';
import { barsSpec, intervalDotsSpec, matrixSpec, NO_DATA_YET, rateLinesSpec, shareAreaSpec, type RatePoint } from '../../src/charts/index.js';

interface Box {
  readonly text: string;
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** Every text the chart draws inside its plot layers (not axes, legend or title), with its box. */
async function layout(spec: TopLevelSpec): Promise<{ texts: Box[]; view: View }> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  await view.runAsync();
  const texts: Box[] = [];
  const walk = (node: any, inMarks: boolean): void => {
    const role = node.role ?? node.mark?.role;
    if (node.marktype === 'text' && inMarks && role === 'mark') {
      for (const it of node.items ?? []) if (it.text !== undefined && it.text !== '') texts.push({ text: String(it.text), x1: it.bounds.x1, y1: it.bounds.y1, x2: it.bounds.x2, y2: it.bounds.y2 });
    }
    for (const it of node.items ?? []) walk(it, inMarks && !/axis|legend|title/.test(String(it.role ?? '')));
  };
  walk((view.scenegraph() as unknown as { root: unknown }).root, true);
  return { texts, view };
}

/** Every text the chart draws (axes, legends and headers too), with its font size. */
async function allTexts(spec: TopLevelSpec): Promise<{ texts: Array<{ text: string; size: number }> }> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  await view.runAsync();
  const texts: Array<{ text: string; size: number }> = [];
  const walk = (node: any): void => {
    if (node.marktype === 'text') for (const it of node.items ?? []) if (it.text !== undefined && it.text !== '') texts.push({ text: String(it.text), size: it.fontSize });
    for (const it of node.items ?? []) walk(it);
  };
  walk((view.scenegraph() as unknown as { root: unknown }).root);
  view.finalize();
  return { texts };
}

const overlapping = (texts: readonly Box[]) =>
  texts.flatMap((a, i) => texts.slice(i + 1).filter((b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2).map((b) => `${a.text} / ${b.text}`));

const WEEK = 7 * 86_400_000;
const T0 = Date.UTC(2026, 10, 6);
const week = (i: number) => T0 + i * WEEK;

describe('rate lines', () => {
  test('markers of near dates, and of one date, never overlap each other or a count', async () => {
    const points: RatePoint[] = [0, 1, 2, 3].map((i) => ({ series: 'overall', x: week(i), value: [0.43, 0.51, 0.4, 0.98][i]!, low: 0.3, high: 0.99, n: [47, 92, 71, 68][i]! }));
    const markers = [
      { x: week(3), label: 'overall: improved 12-03' },
      { x: week(3), label: 'bug-fix@v2: improved 12-01' },
      { x: week(3) - 86_400_000, label: 'feature@v1: improved 11-29' },
    ];
    const { texts } = await layout(rateLinesSpec(points, { title: 't', yTitle: 'retry rate', time: true, width: 1000, markers }));
    expect(texts.map((t) => t.text)).toEqual(expect.arrayContaining(['overall: improved 12-03', 'bug-fix@v2: improved 12-01', 'feature@v1: improved 11-29', '68']));
    expect(overlapping(texts)).toEqual([]);
  });

  test('the counts of overlaid series at one x move apart instead of overlapping', async () => {
    const series = (name: string, values: number[], ns: number[]): RatePoint[] => values.map((value, i) => ({ series: name, x: ['11-06', '11-13', '11-20', '11-27'][i]!, value, n: ns[i]! }));
    const points = [...series('pass rate', [0.48, 0.55, 0.52, 0.62], [54, 104, 82, 180]), ...series('retry rate', [0.43, 0.51, 0.4, 0.22], [47, 92, 71, 166]), ...series('repeated failures', [0.93, 0.94, 0.94, 0.96], [15, 15, 15, 68])];
    const { texts } = await layout(rateLinesSpec(points, { title: 't', yTitle: 'rate', markers: [{ x: '11-27', label: 'bug-fix@v1#1' }] }));
    expect(texts.filter((t) => /^\d+$/.test(t.text))).toHaveLength(12);
    expect(overlapping(texts)).toEqual([]);
  });

  test('a time axis runs from the first point to the last, whatever the markers', async () => {
    const points: RatePoint[] = [0, 1, 2, 3].map((i) => ({ series: 'overall', x: week(i), value: 0.5, n: 10 }));
    const withMarkers = await layout(rateLinesSpec(points, { title: 't', yTitle: 'y', time: true, markers: [{ x: week(3) + 3 * 86_400_000, label: 'after the last point' }, { x: week(1), label: 'inside' }] }));
    const without = await layout(rateLinesSpec(points, { title: 't', yTitle: 'y', time: true }));
    expect(withMarkers.view.scale('x').domain().map(Number)).toEqual([week(0), week(3)]);
    expect(without.view.scale('x').domain().map(Number)).toEqual([week(0), week(3)]);
    expect(withMarkers.texts.map((t) => t.text)).toContain('inside');
    expect(withMarkers.texts.map((t) => t.text)).not.toContain('after the last point');
  });
});

// Ids may have 256 characters (DEFAULT_LIMITS.maxIdLength).
const LONG = `platform-${'x'.repeat(120)}-${'y'.repeat(119)}@v1`;
const LONG_CLASS = `class-${'c'.repeat(250)}`;

describe('labels of the longest ids', () => {
  const shortened = <T extends { text: string }>(texts: readonly T[], id: string) => texts.find((t) => t.text.includes('…') && id.startsWith(t.text.split('…')[0]!) && id.endsWith(t.text.split('…')[1]!));

  test('a bar label keeps the id\'s start and end around an ellipsis, at 13 px', async () => {
    const { texts } = await allTexts(barsSpec([{ label: LONG, value: 0.5, low: 0.2, high: 0.8, n: 12 }, { label: 'bug-fix@v1', value: 0.7, n: 30 }], { title: 't', xTitle: 'pass rate', scale: 'rate' }));
    const label = shortened(texts, LONG);
    expect(label, texts.map((t) => t.text).join(' | ')).toBeDefined();
    expect(label!.text.length).toBe(64);
    expect(label!.size).toBe(13);
    expect(texts.map((t) => t.text)).toContain('bug-fix@v1');
  });

  test('labels count characters, not UTF-16 units, and never cut one in half', async () => {
    // 256 characters, most outside the Basic Multilingual Plane (two UTF-16 units each), with an odd start
    // so that a cut by units would fall inside one.
    const astral = `a${'😀'.repeat(254)}z`;
    const forty = '😀'.repeat(40);
    const { texts } = await allTexts(barsSpec([{ label: astral, value: 0.5, n: 3 }, { label: forty, value: 0.4, n: 3 }], { title: 't', xTitle: 'pass rate', scale: 'rate' }));
    const label = shortened(texts, astral);
    expect(label, texts.map((t) => t.text).join(' | ')).toBeDefined();
    // No lone surrogate (half of a character outside the Basic Multilingual Plane).
    expect(label!.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect([...label!.text]).toHaveLength(64);
    // 40 characters (80 units) fit whole.
    expect(texts.map((t) => t.text)).toContain(forty);
  });

  test('the matrix stays narrow with ids of 256 characters on both axes', async () => {
    const cell = (template: string, segment: string) => ({ template, segment, mean: 0.5, low: 0.2, high: 0.8, own: 3, borrowed: 1, evidence: 'task class' });
    const spec = matrixSpec([cell(LONG, LONG_CLASS), cell(LONG, 'docs'), cell('bug-fix@v1', 'docs')], { title: 't', segmentTitle: 'task class' });
    const view = new View(parse(compile(spec).spec), { renderer: 'none' });
    await view.runAsync();
    const svg = await view.toSVG();
    view.finalize();
    const width = Number(/^<svg[^>]* width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
    expect(width).toBeLessThanOrEqual(1360);
    const { texts } = await allTexts(spec);
    expect(shortened(texts, LONG)).toBeDefined();
    expect(shortened(texts, LONG_CLASS)).toBeDefined();
  });
});

describe('charts with nothing to draw', () => {
  test.each([
    ['rate lines', rateLinesSpec([], { title: 'Pass rate per week', yTitle: 'pass rate', time: true, markers: [{ x: 0, label: 'x' }] })],
    ['rate panels', rateLinesSpec([], { title: 'Pass rate per template', yTitle: 'pass rate', time: true, layout: 'panels' })],
    ['bars', barsSpec([], { title: 'Pass rate per template', xTitle: 'pass rate', scale: 'rate' })],
    ['matrix', matrixSpec([], { title: 'Posterior pass rate', segmentTitle: 'task class' })],
    ['share areas', shareAreaSpec([], { title: 'Traffic', yTitle: 'share' })],
    ['interval dots', intervalDotsSpec([], { title: 'Lift', xTitle: 'lift' })],
  ] as const)('%s: the title and "no data yet", no empty axes and no vega warning', async (_name, spec) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const view = new View(parse(compile(spec).spec), { renderer: 'none', logLevel: Warn });
      await view.runAsync();
      await view.toSVG();
      view.finalize();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    const { texts } = await allTexts(spec);
    expect(texts.map((t) => t.text)).toEqual(expect.arrayContaining([spec.title, NO_DATA_YET]));
    expect(texts.map((t) => t.text)).not.toContain('0%');
  });
});
