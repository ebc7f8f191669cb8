import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { InvalidArgument } from '../../src/bandit/index.js';
import { DecideRefinementRequest, ObserveRequest, RecommendRequest } from '../../src/gen/learnloop/v1/learnloop.js';
import { BadRequest } from '../../src/gen/google/rpc/error_details.js';
import { Status } from '../../src/gen/google/rpc/status.js';
import { decodeRequest } from '../../src/server/mapping.js';
import { startTestServer } from '../helpers/server.js';

/** Encodes `msg`, then replaces the first byte equal to `marker` (an ASCII letter placed in a string) with `bad`. */
function corrupt(bytes: Uint8Array, marker: string, bad: number): Buffer {
  const b = Buffer.from(bytes);
  const i = b.indexOf(marker.charCodeAt(0));
  expect(i).toBeGreaterThanOrEqual(0);
  b[i] = bad;
  return b;
}

function violation(f: () => unknown): { field: string; description: string } {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgument);
    return (err as InvalidArgument).violations[0]!;
  }
  throw new Error('decoded without complaint');
}

describe('decodeRequest refuses strings that are not UTF-8, naming the field', () => {
  test.each([0xff, 0xfe, 0x80, 0xc0])('byte 0x%s in run_id', (bad) => {
    const body = corrupt(ObserveRequest.encode(ObserveRequest.fromPartial({ runId: 'u-Q', templateId: 't@v1' })).finish(), 'Q', bad);
    expect(violation(() => decodeRequest('Observe', body))).toEqual({ field: 'run_id', description: 'must be valid UTF-8' });
  });

  test('a repeated field is named with its index', () => {
    const body = corrupt(RecommendRequest.encode(RecommendRequest.fromPartial({ candidateTemplateIds: ['a', 'b€', 'cQ'] })).finish(), 'Q', 0xfe);
    expect(violation(() => decodeRequest('Recommend', body)).field).toBe('candidate_template_ids[2]');
  });

  test('a truncated multi-byte sequence in a long (non-ASCII-fast-path) string', () => {
    const reason = `${'€'.repeat(100)}Q`;
    const body = corrupt(DecideRefinementRequest.encode(DecideRefinementRequest.fromPartial({ refinementId: 'r#1', reason })).finish(), 'Q', 0xe2);
    expect(violation(() => decodeRequest('DecideRefinement', body)).field).toBe('reason');
  });

  test('valid multi-byte UTF-8 (a BOM, astral characters, U+FFFD itself) decodes unchanged', () => {
    const runId = '\uFEFF€😀\uFFFDé';
    const got = decodeRequest('Observe', ObserveRequest.encode(ObserveRequest.fromPartial({ runId })).finish()) as ObserveRequest;
    expect(got.runId).toBe(runId);
  });

  test('bytes that are not the message still fail as before (not as a UTF-8 violation)', () => {
    expect(() => decodeRequest('Observe', Buffer.from([0x0a, 0xff, 0x01]))).toThrow();
    expect(() => decodeRequest('Observe', Buffer.from([0x0a, 0xff, 0x01]))).not.toThrow(InvalidArgument);
  });
});

describe('over the wire', () => {
  const identity = (b: Buffer) => b;
  function rawCall(client: Client, body: Buffer): Promise<ServiceError | null> {
    return new Promise((resolve) =>
      client.makeUnaryRequest('/learnloop.v1.LearnLoopService/Observe', identity, identity, body, new Metadata(), { deadline: Date.now() + 5000 }, (err) => resolve(err)),
    );
  }

  test('"u-\\xff" and "u-\\xfe" are refused naming run_id, not merged into one run', async () => {
    const ts = await startTestServer();
    const raw = new Client(ts.addr, credentials.createInsecure());
    try {
      for (const bad of [0xff, 0xfe]) {
        const body = corrupt(ObserveRequest.encode(ObserveRequest.fromPartial({ runId: 'u-Q', templateId: 't@v1', outcome: 1 })).finish(), 'Q', bad);
        const err = (await rawCall(raw, body))!;
        expect(err.code).toBe(status.INVALID_ARGUMENT);
        expect(err.details).toBe('run_id: must be valid UTF-8');
        const details = Status.decode(err.metadata.get('grpc-status-details-bin')[0] as Buffer).details;
        const badRequest = BadRequest.decode(details.find((d) => d.typeUrl.endsWith('BadRequest'))!.value);
        expect(badRequest.fieldViolations).toEqual([{ field: 'run_id', description: 'must be valid UTF-8' }]);
      }
      expect(await ts.server.store.head()).toBe(0);
    } finally {
      raw.close();
    }
  });

  test('a body that is not the message at all is INVALID_ARGUMENT saying so, with no empty field name in front', async () => {
    const ts = await startTestServer();
    const raw = new Client(ts.addr, credentials.createInsecure());
    try {
      const err = (await rawCall(raw, Buffer.from([0x0a, 0xff, 0x01])))!;
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toBe('request body is not a valid ObserveRequest message');
      expect(await ts.server.store.head()).toBe(0);
    } finally {
      raw.close();
    }
  });
});
