import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { credentials, loadPackageDefinition, status, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { open } from 'lmdb';
import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { Outcome } from '../../src/index.js';
import { LmdbStore } from '../../src/store/index.js';
import { statsKey } from '../../src/store/keys.js';
import { startTestServer } from '../helpers/server.js';
import { observationEvents } from '../helpers/events.js';

const require = createRequire(import.meta.url);
const healthProto = join(dirname(require.resolve('grpc-health-check/package.json')), 'proto', 'health', 'v1', 'health.proto');
const reflectionProto = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

// A client made from a .proto at run time has no static method types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Method = (...args: any[]) => any;
type DynamicClient = { close(): void; check: Method; watch: Method; ServerReflectionInfo: Method };

function clientFor(protoPath: string, service: string, addr: string): DynamicClient {
  const pkg = loadPackageDefinition(protoLoader.loadSync(protoPath, { keepCase: true, enums: String }));
  const Ctor = service.split('.').reduce<GrpcObject | ServiceClientConstructor>((o, k) => (o as GrpcObject)[k] as GrpcObject, pkg) as ServiceClientConstructor;
  return new Ctor(addr, credentials.createInsecure()) as unknown as DynamicClient;
}

describe('operations', () => {
  test('health is SERVING while up and NOT_SERVING while draining', async () => {
    const { server, addr } = await startTestServer();
    const health = clientFor(healthProto, 'grpc.health.v1.Health', addr);
    const check = (service: string) =>
      new Promise<{ status: string }>((resolve, reject) =>
        health.check({ service }, (err: ServiceError | null, res: { status: string }) => (err ? reject(err) : resolve(res))),
      );
    expect((await check('')).status).toBe('SERVING');
    expect((await check('learnloop.v1.LearnLoopService')).status).toBe('SERVING');
    // Watch sees the switch to NOT_SERVING when shutdown begins.
    const seen: string[] = [];
    const watch = health.watch({ service: '' });
    const notServing = new Promise<void>((resolve) =>
      watch.on('data', (m: { status: string }) => {
        seen.push(m.status);
        if (m.status === 'NOT_SERVING') resolve();
      }),
    );
    watch.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 50));
    const stopping = server.shutdown();
    await notServing;
    watch.cancel();
    health.close();
    await stopping;
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
  });

  test('server reflection lists the service', async () => {
    const { addr } = await startTestServer();
    const reflection = clientFor(reflectionProto, 'grpc.reflection.v1.ServerReflection', addr);
    const call = reflection.ServerReflectionInfo();
    const services = await new Promise<string[]>((resolve, reject) => {
      call.on('data', (res: { list_services_response?: { service: Array<{ name: string }> } }) => {
        resolve(res.list_services_response!.service.map((s) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '' });
    });
    reflection.close();
    expect(services).toContain('learnloop.v1.LearnLoopService');
    expect(services).toContain('grpc.health.v1.Health');
  });

  test('in-flight calls finish during a graceful shutdown', async () => {
    const { server, client, dbPath } = await startTestServer();
    const calls = Array.from({ length: 200 }, (_, i) =>
      client.observe({ runId: `r${i}`, templateId: 't', outcome: Outcome.OUTCOME_PASS }),
    );
    await calls[0];
    const stopping = server.shutdown();
    const results = await Promise.allSettled(calls);
    await stopping;
    // Every call either completed or was refused cleanly as UNAVAILABLE; none was cut off mid-write:
    // what was acknowledged is stored, what was refused is not.
    const store = await LmdbStore.open(dbPath, { policy: DEFAULT_POLICY_CONFIG });
    const logged = await observationEvents(store);
    expect(await store.stats(['t', '', ''])).toBeDefined();
    results.forEach((r, i) => {
      if (r.status === 'rejected') expect((r.reason as ServiceError).code).toBe(status.UNAVAILABLE);
      expect(logged.some((e) => e.content.runId === `r${i}`)).toBe(r.status === 'fulfilled');
    });
    await store.close();
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
  });

  test('an unexpected failure is INTERNAL with a generic message and no internals', async () => {
    const { client, dbPath } = await startTestServer();
    await client.observe({ runId: 'r', templateId: 't', outcome: Outcome.OUTCOME_PASS });
    // Another process corrupts a derived record (a schema version this build does not know). A stats
    // record, read on every GetScores; a corrupt template record would show only after the next
    // template event, since the template list is cached until then.
    const raw = open({ path: dbPath });
    await raw.openDB('segments', { keyEncoding: 'binary' }).put(statsKey(['t', '', '']), { v: 99 });
    await raw.close();
    const err = await client.getScores({}).then(
      () => {
        throw new Error('expected INTERNAL');
      },
      (e: ServiceError) => e,
    );
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe('internal error');
    // The server keeps serving.
    expect((await client.recommend({ candidateTemplateIds: ['u'] })).chosenTemplateId).toBe('u');
  });
});
