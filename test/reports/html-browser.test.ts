import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildReport } from '../../src/cli/commands/analytics.js';
import { renderReport } from '../../src/reports/index.js';
import type { LmdbStore } from '../../src/store/index.js';
import { AS_OF, fixtureLog, RULES } from './fixture-log.js';

// Debian's chromium (apt-get install chromium; .ci/run installs it). playwright-core downloads
// nothing; without the binary these tests fail rather than pass vacuously.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

const dir = mkdtempSync(join(tmpdir(), 'learnloop-html-'));
let browser: BrowserContext;
let store: LmdbStore;
const pages: Record<string, string> = {};

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  const log = await fixtureLog(join(dir, 'db'));
  store = log.store;
  for (const name of ['scores', 'trend', 'failures', 'weekly']) {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, renderReport(buildReport(name, log.data(), AS_OF, RULES), 'html'));
    pages[name] = pathToFileURL(file).href;
  }
  // A fresh profile folder per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, args: ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTML reports in headless chromium', () => {
  // Charts each report must draw: [svg count, polylines (trend lines), bars].
  test.each([
    ['scores', 1, 0, 5],
    ['trend', 3, 6, 0],
    ['failures', 1, 0, 8], // the fixture has 8 failure signatures
    ['weekly', 1, 1, 0],
  ])('%s renders its charts without console errors', async (name, charts, minLines, bars) => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pages[name]!);
    const svgs = page.locator('svg.chart');
    expect(await svgs.count()).toBe(charts);
    for (let i = 0; i < charts; i++) {
      const box = await svgs.nth(i).boundingBox();
      expect(box, `chart ${i} has a layout box`).not.toBeNull();
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(50);
    }
    expect(await page.locator('svg.chart polyline').count()).toBeGreaterThanOrEqual(minLines);
    expect(await page.locator('svg.chart rect.bar').count()).toBe(bars);
    // Every drawn bar and point is visible, with real size.
    // A string expression: the project compiles without the DOM library.
    const drawn = (await page.evaluate(
      `[...document.querySelectorAll('svg.chart rect.bar, svg.chart circle')].map((e) => { const b = e.getBBox(); return { width: b.width, height: b.height }; })`,
    )) as Array<{ width: number; height: number }>;
    expect(drawn.length).toBeGreaterThan(0);
    for (const b of drawn) expect(b.width + b.height).toBeGreaterThan(0);
    expect(await page.title()).toMatch(/^learnloop /);
    expect(problems).toEqual([]);
    // Self-contained: the page itself is the only request.
    expect(requests).toEqual([pages[name]]);
    await page.close();
  });
});
