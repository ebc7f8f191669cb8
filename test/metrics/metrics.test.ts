import { createServer } from 'node:net';
import { describe, expect, test, vi } from 'vitest';
import { Outcome, TemplateStatus } from '../../src/index.js';
import { createMetrics, OTHER_TEMPLATES, TEMPLATE_SERIES_LIMIT } from '../../src/server/metrics.js';
import { startTestServer } from '../helpers/server.js';

/** A port that was free a moment ago (metrics-port 0 means "off", so the test picks one). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Every sample of one family with its labels. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  return text.split('\n').flatMap((line) => {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    return m === null || m[1] !== name ? [] : [{ labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!])), value: Number(m[3]) }];
  });
}

/** The value of one sample line, e.g. `name{a="b"} 3` (the first whose labels include `labels`), or undefined when absent. */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number | undefined =>
  samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('Prometheus metrics', () => {
  test('scrape shows calls, latency, outcomes, decisions, log size and observation age', async () => {
    const metricsPort = await freePort();
    const { client, server } = await startTestServer({ 'metrics-port': String(metricsPort) });
    expect(server.metricsPort).toBe(metricsPort);
    const finishedAtMs = Date.now() - 120_000;
    const finishedAt = new Date(finishedAtMs);
    for (let i = 0; i < 3; i++) {
      await client.observe({ runId: `p${i}`, templateId: 'a@v1', outcome: Outcome.OUTCOME_PASS, finishedAt });
    }
    await client.observe({ runId: 'f0', templateId: 'a@v1', outcome: Outcome.OUTCOME_FAIL, finishedAt });
    await client.observe({ runId: 'p0', templateId: 'a@v1', outcome: Outcome.OUTCOME_PASS, finishedAt });
    const rec = await client.recommend({ candidateTemplateIds: ['a@v1'] });
    await expect(client.observe({ runId: '' })).rejects.toMatchObject({ code: 3 });

    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(sample(text, 'learnloop_rpc_calls_total', { rpc: 'Observe', code: 'OK' })).toBe(5);
    expect(sample(text, 'learnloop_rpc_calls_total', { rpc: 'Observe', code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(sample(text, 'learnloop_rpc_calls_total', { rpc: 'Recommend', code: 'OK' })).toBe(1);
    expect(sample(text, 'learnloop_rpc_duration_seconds_count', { rpc: 'Observe', code: 'OK' })).toBe(5);
    expect(sample(text, 'learnloop_rpc_duration_seconds_bucket', { rpc: 'Observe', code: 'OK', le: '+Inf' })).toBe(5);
    expect(sample(text, 'learnloop_observations_total', { outcome: 'pass', result: 'applied' })).toBe(3);
    expect(sample(text, 'learnloop_observations_total', { outcome: 'pass', result: 'duplicate' })).toBe(1);
    expect(sample(text, 'learnloop_observations_total', { outcome: 'fail', result: 'applied' })).toBe(1);
    expect(sample(text, 'learnloop_decisions_total', { template: rec.chosenTemplateId })).toBe(1);
    // 1 implicit template registration + 4 observations + 1 decision.
    expect(sample(text, 'learnloop_event_log_events')).toBe(await server.store.head());
    expect(sample(text, 'learnloop_event_log_events')).toBe(6);
    const age = sample(text, 'learnloop_newest_observation_age_seconds', { template: 'a@v1' })!;
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(120 + 60);
    expect(sample(text, 'learnloop_process_resident_memory_bytes')).toBeGreaterThan(0);

    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
  });

  test(`per-template series stop at ${TEMPLATE_SERIES_LIMIT}: the rest share template="${OTHER_TEMPLATES}", retired templates have no age`, async () => {
    const metricsPort = await freePort();
    const { client } = await startTestServer({ 'metrics-port': String(metricsPort) });
    const extra = 30;
    const ids = Array.from({ length: TEMPLATE_SERIES_LIMIT + extra }, (_, i) => `t${String(i).padStart(3, '0')}@v1`);
    const now = Date.now();
    // Template i's run finished i minutes ago; the first ten have a second run, so they are the busiest.
    for (const [i, templateId] of ids.entries()) {
      await client.observe({ runId: `r${i}`, templateId, outcome: Outcome.OUTCOME_PASS, finishedAt: new Date(now - (i + 1) * 60_000) });
      if (i < 10) await client.observe({ runId: `s${i}`, templateId, outcome: Outcome.OUTCOME_PASS, finishedAt: new Date(now - (i + 1) * 60_000) });
      await client.recommend({ candidateTemplateIds: [templateId] });
    }
    // A retired template's runs are history: its age is no one's alarm.
    await client.registerTemplate({ templateId: 'old@v1', status: TemplateStatus.TEMPLATE_STATUS_RETIRED });
    await client.observe({ runId: 'old', templateId: 'old@v1', outcome: Outcome.OUTCOME_PASS, finishedAt: new Date(now) });

    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const decisions = samples(text, 'learnloop_decisions_total');
    expect(decisions).toHaveLength(TEMPLATE_SERIES_LIMIT + 1);
    expect(decisions.reduce((sum, d) => sum + d.value, 0)).toBe(ids.length);
    // The first chosen keep their series; the rest are counted together.
    expect(sample(text, 'learnloop_decisions_total', { template: ids[0]! })).toBe(1);
    expect(sample(text, 'learnloop_decisions_total', { template: ids.at(-1)! })).toBeUndefined();
    expect(sample(text, 'learnloop_decisions_total', { template: OTHER_TEMPLATES })).toBe(extra);

    const ages = samples(text, 'learnloop_newest_observation_age_seconds');
    expect(ages).toHaveLength(TEMPLATE_SERIES_LIMIT + 1);
    expect(ages.map((a) => a.labels.template)).not.toContain('old@v1');
    // The busiest keep theirs; the rest's series is the newest of their runs: template TEMPLATE_SERIES_LIMIT's.
    expect(sample(text, 'learnloop_newest_observation_age_seconds', { template: ids[9]! })).toBeGreaterThanOrEqual(600);
    const other = sample(text, 'learnloop_newest_observation_age_seconds', { template: OTHER_TEMPLATES })!;
    expect(other).toBeGreaterThanOrEqual((TEMPLATE_SERIES_LIMIT + 1) * 60);
    expect(other).toBeLessThan((TEMPLATE_SERIES_LIMIT + 2) * 60);
  });

  test('a scrape reads the store as many times with 63 templates as with 3, not once per template', async () => {
    const metricsPort = await freePort();
    const { client, server } = await startTestServer({ 'metrics-port': String(metricsPort) });
    // Every method of the store counts as a read; the server holds this same object.
    const proto = Object.getPrototypeOf(server.store) as object;
    const spies = Object.getOwnPropertyNames(proto)
      .filter((name) => name !== 'constructor' && typeof (server.store as unknown as Record<string, unknown>)[name] === 'function')
      .map((name) => vi.spyOn(server.store as unknown as Record<string, () => unknown>, name));
    /** Calls per store method during one scrape (methods not called left out). */
    const readsPerScrape = async (): Promise<Record<string, number>> => {
      for (const s of spies) s.mockClear();
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(sample(text, 'learnloop_newest_observation_age_seconds', { template: 't0@v1' })).toBeGreaterThanOrEqual(0);
      return Object.fromEntries(spies.filter((s) => s.mock.calls.length > 0).map((s) => [s.getMockName(), s.mock.calls.length]));
    };
    const observe = (i: number) => client.observe({ runId: `r${i}`, templateId: `t${i}@v1`, outcome: Outcome.OUTCOME_PASS, finishedAt: new Date() });
    for (let i = 0; i < 3; i++) await observe(i);
    const few = await readsPerScrape();
    for (let i = 3; i < 63; i++) await observe(i);
    expect(samples(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), 'learnloop_newest_observation_age_seconds')).toHaveLength(63);
    expect(await readsPerScrape()).toEqual(few);
    // The template list and the whole-log stats, once each; no stats record read one template at a time.
    expect(few).toMatchObject({ templates: 1, statsForSegment: 1 });
    expect(few.stats).toBeUndefined();
  });

  test('without --metrics-port nothing listens', async () => {
    const { server } = await startTestServer();
    expect(server.metricsPort).toBeUndefined();
  });

  test('a store that cannot be read leaves its gauges NaN or without samples, and the scrape answers with the rest', async () => {
    let down = true;
    const read = async <T>(value: T) => {
      if (down) throw new Error('database unavailable: connect ECONNREFUSED');
      return value;
    };
    let serving = false;
    const { metrics, registry } = createMetrics({
      eventLogSize: () => read(7),
      newestObservations: () => read([{ templateId: 'a@v1', runs: 3, finishedAtMs: 0 }]),
      serving: () => serving,
      now: () => 10_000,
    });
    metrics.call('Observe', 14, 0.01);
    const during = await registry.metrics();
    expect(sample(during, 'learnloop_rpc_calls_total', { rpc: 'Observe', code: 'UNAVAILABLE' })).toBe(1);
    expect(sample(during, 'learnloop_serving')).toBe(0);
    expect(sample(during, 'learnloop_event_log_events')).toBeNaN();
    expect(samples(during, 'learnloop_newest_observation_age_seconds')).toEqual([]);
    down = false;
    serving = true;
    const after = await registry.metrics();
    expect(sample(after, 'learnloop_serving')).toBe(1);
    expect(sample(after, 'learnloop_event_log_events')).toBe(7);
    expect(sample(after, 'learnloop_newest_observation_age_seconds', { template: 'a@v1' })).toBe(10);
  });
});
