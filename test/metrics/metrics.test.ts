import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { Outcome } from '../../src/index.js';
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

/** The value of one sample line, e.g. `name{a="b"} 3`, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

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

  test('without --metrics-port nothing listens', async () => {
    const { server } = await startTestServer();
    expect(server.metricsPort).toBeUndefined();
  });
});
