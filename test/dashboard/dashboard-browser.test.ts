/**
 * The dashboard in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): every page
 * renders its numbers and charts at 1,400 px without console errors, tooltips show, and the
 * refinement actions work with the token and are refused without it or from another site.
 * With LEARNLOOP_SCREENSHOTS=1 it also writes docs/screenshots/dashboard-<view>.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startDashboard, type DashboardServer } from '../../src/dashboard/server.js';
import { DEFAULT_LIMITS } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { learnLoopSource } from '../../src/dashboard/source.js';
import { failuresReport, fmt, scoresReport } from '../../src/reports/index.js';
import { reportData } from '../../src/service/refinement-queue.js';
import type { LmdbStore } from '../../src/store/index.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { chartTexts, launchChromium, watchProblems } from '../helpers/browser.js';
import { RULES } from '../reports/fixture-log.js';
import { AS_OF, DECISIONS, dashboardFixture } from './fixture.js';

const TOKEN = 'fixture-token-0123456789';
const SHOTS = process.env.LEARNLOOP_SCREENSHOTS === '1' ? join(PACKAGE_ROOT, 'docs', 'screenshots') : '';

const dir = mkdtempSync(join(tmpdir(), 'learnloop-dash-browser-'));
let store: LmdbStore;
let dash: DashboardServer;
let browser: BrowserContext;
let evil: Server;
let evilUrl = '';

beforeAll(async () => {
  const log = await dashboardFixture(join(dir, 'db'));
  store = log.store;
  const { source, actions } = learnLoopSource(compose(log.store, { limits: DEFAULT_LIMITS }, () => AS_OF));
  dash = await startDashboard({ source, actions, rules: RULES, host: '127.0.0.1', port: 0, token: TOKEN, asOfMs: AS_OF, now: () => AS_OF });
  // Another site: a page that posts a form to the dashboard as soon as it loads.
  evil = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://x').searchParams.get('target') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' }).end(
      `<!DOCTYPE html><form id="f" method="post" action="${target}"><input name="actor" value="mallory"><input name="reason" value="csrf"><input name="new_template_id" value="custom@evil"></form><script>document.getElementById('f').submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  const addr = evil.address();
  // localhost, not 127.0.0.1: a different origin (and site) from the dashboard's.
  evilUrl = `http://localhost:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  browser = await launchChromium(dir);
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  // Sign in once, as a person would (each test can then run alone).
  const page = await browser.newPage();
  await page.goto(`${dash.url}/?token=${TOKEN}`);
  await page.close();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (evil ? evil.close(() => resolve()) : resolve()));
  await dash?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a page and collects every console error or warning, failed or foreign request. */
async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems = watchProblems(page, (url) => url.startsWith(dash.url));
  await page.goto(`${dash.url}${path}`);
  await page.waitForSelector('body[data-charts="drawn"]', { timeout: 30_000 });
  return { page, problems };
}

describe('dashboard in headless chromium', () => {
  test('the token opens the dashboard once and is kept in a same-site cookie', async () => {
    expect((await fetch(`${dash.url}/lift`)).status).toBe(401);
    expect((await fetch(`${dash.url}/api/v1/lift`)).status).toBe(401);
    const page = await browser.newPage();
    await page.goto(`${dash.url}/?token=${TOKEN}`);
    expect(page.url()).toBe(`${dash.url}/`);
    const cookie = (await browser.cookies(dash.url)).find((c) => c.name === 'learnloop_dashboard');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    await page.close();
  });

  // [view path, charts drawn, whether a legend is expected]
  test.each([
    ['/', 3, false],
    ['/matrix', 2, true],
    ['/traffic', 2, true],
    ['/lift', 1, false],
    ['/failures', 1, false],
    ['/refinements', 0, false],
    ['/templates', 0, false],
  ] as const)('%s renders legibly at 1,400 px with no console errors', async (path, charts, legend) => {
    const { page, problems } = await open(path);
    expect(await page.locator('figure.vl.failed').count()).toBe(0);
    expect(await page.locator('figure.vl.drawn svg').count()).toBe(charts);
    for (const svg of await page.locator('figure.vl.drawn svg').all()) {
      const box = (await svg.boundingBox())!;
      expect(box.width).toBeGreaterThan(400);
      expect(box.width).toBeLessThanOrEqual(1360);
      expect(box.height).toBeGreaterThan(100);
    }
    for (const t of await chartTexts(page, 'figure.vl svg text')) {
      expect(t.px, t.text).toBeGreaterThanOrEqual(11);
      expect(t.text, 'a label cut short').not.toMatch(/…$/);
    }
    if (legend) expect(await page.locator('figure.vl svg g.role-legend').count()).toBeGreaterThan(0);
    expect(await page.title()).toMatch(/^learnloop · /);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `dashboard-${path === '/' ? 'overview' : path.slice(1)}.png`), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the overview shows the reports\' numbers for the fixture log', async () => {
    const scores = scoresReport((await reportData(store)).rows, AS_OF);
    expect(scores.overall.runs).toBe(201 + DECISIONS);
    const { page } = await open('/');
    expect(await page.locator('[data-number="runs"]').textContent()).toBe(String(scores.overall.runs));
    expect(await page.locator('[data-number="pass-rate"]').textContent()).toBe(fmt.pct(scores.overall.passRate));
    expect(await page.locator('[data-number="retry-rate"]').textContent()).toBe(fmt.pct(scores.overall.retryRate));
    await page.close();
  });

  test('the matrix, traffic, failures, refinements and lineage pages show the fixture\'s numbers', async () => {
    const rowsOf = async (path: string) => {
      const { page, problems } = await open(path);
      // Cells' text; a cell naming something in <code> (a template, a failure signature) by that alone.
      const rows = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td, i) => ((i === 0 ? td.querySelector('code') ?? td : td).textContent ?? '').trim())));
      expect(problems).toEqual([]);
      await page.close();
      return rows;
    };
    const data = await reportData(store);
    const ll = compose(store, { limits: DEFAULT_LIMITS }, () => AS_OF).learnloop;
    // Matrix: each task class's row shows GetScores' posterior pass rate and evidence label for it.
    const matrix = await rowsOf('/matrix');
    for (const taskClass of ['bug-fix', 'docs', 'feature']) {
      for (const card of await ll.scores(taskClass, '')) {
        const row = matrix.find((r) => r[0] === card.templateId && r[1] === taskClass && r.length === 9);
        expect(row, `${card.templateId} in ${taskClass}`).toBeDefined();
        expect(row![2]).toMatch(new RegExp(`^${fmt.pct(card.posterior.passRate!).replace('.', '\\.')} `));
        expect(row![6]).toBe(card.evidenceLabel);
      }
    }
    // Traffic: every logged decision counted once, per week.
    const traffic = await rowsOf('/traffic');
    const decisionsByWeek = new Map(traffic.map((r) => [r[0], Number(r[1])]));
    expect([...decisionsByWeek.values()].reduce((a, b) => a + b, 0)).toBe(DECISIONS);
    // Failures: the most frequent pattern and its count, as report failures gives them.
    const failures = failuresReport(data.rows, AS_OF, RULES);
    const top = failures.patterns[0]!;
    const shown = (await rowsOf('/failures')).find((r) => r[0] === top.signature);
    expect(shown?.[1]).toBe(String(top.count));
    // Refinements: every item of the queue, with its status.
    const refinements = await rowsOf('/refinements');
    for (const item of await store.refinements()) expect(refinements.find((r) => r[0] === item.refinementId)?.[2], item.refinementId).toBe(item.status);
    // Lineage: each template's runs and pass rate, as report scores gives them.
    const lineage = await rowsOf('/templates');
    for (const t of scoresReport(data.rows, AS_OF).byTemplate) {
      const row = lineage.find((r) => r[0] === t.key);
      expect(row, t.key).toBeDefined();
      expect(row!.join(' | ')).toContain(t.judged > 0 ? fmt.pct(t.passRate) : '–');
      expect(row).toContain(String(t.runs));
    }
  });

  test('the lift page shows the log\'s headline lift and effective sample size', async () => {
    const lift = (await dash.model()).lift;
    expect(lift.available).toBe(true);
    expect(lift.decisions).toBe(DECISIONS);
    const { page } = await open('/lift');
    const h = lift.headline!;
    expect(await page.locator('[data-number="lift"]').textContent()).toBe(`${h.estimate >= 0 ? '+' : ''}${(h.estimate * 100).toFixed(1)} points`);
    expect(await page.locator('[data-number="ess"]').textContent()).toBe(lift.effectiveSampleSize.toFixed(1));
    await page.close();
  });

  test('points carry tooltips with their interval and run count', async () => {
    const { page } = await open('/');
    const point = page.locator('figure.vl svg g.mark-symbol path').first();
    await point.hover({ force: true });
    const tip = page.locator('#vg-tooltip-element');
    await expect.poll(async () => (await tip.textContent()) ?? '', { timeout: 5000 }).toMatch(/runs/);
    expect(await tip.textContent()).toMatch(/95% low/);
    await page.close();
  });

  test('accept and reject work with the token and record the actor', async () => {
    const { page } = await open('/refinements');
    const accept = page.locator('form[action="/refinements/custom%231/accept"]');
    await accept.locator('input[name=actor]').fill('maria');
    await accept.locator('input[name=reason]').fill('asks for a reproduction first');
    await accept.locator('input[name=new_template_id]').fill('custom@v2');
    await accept.locator('button').click();
    await page.waitForURL(/done=/);
    expect(await page.locator('.flash').textContent()).toContain('accepted custom#1 by maria');
    const reject = page.locator('form[action="/refinements/feature%40v1%231/reject"]');
    await reject.locator('input[name=actor]').fill('li');
    await reject.locator('input[name=reason]').fill('a known flaky suite');
    await reject.locator('button').click();
    await page.waitForURL(/done=/);
    await page.close();
    expect((await store.refinement('custom#1'))).toMatchObject({ status: 'accepted', actor: 'maria', newTemplateId: 'custom@v2' });
    expect((await store.refinement('feature@v1#1'))).toMatchObject({ status: 'rejected', actor: 'li', reason: 'a known flaky suite' });
    expect((await store.template('custom@v2'))).toMatchObject({ parentTemplateId: 'custom', status: 'candidate' });
  });

  test('a cross-site form post is refused, and so is a post without the token or the csrf field', async () => {
    // The fixture's items are decided by now; retire is the action left: a template's status.
    const target = `${dash.url}/templates/docs%40v1/retire`;
    const before = (await store.template('docs@v1'))?.status;
    expect(before).not.toBe('retired');
    const page = await browser.newPage();
    const answered = page.waitForResponse((r) => r.url() === target);
    await page.goto(`${evilUrl}/?target=${encodeURIComponent(target)}`);
    expect([401, 403]).toContain((await answered).status());
    await page.close();
    expect((await store.template('docs@v1'))?.status).toBe(before);

    const form = new URLSearchParams({ actor: 'x', reason: 'y' }).toString();
    const post = (headers: Record<string, string>) => fetch(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form, redirect: 'manual' });
    expect((await post({})).status).toBe(401);
    expect((await post({ origin: dash.url, cookie: `learnloop_dashboard=${TOKEN}` })).status).toBe(403); // no csrf field
    expect((await post({ origin: evilUrl, authorization: `Bearer ${TOKEN}` })).status).toBe(403);
    expect((await store.template('docs@v1'))?.status).toBe(before);
    // A script with the token in its header is no browser: it may retire.
    const ok = await post({ authorization: `Bearer ${TOKEN}`, accept: 'application/json' });
    expect(ok.status).toBe(200);
    expect((await store.template('docs@v1'))?.status).toBe('retired');
  });
});
