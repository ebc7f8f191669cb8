/**
 * The dashboard's layout at 1,400 px in real Chromium, on the fixture log made realistic: an
 * accepted refinement whose new version ran (the overview's refinement-effects table, the Lineage
 * effect), and a template, task class and repository whose ids have the longest length allowed.
 * No page is wider than the window, and no chart either.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { startDashboard, type DashboardServer } from '../../src/dashboard/server.js';
import { VIEWS } from '../../src/dashboard/pages.js';
import { learnLoopSource } from '../../src/dashboard/source.js';
import type { LmdbStore } from '../../src/store/index.js';
import { chartTexts, launchChromium, watchProblems } from '../helpers/browser.js';
import { RULES } from '../reports/fixture-log.js';
import { AS_OF, dashboardFixture } from './fixture.js';

const DAY = 86_400_000;
const MAX = DEFAULT_LIMITS.maxIdLength;
/** Ids of the longest length allowed. */
const LONG_TEMPLATE = `platform-${'x'.repeat(MAX - 'platform-'.length - 3)}@v1`;
const LONG_CLASS = `class-${'y'.repeat(MAX - 'class-'.length)}`;
const LONG_REPO = `org/${'z'.repeat(MAX - 'org/'.length)}`;

const dir = mkdtempSync(join(tmpdir(), 'learnloop-dash-layout-'));
let store: LmdbStore;
let dash: DashboardServer;
let browser: BrowserContext;

beforeAll(async () => {
  const log = await dashboardFixture(join(dir, 'db'));
  store = log.store;
  let clock = AS_OF - 10 * DAY;
  const app = compose(store, { limits: DEFAULT_LIMITS }, () => clock);
  await app.refinements.accept({ refinementId: 'custom#1', actor: 'maria', reason: 'asks for a reproduction first', newTemplateId: 'custom@v2', description: 'adds a reproduction step' });
  clock = AS_OF;
  const run = (i: number, templateId: string, taskClass: string, repo: string, pass: boolean, finishedAtMs: number) =>
    app.learnloop.observe({ runId: `${templateId.slice(0, 20)}-${i}`, decisionId: '', templateId, taskClass, repo, taskId: `${templateId.slice(0, 20)}-task-${i}`, attempt: 1, outcome: pass ? 'pass' : 'fail', retries: 0, durationSeconds: 120, failureReason: pass ? '' : 'agent process exited with code 137', finishedAtMs, agent: '', model: '' });
  for (let i = 0; i < 24; i++) await run(i, 'custom@v2', 'custom', 'org/api', i % 4 !== 0, AS_OF - 9 * DAY + i * 8 * 3_600_000);
  for (let i = 0; i < 24; i++) await run(i, LONG_TEMPLATE, LONG_CLASS, LONG_REPO, i % 2 === 0, AS_OF - 20 * DAY + i * DAY * 0.8);
  dash = await startDashboard({ source: learnLoopSource(app).source, rules: RULES, host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF });
  browser = await launchChromium(dir);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dash?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard layout at 1,400 px', () => {
  test.each(VIEWS.map(([, path]) => path))('%s is no wider than the window', async (path) => {
    const page = await browser.newPage();
    const problems = watchProblems(page, (url) => url.startsWith(dash.url));
    await page.goto(`${dash.url}${path}`);
    await page.waitForSelector('body[data-charts="drawn"]', { timeout: 30_000 });
    // String expressions: the project compiles without the DOM library.
    expect(await page.evaluate('document.documentElement.clientWidth')).toBe(1400);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1400);
    // Charts too: a long id's label is shortened, not the chart stretched or its text shrunk.
    for (const svg of await page.locator('figure.vl.drawn svg').all()) expect((await svg.boundingBox())!.width).toBeLessThanOrEqual(1360);
    for (const t of await chartTexts(page, 'figure.vl svg text')) expect(t.px, t.text).toBeGreaterThanOrEqual(11);
    // The long ids are on the page whole (tables keep every id).
    if (path === '/matrix') expect(await page.locator('table code', { hasText: LONG_CLASS }).count()).toBeGreaterThan(0);
    if (path === '/templates') expect(await page.locator('table code', { hasText: LONG_TEMPLATE }).count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await page.close();
  });
});
