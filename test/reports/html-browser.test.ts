import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildReport } from '../../src/cli/commands/analytics.js';
import { renderReport } from '../../src/reports/index.js';
import type { LmdbStore } from '../../src/store/index.js';
import { chartTexts, launchChromium, watchProblems } from '../helpers/browser.js';
import { AS_OF, fixtureLog, RULES } from './fixture-log.js';

const dir = mkdtempSync(join(tmpdir(), 'learnloop-html-'));
let browser: BrowserContext;
let store: LmdbStore;
const pages: Record<string, string> = {};

beforeAll(async () => {
  const log = await fixtureLog(join(dir, 'db'));
  store = log.store;
  for (const name of ['scores', 'trend', 'failures', 'weekly', 'outcomes']) {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, await renderReport(buildReport(name, await log.data(), AS_OF, RULES), 'html'));
    pages[name] = pathToFileURL(file).href;
  }
  browser = await launchChromium(dir);
});

afterAll(async () => {
  await browser?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTML reports in headless chromium', () => {
  // Charts each report must draw (Vega-Lite rendered to SVG): [charts, line marks, bars].
  test.each([
    ['scores', 1, 0, 5],
    ['trend', 3, 6, 0], // overall, and a panel per template for pass and retry rate
    ['failures', 1, 0, 8], // the fixture has 8 failure signatures
    ['weekly', 2, 4, 0], // the trend and the scoreboard's three metrics
    ['outcomes', 1, 3, 0],
  ])('%s renders its charts legibly at 1,400 px without console errors', async (name, charts, minLines, bars) => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const problems = watchProblems(page, (url) => url === pages[name]);
    await page.goto(pages[name]!);
    const svgs = page.locator('svg.chart');
    expect(await svgs.count()).toBe(charts);
    for (let i = 0; i < charts; i++) {
      const box = await svgs.nth(i).boundingBox();
      expect(box, `chart ${i} has a layout box`).not.toBeNull();
      expect(box!.width).toBeGreaterThan(600);
      expect(box!.height).toBeGreaterThan(100);
    }
    expect(await page.locator('svg.chart g.mark-line path').count()).toBeGreaterThanOrEqual(minLines);
    expect(await page.locator('svg.chart g.role-mark.mark-rect path').count()).toBe(bars);
    // Every drawn bar and point has real size; every label is whole and at least 11 px.
    // String expressions: the project compiles without the DOM library.
    const drawn = (await page.evaluate(
      `[...document.querySelectorAll('svg.chart g.role-mark path')].map((e) => { const b = e.getBBox(); return b.width + b.height; })`,
    )) as number[];
    expect(drawn.length).toBeGreaterThan(0);
    for (const size of drawn) expect(size).toBeGreaterThan(0);
    const texts = await chartTexts(page, 'svg.chart text');
    expect(texts.length).toBeGreaterThan(0);
    for (const t of texts) {
      expect(t.px, t.text).toBeGreaterThanOrEqual(11);
      expect(t.text, 'a label cut short').not.toMatch(/…$/);
    }
    expect(await page.title()).toMatch(/^learnloop /);
    expect(problems).toEqual([]);
    // Self-contained: the page itself is the only request.
    expect(requests).toEqual([pages[name]]);
    await page.close();
  });
});
