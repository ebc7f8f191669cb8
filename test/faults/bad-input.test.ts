import { fc } from '@fast-check/vitest';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { validateObserveRequest, validateRecommendRequest, validateTemplateRegistration } from '../../src/bandit/index.js';
import { loadConfig } from '../../src/config.js';
import { ObserveRequest, RecommendRequest, RegisterTemplateRequest } from '../../src/gen/learnloop/v1/learnloop.js';
import { Outcome, TemplateStatus } from '../../src/index.js';
import { observeFromProto, recommendFromProto, statusFromProto } from '../../src/server/mapping.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const LIMITS = loadConfig({}, { db: 'unused' }).limits;
const SERVICE = '/learnloop.v1.LearnLoopService';
const identity = (b: Buffer) => b;
const RUNS = { numRuns: 150, seed: 20261125 };

/** Sends raw bytes as the body of a unary call; resolves with the status code. */
function rawCall(client: Client, method: string, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(`${SERVICE}/${method}`, identity, identity, body, new Metadata(), { deadline: Date.now() + 5000 }, (err: ServiceError | null) =>
      resolve(err === null ? status.OK : err.code),
    );
  });
}

/** The status code of a typed call (OK when it succeeds). */
async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return status.OK;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

/**
 * True when `body` decodes into a request the service would act on (a valid write): such bodies
 * are legitimately accepted, so the properties below skip them.
 */
function wouldAct(method: string, body: Buffer): boolean {
  try {
    if (method === 'Observe') {
      const p = observeFromProto(ObserveRequest.decode(body));
      return validateObserveRequest(p, LIMITS).length === 0 && p.decisionId === '';
    }
    if (method === 'Recommend') return validateRecommendRequest(recommendFromProto(RecommendRequest.decode(body)), LIMITS).length === 0;
    const r = RegisterTemplateRequest.decode(body);
    const s = statusFromProto(r.status);
    return s !== null && validateTemplateRegistration(r, LIMITS).length === 0;
  } catch {
    return false;
  }
}

/** Everything the server has stored, to show a property run changed nothing. */
async function state(ts: TestServer) {
  return { head: await ts.server.store.head(), derived: await ts.server.store.derivedSnapshot() };
}

/** Afterwards the server still does real work. */
async function stillServes(ts: TestServer): Promise<void> {
  const res = await ts.client.observe({ runId: 'after', templateId: 'ok@v1', outcome: Outcome.OUTCOME_PASS });
  expect(res.applied).toBe(true);
}

const hugeString = fc.integer({ min: 257, max: 200_000 }).map((n) => 'x'.repeat(n));
const controlString = fc.tuple(fc.string({ maxLength: 10 }), fc.integer({ min: 0, max: 31 })).map(([s, c]) => `${s}${String.fromCharCode(c)}`);
const badId = fc.oneof(hugeString, controlString);
const nonFinite = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, -1e-9);
const unknownOutcome = fc.oneof(fc.constant(0), fc.integer({ min: 7, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 }));

/** An Observe request with one to all of its fields poisoned; the rest random but well-formed. */
const badObserve = fc
  .record(
    {
      runId: fc.oneof(fc.constant(''), badId),
      decisionId: fc.oneof(badId, fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s))),
      templateId: badId,
      taskClass: badId,
      repo: badId,
      outcome: unknownOutcome,
      durationSeconds: nonFinite,
      failureReason: fc.integer({ min: 8193, max: 300_000 }).map((n) => 'f'.repeat(n)),
      attempt: fc.integer({ min: 1_000_001, max: 2 ** 32 - 1 }),
      retries: fc.integer({ min: 1_000_001, max: 2 ** 32 - 1 }),
      agent: badId,
    },
    { requiredKeys: [] },
  )
  .filter((r) => Object.keys(r).length > 0)
  .map((poison) => ({ runId: 'r-1', templateId: 't@v1', outcome: Outcome.OUTCOME_PASS, durationSeconds: 3, ...poison }));

const badRecommend = fc.oneof(
  fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 20 }).map((ids) => ({ candidateTemplateIds: [...ids, ids[0]!] })),
  fc.array(badId, { minLength: 1, maxLength: 5 }).map((ids) => ({ candidateTemplateIds: ['ok', ...ids] })),
  fc.integer({ min: LIMITS.maxCandidates + 1, max: LIMITS.maxCandidates + 500 }).map((n) => ({ candidateTemplateIds: Array.from({ length: n }, (_, i) => `t${i}`) })),
  fc.record({ taskClass: badId }).map((r) => ({ ...r, candidateTemplateIds: ['a'] })),
  fc.record({ repo: badId }).map((r) => ({ ...r, candidateTemplateIds: ['a'] })),
  fc.record({ requestId: badId }).map((r) => ({ ...r, candidateTemplateIds: ['a'] })),
  fc.integer({ min: LIMITS.maxCandidates + 1, max: 2 ** 32 - 1 }).map((topK) => ({ topK, candidateTemplateIds: ['a'] })),
);

const badRegister = fc.oneof(
  fc.record({ templateId: fc.oneof(fc.constant(''), badId) }),
  fc.integer({ min: 4, max: 2 ** 31 - 1 }).map((s) => ({ templateId: 'x@v1', status: s as TemplateStatus })),
  fc.record({ templateId: fc.constant('x@v1'), parentTemplateId: badId }),
);

describe('bad input against a running server', () => {
  test('random bytes as a message body: INVALID_ARGUMENT or NOT_FOUND, state unchanged', async () => {
    const ts = await startTestServer();
    const raw = new Client(ts.addr, credentials.createInsecure());
    const before = await state(ts);
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('Observe', 'Recommend', 'RegisterTemplate'), fc.uint8Array({ maxLength: 600 }), async (method, bytes) => {
          const body = Buffer.from(bytes);
          fc.pre(!wouldAct(method, body));
          expect([status.INVALID_ARGUMENT, status.NOT_FOUND]).toContain(await rawCall(raw, method, body));
        }),
        RUNS,
      );
      // Bytes that are not protobuf at all (a truncated length-delimited field) are INVALID_ARGUMENT too.
      expect(await rawCall(raw, 'Observe', Buffer.from([0x0a, 0xff, 0x01]))).toBe(status.INVALID_ARGUMENT);
      // Wrong types on the wire: run_id (field 1, a string) sent as a varint, outcome (field 8, an
      // enum) sent as a string, template_id (field 3) as a fixed64.
      const wrongTypes = Buffer.concat([
        Buffer.from([0x08, 0x2a]),
        Buffer.from([0x42, 0x04]), Buffer.from('PASS'),
        Buffer.from([0x19, 1, 2, 3, 4, 5, 6, 7, 8]),
      ]);
      expect(wouldAct('Observe', wrongTypes)).toBe(false);
      expect(await rawCall(raw, 'Observe', wrongTypes)).toBe(status.INVALID_ARGUMENT);
      expect(await state(ts)).toEqual(before);
    } finally {
      raw.close();
    }
    await stillServes(ts);
  });

  test('malformed Observe (huge strings, NaN/Infinity, unknown enums, out-of-range numbers)', async () => {
    const ts = await startTestServer();
    const before = await state(ts);
    await fc.assert(
      fc.asyncProperty(badObserve, async (req) => {
        expect([status.INVALID_ARGUMENT, status.NOT_FOUND]).toContain(await code(ts.client.observe(req)));
      }),
      RUNS,
    );
    expect(await state(ts)).toEqual(before);
    await stillServes(ts);
  });

  test('malformed Recommend and RegisterTemplate are INVALID_ARGUMENT', async () => {
    const ts = await startTestServer();
    const before = await state(ts);
    await fc.assert(
      fc.asyncProperty(badRecommend, async (req) => {
        expect(await code(ts.client.recommend(req))).toBe(status.INVALID_ARGUMENT);
      }),
      RUNS,
    );
    await fc.assert(
      fc.asyncProperty(badRegister, async (req) => {
        expect(await code(ts.client.registerTemplate(req))).toBe(status.INVALID_ARGUMENT);
      }),
      RUNS,
    );
    expect(await state(ts)).toEqual(before);
    await stillServes(ts);
  });
});
