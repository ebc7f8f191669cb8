/**
 * The dashboard's JSON views and its two ways to run: beside the gRPC server (`serve --http-port`)
 * and over a folder alone (`learnloop dashboard --db`). Numbers agree with the reports'.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startDashboard, type DashboardServer } from '../../src/dashboard/server.js';
import { BIDI_FORMATTING, DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { compose, openStore, type App } from '../../src/compose.js';
import { learnLoopSource } from '../../src/dashboard/source.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { failuresReport, fmt, scoresReport, trendReport, type Change } from '../../src/reports/index.js';
import { renderPage } from '../../src/dashboard/pages.js';
import { startServer } from '../../src/server/index.js';
import { reportData, type ReportData } from '../../src/service/refinement-queue.js';
import { LmdbStore } from '../../src/store/index.js';
import { RULES } from '../reports/fixture-log.js';
import { freePort } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { AS_OF, DECISIONS, dashboardFixture } from './fixture.js';

const VIEWS = ['overview', 'matrix', 'traffic', 'lift', 'failures', 'refinements', 'templates'] as const;
let store: LmdbStore;
let data: ReportData;
let dash: DashboardServer;
// Kept for the whole file (the tmp helper removes its folders after each test).
const dir = mkdtempSync(join(tmpdir(), 'learnloop-dash-api-'));
const dbPath = join(dir, 'db');

beforeAll(async () => {
  const log = await dashboardFixture(dbPath);
  store = log.store;
  data = await reportData(store);
  const { source, actions } = learnLoopSource(compose(log.store, { limits: DEFAULT_LIMITS }, () => AS_OF));
  dash = await startDashboard({ source, actions, rules: RULES, host: '127.0.0.1', port: 0, token: 'tok', asOfMs: AS_OF, now: () => AS_OF });
});
afterAll(async () => {
  await dash?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const getJson = async (path: string, token = 'tok') => {
  const res = await fetch(`${dash.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('dashboard JSON views', () => {
  test.each(VIEWS)('/api/v1/%s needs the token and answers the same bytes twice', async (view) => {
    expect((await getJson(`/api/v1/${view}`, '')).status).toBe(401);
    expect((await getJson(`/api/v1/${view}`, 'wrong')).status).toBe(401);
    const a = await fetch(`${dash.url}/api/v1/${view}`, { headers: { authorization: 'Bearer tok' } });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
    const b = await fetch(`${dash.url}/api/v1/${view}`, { headers: { authorization: 'Bearer tok' } });
    expect(await b.text()).toBe(await a.text());
  });

  test('the overview has the reports\' numbers: totals, trend points and changes', async () => {
    const { body } = await getJson('/api/v1/overview');
    const scores = scoresReport(data.rows, AS_OF);
    const totals = body.totals as Record<string, number>;
    expect(totals.runs).toBe(scores.overall.runs);
    expect(totals.passRate).toBeCloseTo(scores.overall.passRate, 6);
    expect(totals.retryRate).toBeCloseTo(scores.overall.retryRate, 6);
    expect(totals.firstTryPassRate).toBeCloseTo(scores.overall.firstTryPassRate, 6);
    const overall = body.overall as { points: Array<{ startMs: number; judged: number; passRate: number }> };
    const trend = trendReport(data.rows, AS_OF, { windowDays: 7, windows: overall.points.length });
    expect(overall.points.map((p) => [p.startMs, p.judged])).toEqual(trend.overall.points.map((p) => [p.startMs, p.judged]));
    const changes = body.changes as Array<{ scope: string; metric: string; atMs: number }>;
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.map((c) => [c.scope, c.metric, c.atMs])).toEqual(trend.changes.map((c) => [c.scope, c.metric, c.atMs]));
    // The scoreboard is the reports' (issue 14): three metrics start vs end.
    const board = body.scoreboard as { metrics: Array<{ metric: string }> };
    expect(board.metrics.map((x) => x.metric)).toEqual(['pass_rate', 'retry_rate', 'repeat_share']);
  });

  test('each overview chart marks its own metric\'s changes on the week they fall in, and both charts span the same weeks', async () => {
    const m = await dash.model();
    const weeks = m.overview.overall.points.map((p) => p.startMs);
    const base = m.overview.changes[0]!;
    const change = (scopeKind: Change['scopeKind'], scope: string, metric: Change['metric'], atMs: number): Change => ({ ...base, scopeKind, scope, metric, atMs, direction: 'improved' });
    const changes = [
      change('overall', 'overall', 'pass_rate', weeks[1]! + 86_400_000),
      change('template', 'bug-fix@v1', 'retry_rate', weeks.at(-1)! + 2 * 86_400_000),
      change('template', 'docs@v1', 'retry_rate', weeks.at(-1)! + 3 * 86_400_000),
      change('task_class', 'docs', 'pass_rate', weeks[2]!),
    ];
    const html = renderPage('overview', { ...m, overview: { ...m.overview, changes } }, { csrf: '', flash: '', flashIsError: false, scoreboardHtml: '', stale: false });
    const specs = [...html.matchAll(/<script type="application\/json" id="chart-\d+">(.*?)<\/script>/g)].map((x) => JSON.parse(x[1]!) as { title: string; encoding?: unknown; layer: Array<{ data?: { values: Array<{ x: number; label: string }> }; encoding?: { x?: { scale?: { domain?: number[] } } } }> });
    const byTitle = (start: string) => specs.find((s) => s.title.startsWith(start))!;
    const marks = (start: string) => byTitle(start).layer.flatMap((l) => l.data?.values.map((v) => [v.x, v.label]) ?? []);
    const domain = (start: string) => byTitle(start).layer.find((l) => l.encoding?.x)!.encoding!.x!.scale!.domain;
    expect(marks('Pass rate per week, all templates')).toEqual([[weeks[1], `overall: improved ${fmt.date(changes[0]!.atMs).slice(5)}`]]);
    expect(marks('Retry rate per week, all templates')).toEqual([
      [weeks.at(-1), `bug-fix@v1: improved ${fmt.date(changes[1]!.atMs).slice(5)}`],
      [weeks.at(-1), `docs@v1: improved ${fmt.date(changes[2]!.atMs).slice(5)}`],
    ]);
    expect(domain('Pass rate per week, all templates')).toEqual([weeks[0], weeks.at(-1)]);
    expect(domain('Retry rate per week, all templates')).toEqual([weeks[0], weeks.at(-1)]);
  });

  test('the matrix has a cell for each template with runs in a task class, own plus borrowed runs making the posterior', async () => {
    const { body } = await getJson('/api/v1/matrix');
    const cells = body.byTaskClass as Array<{ templateId: string; taskClass: string; ownRuns: number; borrowedRuns: number; posteriorPassRate: number; posteriorPassRateLow: number; posteriorPassRateHigh: number; runs: number }>;
    // GetScores' population of each task class (test/reports/one-definition.test.ts checks the numbers against it).
    const ran = new Set(data.rows.map((r) => `${r.templateId} ${r.taskClass}`));
    expect(new Set(cells.filter((c) => c.runs > 0).map((c) => `${c.templateId} ${c.taskClass}`))).toEqual(ran);
    for (const c of cells) {
      expect(c.posteriorPassRateLow).toBeLessThanOrEqual(c.posteriorPassRate);
      expect(c.posteriorPassRate).toBeLessThanOrEqual(c.posteriorPassRateHigh);
      expect(c.ownRuns).toBeGreaterThanOrEqual(0);
      expect(c.borrowedRuns).toBeGreaterThanOrEqual(0);
      expect(c.runs).toBe(data.rows.filter((r) => r.templateId === c.templateId && (r.taskClass || '') === c.taskClass).length);
    }
  });

  test('traffic shares add up to one each week and count every logged decision', async () => {
    const { body } = await getJson('/api/v1/traffic');
    const weeks = body.weeks as Array<{ decisions: number; byTemplate: Array<{ share: number; chosen: number }> }>;
    expect(weeks.reduce((s, w) => s + w.decisions, 0)).toBe(DECISIONS);
    for (const w of weeks) {
      // Each share is rounded to 6 decimals in the JSON: the sum is within (templates × 5e-7) of 1.
      expect(w.byTemplate.reduce((s, t) => s + t.share, 0)).toBeCloseTo(1, 5);
      expect(w.byTemplate.reduce((s, t) => s + t.chosen, 0)).toBe(w.decisions);
    }
  });

  test('the lift view is the scoreboard\'s lift: one estimate over the same window, closed-form intervals', async () => {
    const lift = (await getJson('/api/v1/lift')).body as { sinceMs: number; untilMs: number; decisions: number; interval: string; headline: unknown; deployed: unknown; effectiveSampleSize: number };
    const board = (await getJson('/api/v1/overview')).body.scoreboard as { options: { sinceMs: number; untilMs: number }; lift: { decisions: number; estimate: { lift: { dr: unknown }; deployed: unknown; effectiveSampleSize: number; method: unknown } } };
    expect([lift.sinceMs, lift.untilMs]).toEqual([board.options.sinceMs, board.options.untilMs]);
    expect(lift.decisions).toBe(board.lift.decisions);
    expect(lift.headline).toEqual(board.lift.estimate.lift.dr);
    expect(lift.deployed).toEqual(board.lift.estimate.deployed);
    expect(lift.effectiveSampleSize).toBe(board.lift.estimate.effectiveSampleSize);
    expect(lift.interval).toBe('influence');
    expect(lift).not.toHaveProperty('resamples');
    expect(board.lift.estimate.method).toEqual({ interval: 'influence' });
  });

  test('failures carry their remediation from the rules file', async () => {
    const { body } = await getJson('/api/v1/failures');
    const report = failuresReport(data.rows, AS_OF, RULES);
    expect(body.failedRuns).toBe(report.failedRuns);
    const patterns = body.patterns as Array<{ signature: string; remediation: unknown }>;
    expect(patterns[0]).toMatchObject({ signature: report.patterns[0]!.signature });
    expect(patterns.some((p) => p.remediation !== null)).toBe(true);
  });

  test('lineage names each version\'s parent and children', async () => {
    const { body } = await getJson('/api/v1/templates');
    const t = body.templates as Array<{ templateId: string; parentTemplateId: string; children: string[]; effect: unknown }>;
    expect(t.find((x) => x.templateId === 'bug-fix@v2')).toMatchObject({ parentTemplateId: 'bug-fix@v1' });
    expect(t.find((x) => x.templateId === 'bug-fix@v1')?.children).toEqual(['bug-fix@v2']);
    expect(t.find((x) => x.templateId === 'bug-fix@v2')?.effect).not.toBeNull();
  });

  test('an unknown address answers a browser with an HTML page and a script or /api/ URL with JSON, both 404', async () => {
    const get = (path: string, accept: string) => fetch(`${dash.url}${path}`, { headers: { authorization: 'Bearer tok', accept } });
    const page = await get('/templates/bug-fix@v1&x', 'text/html,application/xhtml+xml');
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<h1>Not found</h1>');
    expect(html).toContain('<code>/templates/bug-fix@v1&amp;x</code>');
    expect(html).toContain('<a href="/templates">');
    for (const [path, accept] of [['/api/v1/nope', 'text/html'], ['/nope', 'application/json']]) {
      const res = await get(path!, accept!);
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toEqual({ error: `no such view: GET ${path}` });
    }
  });

  test('a Host header that is not the loopback is refused (DNS rebinding)', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(`${dash.url}/api/v1/overview`, { headers: { host: 'evil.example', authorization: 'Bearer tok' } }, (r) => resolve(r.statusCode ?? 0));
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(res).toBe(421);
  });

  test('a refinement decision needs actor and reason, named in the error', async () => {
    const res = await fetch(`${dash.url}/refinements/custom%231/reject`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok', accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ actor: '', reason: '' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/actor/);
    expect(body.error).toMatch(/reason/);
    expect((await store.refinement('custom#1'))?.status).toBe('open');
  });

  test('a second person deciding a decided item gets 409 naming who decided; a resend is a no-op', async () => {
    const reject = (actor: string, reason: string) =>
      fetch(`${dash.url}/refinements/custom%231/reject`, {
        method: 'POST',
        headers: { authorization: 'Bearer tok', accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({ actor, reason }),
      });
    expect((await reject('ana', 'the failures are the runner\'s')).status).toBe(200);
    const again = await reject('ana', 'the failures are the runner\'s');
    expect(again.status).toBe(200);
    expect(((await again.json()) as { ok: boolean }).ok).toBe(true);
    const other = await reject('bo', 'not convinced');
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: string }).error).toMatch(/ana/);
    const item = await store.refinement('custom#1');
    expect(item).toMatchObject({ status: 'rejected', actor: 'ana', reason: "the failures are the runner's" });
  });
});

/** A dashboard over a fresh memory store that `fill` writes first; closed, with its store, after `use`. */
async function withMemoryDashboard(fill: (app: App) => Promise<void>, use: (d: DashboardServer, store: App['store']) => Promise<void>): Promise<void> {
  const mem = await openStore('memory:', { policy: DEFAULT_POLICY_CONFIG });
  const app = compose(mem, { limits: DEFAULT_LIMITS }, () => AS_OF);
  await fill(app);
  const { source, actions } = learnLoopSource(app);
  const d = await startDashboard({ source, actions, rules: RULES, host: '127.0.0.1', port: 0, token: 'tok', asOfMs: AS_OF, now: () => AS_OF, warm: false });
  try {
    await use(d, mem);
  } finally {
    await d.close();
    await mem.close();
  }
}

describe('actions on ids that hold a percent sign', () => {
  // The page puts the id in the form's address once encoded; Fastify decodes it once. Decoding it a
  // second time made "victim%40v1"'s Retire button retire "victim@v1", and "50%off@v1"'s answer 500.
  test('a form acts on the id of its own row, whatever characters the id holds', async () => {
    await withMemoryDashboard(async (app) => {
      const ids = ['victim@v1', 'victim%40v1', '50%off@v1', 'a/b?c#d%2Fe@v1'];
      for (const templateId of ids) await app.learnloop.registerTemplate({ templateId, parentTemplateId: '', description: '' });
    }, async (d, mem) => {
      const auth = { authorization: 'Bearer tok' };
      const page = await (await fetch(`${d.url}/templates`, { headers: auth })).text();
      const actionOf = (id: string) => {
        const m = new RegExp(`action="(/templates/${encodeURIComponent(id).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/retire)"`).exec(page);
        expect(m, id).not.toBeNull();
        return m![1]!;
      };
      for (const id of ['victim%40v1', '50%off@v1', 'a/b?c#d%2Fe@v1']) {
        const res = await fetch(`${d.url}${actionOf(id)}`, { method: 'POST', headers: { ...auth, accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ actor: 'ops', reason: 'decoy' }) });
        expect(res.status, id).toBe(200);
        expect(((await res.json()) as { message: string }).message, id).toBe(`retired ${id} by ops`);
        expect((await mem.template(id))?.status, id).toBe('retired');
      }
      expect((await mem.template('victim@v1'))?.status).toBe('active');
      // A refusal quoting the id is text on an HTML page, not markup.
      const refused = await fetch(`${d.url}/refinements/${encodeURIComponent('<img src=x onerror=alert(1)>#1')}/reject`, { method: 'POST', headers: { ...auth, accept: 'text/html', 'content-type': 'application/json' }, body: JSON.stringify({ actor: 'ops', reason: 'r' }) });
      expect(refused.status).toBe(404);
      const html = await refused.text();
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;#1');
      expect(html).not.toContain('<img');
    });
  });
});

describe('actions behind a TLS-terminating proxy', () => {
  // The proxy speaks http to the dashboard and passes the Host through; the browser's Origin says https.
  test('an Origin naming this Host by https is same-site; another host, by either scheme, is refused', async () => {
    await withMemoryDashboard(async (app) => {
      for (const templateId of ['a@v1', 'b@v1', 'c@v1', 'd@v1']) await app.learnloop.registerTemplate({ templateId, parentTemplateId: '', description: '' });
    }, async (d, mem) => {
      const host = new URL(d.url).host;
      const page = await (await fetch(`${d.url}/templates`, { headers: { authorization: 'Bearer tok' } })).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
      // A browser's form post: the cookie the dashboard set, the page's csrf field, its Origin.
      const formPost = (id: string, origin: string) =>
        fetch(`${d.url}/templates/${id}/retire`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: `learnloop_dashboard=tok`, origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf, actor: 'ops', reason: 'done' }).toString(),
        });
      // A script's: the token in its Authorization header.
      const scriptPost = (id: string, origin: string) =>
        fetch(`${d.url}/templates/${id}/retire`, { method: 'POST', headers: { authorization: 'Bearer tok', origin, accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ actor: 'ops', reason: 'done' }) });
      expect((await formPost('a@v1', `https://${host}`)).status).toBe(303);
      expect((await scriptPost('b@v1', `https://${host}`)).status).toBe(200);
      expect((await formPost('c@v1', `http://${host}`)).status).toBe(303);
      for (const origin of ['https://evil.example', `https://evil.example:${new URL(d.url).port}`, 'http://127.0.0.1:1', `ftp://${host}`, 'null']) {
        const refused = await formPost('d@v1', origin);
        expect(refused.status, origin).toBe(403);
        expect((await scriptPost('d@v1', origin)).status, origin).toBe(403);
      }
      expect((await mem.template('a@v1'))?.status).toBe('retired');
      expect((await mem.template('b@v1'))?.status).toBe('retired');
      expect((await mem.template('d@v1'))?.status).toBe('active');
    });
  });
});

describe('free text holding bidirectional formatting characters', () => {
  // U+202E in a failure reason shows "live" for "evil" and reorders the rest of its cell; a terminal gets
  // the escape (printable()), and so does the page, each value isolated so what it holds stays inside it.
  test('pages show each as its escape, isolated in <bdi>, and escape the text once', async () => {
    const tricky = 'tests <failed> \u202eevil\u202c & \u2067x\u2069\u200e\u200f\u061c';
    const shown = 'tests &lt;failed&gt; \\u202eevil\\u202c &amp; \\u2067x\\u2069\\u200e\\u200f\\u061c';
    await withMemoryDashboard(async (app) => {
      await app.learnloop.registerTemplate({ templateId: 'a@v1', parentTemplateId: '', description: tricky });
      for (let i = 0; i < 20; i++) {
        await app.learnloop.observe({ runId: `r${i}`, decisionId: '', templateId: 'a@v1', taskClass: 'bug-fix', repo: '', taskId: `t${i}`, attempt: 1, outcome: 'fail', retries: 0, durationSeconds: 1, failureReason: tricky, finishedAtMs: AS_OF - 1000 * (i + 1), agent: '', model: '' });
      }
      // Twenty failures open a refinement item; rejecting it records the reason.
      await app.refinements.scan(AS_OF, RULES);
      const [item] = await app.refinements.list('open');
      await app.refinements.reject({ refinementId: item!.refinementId, actor: 'ops', reason: tricky });
    }, async (d) => {
      const page = async (path: string) => (await fetch(`${d.url}${path}`, { headers: { authorization: 'Bearer tok' } })).text();
      expect(await page('/refinements')).toContain(`by <bdi>ops</bdi> on ${fmt.date(AS_OF)}: <bdi>${shown}</bdi>`);
      const failures = await page('/failures');
      expect(failures).toMatch(new RegExp(`<code><bdi>[^<]*${shown.replace(/[\\&;]/g, '\\$&')}</bdi></code>`));
      expect(await page('/templates')).toContain(`<span class="why"><bdi>${shown}</bdi></span>`);
      expect(await page(`/?done=${encodeURIComponent(tricky)}`)).toContain(`role="status">${shown}</p>`);
      for (const html of [failures, await page('/refinements'), await page('/templates'), await page(`/?done=${encodeURIComponent(tricky)}`)]) {
        expect(html).not.toMatch(new RegExp(`[${BIDI_FORMATTING}]`));
        expect(html).not.toContain('&amp;lt;');
      }
      // The JSON is data for programs: the text as it was sent.
      const json = (await (await fetch(`${d.url}/api/v1/failures`, { headers: { authorization: 'Bearer tok' } })).json()) as { patterns: Array<{ signature: string }> };
      expect(json.patterns[0]!.signature).toContain('\u202eevil\u202c');
    });
  });

  test('the lineage isolates the refinement a version came from, as every other id', async () => {
    // Right-to-left letters are allowed in an id; outside an isolate they reorder the words beside them.
    const id = '\u05e9\u05dc\u05d5\u05dd@v1';
    await withMemoryDashboard(async (app) => {
      await app.learnloop.registerTemplate({ templateId: id, parentTemplateId: '', description: '' });
      for (let i = 0; i < 20; i++) {
        await app.learnloop.observe({ runId: `r${i}`, decisionId: '', templateId: id, taskClass: 'bug-fix', repo: '', taskId: `t${i}`, attempt: 1, outcome: 'fail', retries: 0, durationSeconds: 1, failureReason: 'boom', finishedAtMs: AS_OF - 1000 * (i + 1), agent: '', model: '' });
      }
      await app.refinements.scan(AS_OF, RULES);
      const [item] = await app.refinements.list('open');
      await app.refinements.accept({ refinementId: item!.refinementId, actor: 'ops', reason: 'rewritten', newTemplateId: 'next@v2', description: '' });
    }, async (d) => {
      const page = await (await fetch(`${d.url}/templates`, { headers: { authorization: 'Bearer tok' } })).text();
      const refinement = `<code class="id" dir="auto">${id}#1</code>`;
      expect(page).toContain(`<span class="sub">from ${refinement}</span>`);
      expect(page).toContain(`${refinement}, accepted by <bdi>ops</bdi>`);
    });
  });
});

describe('the accept form\'s suggested new version', () => {
  // athena's templates carry no version ("custom", "bug-fix"): the form suggested the item's own id,
  // which accepting refuses, and after a first refinement it suggested the version that already exists.
  test('is the next version no one registered yet', async () => {
    await withMemoryDashboard(async (app) => {
      await app.learnloop.registerTemplate({ templateId: 'feature@v2', parentTemplateId: '', description: '' });
      for (const templateId of ['custom', 'feature@v1']) {
        for (let i = 0; i < 20; i++) {
          await app.learnloop.observe({ runId: `${templateId}-${i}`, decisionId: '', templateId, taskClass: 'feature', repo: '', taskId: `${templateId}-${i}`, attempt: 1, outcome: 'fail', retries: 0, durationSeconds: 1, failureReason: 'boom', finishedAtMs: AS_OF - 1000 * (i + 1), agent: '', model: '' });
        }
      }
      await app.refinements.scan(AS_OF, RULES);
    }, async (d) => {
      const page = await (await fetch(`${d.url}/refinements`, { headers: { authorization: 'Bearer tok' } })).text();
      const suggested = [...page.matchAll(/name="new_template_id" required placeholder="([^"]*)"/g)].map((m) => m[1]);
      expect(suggested.sort()).toEqual(['custom@v2', 'feature@v3']);
    });
  });
});

describe('a dashboard whose store fails', () => {
  test('answers 500 "internal error", not the store\'s message (it names paths)', async () => {
    const failing = () => Promise.reject(new Error('EIO: i/o error, read /var/lib/learnloop/data/data.mdb'));
    const source = { policy: DEFAULT_POLICY_CONFIG, head: failing, eventPage: failing, templates: failing, refinements: failing, segment: failing };
    const d = await startDashboard({ source, rules: RULES, host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF, warm: false });
    try {
      for (const [path, accept] of [['/api/v1/overview', 'application/json'], ['/failures', 'text/html']] as const) {
        const res = await fetch(`${d.url}${path}`, { headers: { accept } });
        expect(res.status, path).toBe(500);
        const body = await res.text();
        expect(body, path).toContain('internal error');
        expect(body, path).not.toMatch(/data\.mdb|EIO|\/var\//);
      }
    } finally {
      await d.close();
    }
  });
});

describe('the scoreboard where the window\'s first third has no runs', () => {
  test('/api/v1/overview gives each change as no data, as its start rate: 0 over −1 to 1, not credible, not the end rate', async () => {
    const store = await LmdbStore.open(tmpDir(), { policy: DEFAULT_POLICY_CONFIG, noSync: true });
    const app = compose(store, { limits: DEFAULT_LIMITS }, () => AS_OF);
    // The overview's scoreboard covers the 70 days to AS_OF; these runs are all in its last 30.
    const from = AS_OF - 30 * 86_400_000;
    for (let i = 0; i < 30; i++) {
      const pass = i % 3 !== 0;
      await app.learnloop.observe({
        runId: `late-${i}`,
        decisionId: '',
        templateId: 'bug-fix@v1',
        taskClass: 'bug-fix',
        repo: 'org/api',
        taskId: `late-task-${i >> 1}`,
        attempt: 1 + (i & 1),
        outcome: pass ? 'pass' : 'fail',
        retries: 0,
        durationSeconds: 60,
        failureReason: pass ? '' : 'npm test failed: 3 failing tests',
        finishedAtMs: from + i * 86_400_000,
        agent: '',
        model: '',
      });
    }
    const { source } = learnLoopSource(app);
    const late = await startDashboard({ source, rules: RULES, host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF });
    try {
      const body = (await (await fetch(`${late.url}/api/v1/overview`)).json()) as { scoreboard: { metrics: Array<{ metric: string; start: { n: number }; end: { n: number }; change: object }> } };
      for (const m of body.scoreboard.metrics) {
        expect([m.start.n, m.end.n > 0], m.metric).toEqual([0, true]);
        expect(m.change, m.metric).toMatchObject({ estimate: 0, low: -1, high: 1, credible: false });
      }
    } finally {
      await late.close();
      await store.close();
    }
  });
});

describe('the lineage effect of a version a refinement made', () => {
  test('is the 95% interval scores gives, not the scoreboard\'s simultaneous one', async () => {
    const store = await LmdbStore.open(tmpDir(), { policy: DEFAULT_POLICY_CONFIG, noSync: true });
    let clock = AS_OF - 40 * 86_400_000;
    const app = compose(store, { limits: DEFAULT_LIMITS }, () => clock);
    // Each run is reported as it finishes.
    const run = (i: number, templateId: string, pass: boolean, finishedAtMs: number) =>
      (clock = finishedAtMs) && app.learnloop.observe({ runId: `${templateId}-${i}`, decisionId: '', templateId, taskClass: 'bug-fix', repo: 'org/api', taskId: `${templateId}-task-${i}`, attempt: 1, outcome: pass ? 'pass' : 'fail', retries: 0, durationSeconds: 60, failureReason: pass ? '' : 'npm test failed', finishedAtMs, agent: '', model: '' });
    await app.learnloop.registerTemplate({ templateId: 'bug-fix@v1', parentTemplateId: '', status: 'active', description: '' });
    const start = clock;
    for (let i = 0; i < 30; i++) await run(i, 'bug-fix@v1', i % 3 === 0, start + i * 12 * 3_600_000);
    clock = AS_OF - 20 * 86_400_000;
    const { opened } = await app.refinements.scan(clock, RULES);
    expect(opened.map((r) => r.templateId)).toEqual(['bug-fix@v1']);
    await app.refinements.accept({ refinementId: opened[0]!.refinementId, actor: 'maria', reason: 'verify before done', newTemplateId: 'bug-fix@v2', description: '' });
    const decided = clock;
    for (let i = 0; i < 30; i++) await run(i, 'bug-fix@v2', i % 10 !== 0, decided + (i + 1) * 12 * 3_600_000);
    clock = AS_OF;
    const { source } = learnLoopSource(app);
    const d = await startDashboard({ source, rules: RULES, host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF });
    try {
      const m = await d.model();
      const effect = m.lineage.find((n) => n.templateId === 'bug-fix@v2')!.effect!;
      const scores = (await app.learnloop.scores('', '')).find((c) => c.templateId === 'bug-fix@v2')!.vsParent!.change;
      expect([effect.estimate, effect.ciLow, effect.ciHigh]).toEqual([scores.estimate, scores.low, scores.high]);
      expect(scores.level).toBe(0.95);
      const board = m.overview.scoreboard.refinements[0]!.effects.find((e) => e.metric === 'pass_rate')!.change;
      expect(board.estimate).toBe(effect.estimate);
      expect(board.low).toBeLessThan(effect.ciLow);
    } finally {
      await d.close();
      await store.close();
    }
  });
});

describe('running the dashboard', () => {
  test('serve --http-port serves it beside gRPC, with /metrics, behind the same token', async () => {
    const httpPort = await freePort();
    const config = loadConfig({}, { db: join(tmpDir(), 'db'), port: '0', 'http-port': String(httpPort), token: 'tok', 'log-level': 'silent' });
    const server = await startServer(config, pino({ level: 'silent' }), { rules: RULES });
    try {
      expect(server.httpPort).toBe(httpPort);
      const base = `http://127.0.0.1:${httpPort}`;
      expect((await fetch(`${base}/api/v1/overview`)).status).toBe(401);
      const ok = await fetch(`${base}/api/v1/overview`, { headers: { authorization: 'Bearer tok' } });
      expect(ok.status).toBe(200);
      const metrics = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer tok' } });
      expect(await metrics.text()).toMatch(/learnloop_event_log_events/);
    } finally {
      await server.shutdown();
    }
  });

  test('learnloop dashboard --db serves a folder without a server', async () => {
    // The fixture folder is open in this process; LMDB lets a second process read and write it.
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'bin', 'learnloop.js'), 'dashboard', '--db', dbPath, '--http-port', '0', '--as-of', '2026-03-01'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`dashboard exited (${code}): ${out}`)));
      });
      const res = await fetch(`${url}/api/v1/overview`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { totals: { runs: number } };
      expect(body.totals.runs).toBe(scoresReport(data.rows, AS_OF).overall.runs);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('the lineage shows what a template is for', () => {
  test('a template registered for task classes says so on the page and in JSON; one for every class says nothing', async () => {
    await withMemoryDashboard(async (app) => {
      await app.learnloop.registerTemplate({ templateId: 'fix@v1', parentTemplateId: '', description: '', taskClasses: ['bug-fix', 'hot-fix'] });
      await app.learnloop.registerTemplate({ templateId: 'any@v1', parentTemplateId: '', description: '' });
    }, async (d) => {
      const auth = { authorization: 'Bearer tok' };
      const body = (await (await fetch(`${d.url}/api/v1/templates`, { headers: auth })).json()) as { templates: Array<{ templateId: string; taskClasses: string[] }> };
      expect(body.templates.map((t) => [t.templateId, t.taskClasses])).toEqual([
        ['any@v1', []],
        ['fix@v1', ['bug-fix', 'hot-fix']],
      ]);
      const page = await (await fetch(`${d.url}/templates`, { headers: auth })).text();
      expect(page).toContain('for <code class="id" dir="auto">bug-fix</code>, <code class="id" dir="auto">hot-fix</code>');
      expect(page.match(/<span class="why">for /g)).toHaveLength(1);
    });
  });
});
