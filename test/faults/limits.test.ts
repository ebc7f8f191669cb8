import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { createClient } from '../../src/client.js';
import { Outcome } from '../../src/index.js';
import { startTestServer } from '../helpers/server.js';
import { tmpDir } from '../helpers/tmp.js';
import { startChildServer, stopChild } from './child.js';

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

const obs = (runId: string, extra = {}) => ({ runId, templateId: 't@v1', outcome: Outcome.OUTCOME_PASS, durationSeconds: 1, ...extra });

describe('configured limits are enforced', () => {
  test('a request over --max-message-bytes is RESOURCE_EXHAUSTED (grpc-js answers before any handler)', async () => {
    const { client, server } = await startTestServer({ 'max-message-bytes': '2048' });
    expect((await client.observe(obs('small', { failureReason: 'x'.repeat(1000) }))).applied).toBe(true);
    const err = await failure(client.observe(obs('big', { failureReason: 'x'.repeat(4000) })));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/larger than max/i);
    expect(await server.store.head()).toBe(2); // implicit template + 'small'
  });

  test('--max-candidates, --max-id-length and --max-text-length', async () => {
    const { client } = await startTestServer({ 'max-candidates': '5', 'max-id-length': '16', 'max-text-length': '100' });
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect((await client.recommend({ candidateTemplateIds: five })).ranking).toHaveLength(5);
    const tooMany = await failure(client.recommend({ candidateTemplateIds: [...five, 'f'] }));
    expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
    expect(tooMany.details).toMatch(/candidate_template_ids.*at most 5/);

    expect((await client.observe(obs('r1', { templateId: 'x'.repeat(16) }))).applied).toBe(true);
    const longId = await failure(client.observe(obs('r2', { templateId: 'x'.repeat(17) })));
    expect(longId.code).toBe(status.INVALID_ARGUMENT);
    expect(longId.details).toMatch(/template_id.*at most 16/);

    expect((await client.observe(obs('r3', { failureReason: 'y'.repeat(100) }))).applied).toBe(true);
    const longText = await failure(client.observe(obs('r4', { failureReason: 'y'.repeat(101) })));
    expect(longText.code).toBe(status.INVALID_ARGUMENT);
    expect(longText.details).toMatch(/failure_reason.*at most 100/);
  });

  test('a client deadline is honoured: DEADLINE_EXCEEDED on time, and the run is recorded at most once', async () => {
    const server = await startChildServer(tmpDir());
    const impatient = createClient(server.addr, { deadlineMs: 300 });
    const client = createClient(server.addr);
    try {
      // Frozen server: the call cannot be answered, so only the deadline can end it.
      server.child.kill('SIGSTOP');
      const started = Date.now();
      const err = await failure(impatient.observe(obs('late')));
      const waited = Date.now() - started;
      server.child.kill('SIGCONT');
      expect(err.code).toBe(status.DEADLINE_EXCEEDED);
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(waited).toBeLessThan(3000);
      // The server may or may not have seen the expired call; a retry settles it exactly once.
      const retry = await client.observe(obs('late'));
      expect(retry.applied || retry.duplicate).toBe(true);
      const scores = await client.getScores({});
      expect(scores.scorecards.find((c) => c.templateId === 't@v1')!.runs).toBe(1);
    } finally {
      server.child.kill('SIGCONT');
      impatient.close();
      client.close();
      await stopChild(server);
    }
  });
});
