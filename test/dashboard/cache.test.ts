/**
 * The dashboard's cache: one build per log head, and while a newer build runs the last one answers,
 * marked stale, instead of making the request wait.
 */
import { afterEach, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { startDashboard, type DashboardServer } from '../../src/dashboard/server.js';
import type { DashboardSource } from '../../src/dashboard/source.js';
import { loadRules } from '../../src/cli/commands/analytics.js';

const AS_OF = Date.parse('2026-03-01T00:00:00Z');
let dash: DashboardServer | undefined;
afterEach(async () => {
  await dash?.close();
  dash = undefined;
});

/** An empty log whose head the test moves, and whose reads wait for the test to let them through. */
function gatedSource() {
  const s = { head: 1, builds: 0, release: () => {}, gate: Promise.resolve() };
  const source: DashboardSource = {
    policy: DEFAULT_POLICY_CONFIG,
    head: async () => s.head,
    async eventPage() {
      s.builds++;
      await s.gate;
      return [];
    },
    templates: async () => [],
    refinements: async () => [],
    segment: async () => [],
  };
  const hold = () => {
    s.gate = new Promise<void>((resolve) => (s.release = resolve));
  };
  return { s, source, hold };
}

const get = async (path: string) => {
  const res = await fetch(`${dash!.url}${path}`);
  return { stale: res.headers.get('x-learnloop-stale'), text: await res.text() };
};

test('one build per log head; while a newer one runs the last answers, marked stale, and the next request gets the new one', async () => {
  const { s, source, hold } = gatedSource();
  dash = await startDashboard({ source, rules: loadRules(), host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF });
  const first = await get('/api/v1/overview');
  expect(first.stale).toBe('false');
  expect(JSON.parse(first.text).head).toBe(1);
  await get('/api/v1/lift');
  await get('/');
  expect(s.builds).toBe(1);

  s.head = 2;
  hold();
  const during = await get('/api/v1/overview');
  expect(during.stale).toBe('true');
  expect(JSON.parse(during.text).head).toBe(1);
  const page = await get('/');
  expect(page.stale).toBe('true');
  expect(page.text).toContain('data-stale="true"');
  expect(page.text).toContain('log head 1');
  // One build at a time.
  expect(s.builds).toBe(2);

  s.release();
  await expect.poll(async () => (await get('/api/v1/overview')).stale).toBe('false');
  expect(JSON.parse((await get('/api/v1/overview')).text).head).toBe(2);
  expect((await get('/')).text).not.toContain('data-stale');
  expect(s.builds).toBe(2);
});

test('the first build starts when the server listens, and a request with nothing cached waits for it', async () => {
  const { s, source, hold } = gatedSource();
  hold();
  dash = await startDashboard({ source, rules: loadRules(), host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF });
  await expect.poll(() => s.builds).toBe(1);
  let answered = false;
  const pending = get('/api/v1/lift').then((r) => ((answered = true), r));
  await new Promise((r) => setTimeout(r, 50));
  expect(answered).toBe(false);
  s.release();
  const r = await pending;
  expect(r.stale).toBe('false');
  expect(JSON.parse(r.text)).toMatchObject({ head: 1, available: false, decisions: 0 });
  expect(s.builds).toBe(1);
});

test('warm: false builds on the first request only', async () => {
  const { s, source } = gatedSource();
  dash = await startDashboard({ source, rules: loadRules(), host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF, warm: false });
  await new Promise((r) => setTimeout(r, 50));
  expect(s.builds).toBe(0);
  await get('/api/v1/overview');
  expect(s.builds).toBe(1);
});

test('a request with nothing cached waits up to buildingAfterMs, then is told how far the first build has read: JSON 503 with Retry-After, a page that reloads itself', async () => {
  const { s, source, hold } = gatedSource();
  s.head = 1200;
  hold();
  dash = await startDashboard({ source, rules: loadRules(), host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF, buildingAfterMs: 20 });
  const json = await fetch(`${dash.url}/api/v1/overview`);
  expect(json.status).toBe(503);
  expect(json.headers.get('retry-after')).toBe('2');
  expect(await json.json()).toEqual({ building: true, eventsRead: 0, events: 1200, message: 'building: 0 of 1,200 events read' });
  const page = await fetch(`${dash.url}/matrix`);
  expect(page.status).toBe(200);
  expect(page.headers.get('refresh')).toBe('2');
  const html = await page.text();
  expect(html).toContain('building: 0 of 1,200 events read');
  expect(html).toContain('<meta http-equiv="refresh" content="2">');
  // One build, however many requests were told to come back.
  expect(s.builds).toBe(1);
  s.release();
  await expect.poll(async () => (await fetch(`${dash!.url}/api/v1/overview`)).status).toBe(200);
  expect(JSON.parse((await get('/api/v1/overview')).text).head).toBe(1200);
  expect(s.builds).toBe(1);
});

test('until the source is ready (a server preparing its store) every request is answered 503 "server is starting", reading nothing; then the first build runs', async () => {
  const { s, source } = gatedSource();
  let ready = () => {};
  const reads = { head: 0 };
  const counted: DashboardSource = { ...source, head: async () => (reads.head++, s.head) };
  dash = await startDashboard({ source: counted, rules: loadRules(), host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF, ready: new Promise<void>((r) => (ready = r)) });
  for (const path of ['/api/v1/overview', '/matrix', '/metrics']) {
    const res = await fetch(`${dash.url}${path}`);
    expect(res.status, path).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.text()).toContain('server is starting');
  }
  const form = await fetch(`${dash.url}/templates/x@v1/retire`, { method: 'POST', headers: { accept: 'application/json' } });
  expect(form.status).toBe(503);
  expect((await fetch(`${dash.url}/assets/dashboard.css`)).status).toBe(200);
  expect(reads.head).toBe(0);
  expect(s.builds).toBe(0);
  ready();
  await expect.poll(() => s.builds).toBe(1);
  const res = await fetch(`${dash.url}/api/v1/overview`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { head: number }).head).toBe(1);
});
