import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { Outcome, TemplateStatus } from '../../src/index.js';
import { ErrorInfo } from '../../src/gen/google/rpc/error_details.js';
import { Status } from '../../src/gen/google/rpc/status.js';
import { grpcError, violatedFields } from '../helpers/grpc.js';
import { startTestServer } from '../helpers/server.js';

const run = (runId: string, templateId: string, outcome: Outcome, extra = {}) => ({
  runId,
  templateId,
  taskClass: 'bug-fix',
  repo: 'org/app',
  outcome,
  durationSeconds: 60,
  ...extra,
});

describe('Recommend and Observe against a real server', () => {
  test('learns to prefer the template that passes more often', async () => {
    const { client } = await startTestServer();
    for (const id of ['good@v1', 'bad@v1', 'worse@v1']) await client.registerTemplate({ templateId: id });
    let n = 0;
    for (let i = 0; i < 30; i++) {
      await client.observe(run(`g${n++}`, 'good@v1', i % 10 < 8 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL));
      await client.observe(run(`b${n++}`, 'bad@v1', i % 10 < 3 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL));
      await client.observe(run(`w${n++}`, 'worse@v1', i % 10 < 3 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL));
    }
    const res = await client.recommend({ taskClass: 'bug-fix', repo: 'org/app' });
    expect(res.ranking).toHaveLength(3);
    const good = res.ranking.find((r) => r.templateId === 'good@v1')!;
    expect(good.probBest).toBeGreaterThan(0.95);
    expect(good.posterior!.evidenceLevel).toBeGreaterThan(0);
    expect(res.rationale).toMatch(/pass rate/);
    // A new repository in the same task class borrows the class's record. With one repository seen, nothing
    // says how far repositories differ, so the hyperprior's spread applies (policy /5): good@v1 still leads
    // clearly, less surely than in the repository it was measured in.
    const fresh = await client.recommend({ taskClass: 'bug-fix', repo: 'org/new' });
    expect(fresh.ranking.find((r) => r.templateId === 'good@v1')!.probBest).toBeGreaterThan(0.7);
  });

  test('a repeated run_id changes nothing; different content is ALREADY_EXISTS', async () => {
    const { client } = await startTestServer();
    const first = await client.observe(run('r1', 't@v1', Outcome.OUTCOME_PASS));
    expect(first.applied).toBe(true);
    const again = await client.observe(run('r1', 't@v1', Outcome.OUTCOME_PASS));
    expect(again).toMatchObject({ applied: false, duplicate: true });
    expect(again.posterior).toEqual(first.posterior);
    const err = await grpcError(client.observe(run('r1', 't@v1', Outcome.OUTCOME_FAIL)));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect(err.details).toMatch(/outcome/);
  });

  test('a resend that states what its decision supplied, or leaves empty what it stated, is the same run', async () => {
    const { client } = await startTestServer();
    const rec = await client.recommend({ taskClass: 'docs', repo: 'org/x', candidateTemplateIds: ['a@v1', 'b@v1'] });
    const stated = { templateId: rec.chosenTemplateId, taskClass: 'docs', repo: 'org/x' };
    const other = rec.chosenTemplateId === 'a@v1' ? 'b@v1' : 'a@v1';
    // Decision id alone first, then the same run with the decision's fields stated; and the reverse order.
    expect(await client.observe({ runId: 'd1', decisionId: rec.decisionId, outcome: Outcome.OUTCOME_FAIL })).toMatchObject({ applied: true });
    expect(await client.observe({ runId: 'd1', decisionId: rec.decisionId, outcome: Outcome.OUTCOME_FAIL, ...stated })).toMatchObject({ applied: false, duplicate: true });
    expect(await client.observe({ runId: 'd2', decisionId: rec.decisionId, outcome: Outcome.OUTCOME_PASS, ...stated })).toMatchObject({ applied: true });
    expect(await client.observe({ runId: 'd2', decisionId: rec.decisionId, outcome: Outcome.OUTCOME_PASS })).toMatchObject({ applied: false, duplicate: true });
    // Content that really differs is still a conflict, naming the field.
    const err = await grpcError(client.observe({ runId: 'd2', outcome: Outcome.OUTCOME_PASS, ...stated }));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect(err.details).toMatch(/\(decision_id differ\)/);
    const wrong = await grpcError(client.observe({ runId: 'd1', decisionId: rec.decisionId, outcome: Outcome.OUTCOME_FAIL, ...stated, templateId: other }));
    expect(wrong.code).toBe(status.ALREADY_EXISTS);
    expect(wrong.details).toMatch(/template_id/);
    const scores = await client.getScores({ taskClass: 'docs', repo: 'org/x' });
    expect(scores.scorecards.find((c) => c.templateId === rec.chosenTemplateId)!.runs).toBe(2);
  });

  test('decision_id supplies template and context; an unknown one is NOT_FOUND', async () => {
    const { client } = await startTestServer();
    const rec = await client.recommend({ taskClass: 'docs', repo: 'org/x', candidateTemplateIds: ['a@v1', 'b@v1'] });
    const obs = await client.observe({ runId: 'r', decisionId: rec.decisionId, outcome: Outcome.OUTCOME_PASS });
    expect(obs.applied).toBe(true);
    const scores = await client.getScores({ taskClass: 'docs', repo: 'org/x' });
    const card = scores.scorecards.find((c) => c.templateId === rec.chosenTemplateId)!;
    expect(card.runs).toBe(1);
    const err = await grpcError(client.observe({ runId: 'r2', decisionId: 'nope', outcome: Outcome.OUTCOME_PASS }));
    expect(err.code).toBe(status.NOT_FOUND);
  });

  test('the same request_id returns the same decision', async () => {
    const { client } = await startTestServer();
    const req = { taskClass: 'c', repo: 'r', candidateTemplateIds: ['a', 'b', 'c'], requestId: 'req-1' };
    const a = await client.recommend(req);
    const b = await client.recommend(req);
    // The replay registers nothing, so it names no new ids; the decision is the same.
    expect(a.newTemplateIds).toEqual(['a', 'b', 'c']);
    expect(b).toEqual({ ...a, newTemplateIds: [] });
    // The same candidates in another order are the same request.
    expect((await client.recommend({ ...req, candidateTemplateIds: ['c', 'a', 'b'] })).decisionId).toBe(a.decisionId);
  });

  test('a request_id fixes the decision id, so a retry that reaches another server (or a restarted one) makes the same pick', async () => {
    const req = { taskClass: 'c', repo: 'r', candidateTemplateIds: ['a', 'b', 'c', 'd'] };
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const { client } = await startTestServer();
      const replies = [];
      for (let k = 0; k < 8; k++) replies.push(await client.recommend({ ...req, requestId: `retry-${k}` }));
      answers.push(replies);
    }
    const [first, second] = answers;
    expect(second!.map((a) => [a.decisionId, a.chosenTemplateId])).toEqual(first!.map((a) => [a.decisionId, a.chosenTemplateId]));
    expect(new Set(first!.map((a) => a.decisionId)).size).toBe(8);
    for (const a of first!) expect(a.decisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test.each([
    [{ taskClass: 'other' }, 'task_class'],
    [{ repo: 'other' }, 'repo'],
    [{ candidateTemplateIds: ['a', 'b'] }, 'candidate_template_ids'],
    [{ candidateTemplateIds: ['a', 'b', 'd'] }, 'candidate_template_ids'],
    [{ topK: 1 }, 'top_k'],
  ])('a request_id reused with %o is ALREADY_EXISTS naming %s, and logs nothing', async (patch, field) => {
    const { client, server } = await startTestServer();
    const req = { taskClass: 'c', repo: 'r', candidateTemplateIds: ['a', 'b', 'c'], requestId: 'req-1' };
    await client.recommend(req);
    const head = await server.store.head();
    const err = await grpcError(client.recommend({ ...req, ...patch }));
    expect(err.code).toBe(status.ALREADY_EXISTS);
    expect(err.details).toBe(`request_id: "req-1" was already used with different content (${field} differ)`);
    expect(await server.store.head()).toBe(head);
  });

  test('a long astral-plane id quoted in a message is cut between characters (a cut inside a surrogate pair crashed the answer), the sentence kept', async () => {
    const { client } = await startTestServer();
    const err = await grpcError(client.observe({ ...run('r', '', Outcome.OUTCOME_PASS), decisionId: '😀'.repeat(128) }));
    expect(err.code).toBe(status.NOT_FOUND);
    // The value is cut to 48 bytes of UTF-8 with its "…" (11 four-byte characters).
    expect(err.details).toBe(`decision_id: no decision "${'😀'.repeat(11)}…" was recorded`);
    expect((await client.observe(run('after', 't', Outcome.OUTCOME_PASS))).applied).toBe(true);
  });

  // '😀' is a surrogate pair: cutting a message inside one made grpc-js throw (URIError) while answering.
  test.each(['€'.repeat(250), `x${'😀'.repeat(125)}`, '😀'.repeat(125)])('an error naming 1,000 bad multi-byte ids (%s…) still fits its trailer: answered at once, the channel still works', async (stem) => {
    const { client } = await startTestServer();
    const ids = Array.from({ length: 1000 }, (_, i) => `${stem}${i}\u0001`);
    const err = await grpcError(client.recommend({ candidateTemplateIds: ids }));
    // Before the cap this answer (about 1 MB of trailers) never arrived: DEADLINE_EXCEEDED, and the connection hung.
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(Buffer.byteLength(err.details)).toBeLessThanOrEqual(600);
    const fields = violatedFields(err);
    expect(fields).toHaveLength(9);
    expect(fields.slice(0, 2)).toEqual(['candidate_template_ids[0]', 'candidate_template_ids[1]']);
    expect((await client.observe(run('after', 't', Outcome.OUTCOME_PASS))).applied).toBe(true);
  });

  test.each([
    [{ runId: '' }, 'run_id'],
    [{ outcome: Outcome.OUTCOME_UNSPECIFIED }, 'outcome'],
    [{ outcome: 42 as Outcome }, 'outcome'],
    [{ durationSeconds: -1 }, 'duration_seconds'],
    [{ durationSeconds: Number.NaN }, 'duration_seconds'],
    [{ durationSeconds: Number.POSITIVE_INFINITY }, 'duration_seconds'],
    [{ templateId: '' }, 'template_id'],
    [{ repo: 'x'.repeat(300) }, 'repo'],
    [{ failureReason: 'y'.repeat(10_000) }, 'failure_reason'],
  ])('Observe %o is INVALID_ARGUMENT naming %s', async (patch, field) => {
    const { client } = await startTestServer();
    const err = await grpcError(client.observe({ ...run('r', 't', Outcome.OUTCOME_PASS), ...patch }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(err)).toContain(field);
    expect(err.details).toContain(field);
  });

  test('every offending field is named at once', async () => {
    const { client } = await startTestServer();
    const err = await grpcError(client.observe({ runId: '', outcome: Outcome.OUTCOME_UNSPECIFIED, durationSeconds: -3 }));
    expect(violatedFields(err)).toEqual(expect.arrayContaining(['run_id', 'outcome', 'duration_seconds', 'template_id']));
    const info = Status.decode(err.metadata.get('grpc-status-details-bin')[0] as Buffer).details.find((d) => d.typeUrl.endsWith('ErrorInfo'))!;
    expect(ErrorInfo.decode(info.value).reason).toBe('LL_INVALID_ARGUMENT');
  });

  test.each([
    [{ candidateTemplateIds: ['a', 'a'] }, 'candidate_template_ids[1]'],
    [{ candidateTemplateIds: ['a', ''] }, 'candidate_template_ids[1]'],
    [{ candidateTemplateIds: Array.from({ length: 1001 }, (_, i) => `t${i}`) }, 'candidate_template_ids'],
    [{ taskClass: 'bad\u0001class' }, 'task_class'],
  ])('Recommend %# is INVALID_ARGUMENT naming %s', async (patch, field) => {
    const { client } = await startTestServer();
    const err = await grpcError(client.recommend({ candidateTemplateIds: ['a'], ...patch }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(err)).toContain(field);
  });

  test('Recommend with no candidates and no templates is FAILED_PRECONDITION', async () => {
    const { client } = await startTestServer();
    const err = await grpcError(client.recommend({ taskClass: 'x' }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
  });

  test('concurrent Observes lose no update', async () => {
    const { client } = await startTestServer();
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.observe(run(`c${i}`, 'hot@v1', i % 2 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL))),
    );
    // The same 50 run ids again, concurrently: all duplicates.
    const dups = await Promise.all(Array.from({ length: 50 }, (_, i) => client.observe(run(`c${i}`, 'hot@v1', i % 2 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL))));
    expect(dups.every((d) => d.duplicate)).toBe(true);
    const scores = await client.getScores({});
    const card = scores.scorecards.find((c) => c.templateId === 'hot@v1')!;
    expect(card.runs).toBe(200);
    expect(card.passes).toBe(100);
  });

  test('templates: register with a parent, list, retire; a new version inherits its parent\'s record', async () => {
    const { client } = await startTestServer();
    await client.registerTemplate({ templateId: 'fix@v1' });
    for (let i = 0; i < 40; i++) await client.observe(run(`p${i}`, 'fix@v1', i % 10 < 9 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL));
    const v2 = await client.registerTemplate({ templateId: 'fix@v2', parentTemplateId: 'fix@v1', description: 'tighter verify step' });
    expect(v2.created).toBe(true);
    expect(v2.template!.parentTemplateId).toBe('fix@v1');
    const rec = await client.recommend({ taskClass: 'bug-fix', repo: 'org/app', candidateTemplateIds: ['fix@v2'] });
    // Inherited (discounted) evidence: the mean follows the parent's ~90%, not the flat prior's 50%.
    expect(rec.ranking[0]!.posterior!.mean).toBeGreaterThan(0.75);
    await client.registerTemplate({ templateId: 'fix@v1', status: TemplateStatus.TEMPLATE_STATUS_RETIRED });
    const active = await client.listTemplates({ status: TemplateStatus.TEMPLATE_STATUS_ACTIVE });
    expect(active.templates.map((t) => t.templateId)).toEqual(['fix@v2']);
    const err = await grpcError(client.registerTemplate({ templateId: 'fix@v2', parentTemplateId: 'other@v1' }));
    expect(err.code).toBe(status.ALREADY_EXISTS);
  });

  test('write RPCs need the bearer token when one is configured', async () => {
    const { addr } = await startTestServer({ token: 's3cret' });
    const { createClient } = await import('../../src/client.js');
    const anon = createClient(addr);
    const authed = createClient(addr, { token: 's3cret' });
    try {
      expect((await grpcError(anon.observe(run('r', 't', Outcome.OUTCOME_PASS)))).code).toBe(status.UNAUTHENTICATED);
      expect((await authed.observe(run('r', 't', Outcome.OUTCOME_PASS))).applied).toBe(true);
      // Reads stay open.
      expect((await anon.listTemplates()).templates).toHaveLength(1);
    } finally {
      anon.close();
      authed.close();
    }
  });
});
