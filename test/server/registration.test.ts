/**
 * Issue 9's registration rules and issue 10's input checks that need a store: ids no one registered
 * never become default options, answers say which ids were new, strict mode, the limits on how many
 * templates a call and a store may create, decision_id and request_id conflicts, future times.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { errorCode, Outcome, TemplateStatus } from '../../src/index.js';
import { grpcError, violatedFields, violations } from '../helpers/grpc.js';
import { startTestServer } from '../helpers/server.js';

const pass = (runId: string, templateId: string, extra = {}) => ({ runId, templateId, outcome: Outcome.OUTCOME_PASS, ...extra });

describe('ids no one registered', () => {
  test('a typo seen in Observe or in a candidate list is a candidate: never picked by a Recommend without candidates', async () => {
    const { client } = await startTestServer();
    await client.registerTemplate({ templateId: 'std@v1' });
    // The typo wins every run it gets; it must still get no default traffic.
    const first = await client.observe(pass('1', 'verbose@v2'));
    expect(first.newTemplate).toBe(true);
    expect((await client.observe(pass('2', 'verbose@v2'))).newTemplate).toBe(false);
    const named = await client.recommend({ candidateTemplateIds: ['std@v1', 'stdv1'] });
    expect(named.newTemplateIds).toEqual(['stdv1']);
    expect(named.ranking.map((r) => r.templateId).sort()).toEqual(['std@v1', 'stdv1']);
    for (let i = 0; i < 20; i++) {
      const r = await client.recommend({});
      expect(r.chosenTemplateId).toBe('std@v1');
      expect(r.ranking.map((x) => x.templateId)).toEqual(['std@v1']);
      expect(r.newTemplateIds).toEqual([]);
    }
    const listed = await client.listTemplates({});
    expect(listed.templates.map((t) => [t.templateId, t.status, t.implicit])).toEqual([
      ['std@v1', TemplateStatus.TEMPLATE_STATUS_ACTIVE, false],
      ['stdv1', TemplateStatus.TEMPLATE_STATUS_CANDIDATE, true],
      ['verbose@v2', TemplateStatus.TEMPLATE_STATUS_CANDIDATE, true],
    ]);
    // Registering it (active by default) makes it a default option, with the runs it already has.
    await client.registerTemplate({ templateId: 'verbose@v2' });
    const after = await client.recommend({});
    expect(after.ranking.map((x) => x.templateId).sort()).toEqual(['std@v1', 'verbose@v2']);
  });

  test('strict mode refuses unknown ids with NOT_FOUND naming them, and writes nothing', async () => {
    const { client, server } = await startTestServer({ 'strict-templates': 'true' });
    await client.registerTemplate({ templateId: 'std@v1' });
    const head = await server.store.head();
    const rec = await grpcError(client.recommend({ candidateTemplateIds: ['std@v1', 'stdv1'] }));
    expect(rec.code).toBe(status.NOT_FOUND);
    expect(rec.details).toBe('candidate_template_ids: "stdv1" is not registered (--strict-templates); register it first');
    expect(errorCode(rec)).toMatch(/^LL_/);
    const obs = await grpcError(client.observe(pass('1', 'verbose@v2')));
    expect(obs.code).toBe(status.NOT_FOUND);
    expect(obs.details).toContain('template_id: "verbose@v2" is not registered');
    expect((await grpcError(client.registerTemplate({ templateId: 'x@v2', parentTemplateId: 'x@v1' }))).code).toBe(status.NOT_FOUND);
    expect(await server.store.head()).toBe(head);
    // Registered ids work as ever.
    expect((await client.observe(pass('1', 'std@v1'))).applied).toBe(true);
    expect((await client.recommend({ candidateTemplateIds: ['std@v1'] })).chosenTemplateId).toBe('std@v1');
  });

  test('one call may register at most --max-new-templates-per-call ids: one more is RESOURCE_EXHAUSTED', async () => {
    const { client, server } = await startTestServer({ 'max-new-templates-per-call': '3' });
    await client.registerTemplate({ templateId: 'known@v1' });
    const head = await server.store.head();
    const err = await grpcError(client.recommend({ candidateTemplateIds: ['known@v1', 'a', 'b', 'c', 'd'] }));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toContain('4 ids are not registered; one call may register at most 3');
    // The typed client reads the catalog code, so a caller can tell a limit from a full disk without parsing text.
    expect(errorCode(err)).toBe('LL_TEMPLATE_LIMIT');
    expect(errorCode(new Error('not from a server'))).toBeUndefined();
    expect(await server.store.head()).toBe(head);
    // At the limit, and known ids do not count.
    expect((await client.recommend({ candidateTemplateIds: ['known@v1', 'a', 'b', 'c'] })).newTemplateIds).toEqual(['a', 'b', 'c']);
  });

  test('a store holds at most --max-templates: registering past it is RESOURCE_EXHAUSTED, known ids still work', async () => {
    const { client, server } = await startTestServer({ 'max-templates': '3' });
    await client.registerTemplate({ templateId: 'a' });
    await client.observe(pass('1', 'b'));
    await client.recommend({ candidateTemplateIds: ['a', 'c'] });
    const head = await server.store.head();
    for (const p of [
      client.registerTemplate({ templateId: 'd' }),
      client.observe(pass('2', 'd')),
      client.recommend({ candidateTemplateIds: ['a', 'd'] }),
      client.registerTemplate({ templateId: 'a@v2', parentTemplateId: 'a' }),
    ]) {
      const err = await grpcError(p);
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(err.details).toContain('--max-templates (3)');
    }
    expect(await server.store.head()).toBe(head);
    expect((await client.observe(pass('3', 'c'))).applied).toBe(true);
    expect((await client.registerTemplate({ templateId: 'c', description: 'now registered' })).created).toBe(false);
  });
});

describe('changing a registered template', () => {
  test('a status change keeps the description; a description change keeps the status (even retired); a new template is active', async () => {
    const { client, server } = await startTestServer();
    const created = await client.registerTemplate({ templateId: 'foo@v2', parentTemplateId: 'foo@v1', description: 'adds a Verify section' });
    expect(created.template).toMatchObject({ status: TemplateStatus.TEMPLATE_STATUS_ACTIVE, description: 'adds a Verify section', parentTemplateId: 'foo@v1' });
    const retired = await client.registerTemplate({ templateId: 'foo@v2', status: TemplateStatus.TEMPLATE_STATUS_RETIRED });
    expect(retired.template).toMatchObject({ status: TemplateStatus.TEMPLATE_STATUS_RETIRED, description: 'adds a Verify section', parentTemplateId: 'foo@v1' });
    const described = await client.registerTemplate({ templateId: 'foo@v2', description: 'adds a Verify section; retired after its trial' });
    expect(described.template).toMatchObject({ status: TemplateStatus.TEMPLATE_STATUS_RETIRED, description: 'adds a Verify section; retired after its trial' });
    // A registration that leaves everything out changes nothing: no event.
    const head = await server.store.head();
    const same = await client.registerTemplate({ templateId: 'foo@v2' });
    expect(same).toMatchObject({ created: false, template: { status: TemplateStatus.TEMPLATE_STATUS_RETIRED, description: 'adds a Verify section; retired after its trial' } });
    expect(await server.store.head()).toBe(head);
  });
});

describe('conflicting ids', () => {
  test("an Observe whose template or context contradicts its decision_id is INVALID_ARGUMENT naming the fields", async () => {
    const { client, server } = await startTestServer();
    const d = await client.recommend({ taskClass: 'bug-fix', repo: 'org/app', candidateTemplateIds: ['a@v1', 'b@v1'] });
    const other = d.chosenTemplateId === 'a@v1' ? 'b@v1' : 'a@v1';
    const head = await server.store.head();
    for (const [patch, fields] of [
      [{ templateId: other }, ['decision_id', 'template_id']],
      [{ taskClass: 'docs' }, ['decision_id', 'task_class']],
      [{ repo: 'org/other', templateId: other }, ['decision_id', 'template_id', 'repo']],
    ] as const) {
      const err = await grpcError(client.observe({ runId: 'r', decisionId: d.decisionId, outcome: Outcome.OUTCOME_PASS, ...patch }));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(violatedFields(err)).toEqual(fields);
    }
    expect(await server.store.head()).toBe(head);
    // Empty fields defer to the decision; fields that agree with it are fine.
    expect((await client.observe({ runId: 'r1', decisionId: d.decisionId, outcome: Outcome.OUTCOME_PASS })).applied).toBe(true);
    const same = { runId: 'r2', decisionId: d.decisionId, templateId: d.chosenTemplateId, taskClass: 'bug-fix', repo: 'org/app', outcome: Outcome.OUTCOME_FAIL };
    expect((await client.observe(same)).applied).toBe(true);
  });

  test('the contradiction is told whole: every field and both values, long values shortened, never the sentence', async () => {
    const { client } = await startTestServer();
    const d = await client.recommend({ taskClass: 'bug-fix', repo: 'org/app', candidateTemplateIds: ['bug-fix@v1'] });
    const one = await grpcError(client.observe({ runId: 'r', decisionId: d.decisionId, templateId: 'bug-fix@v2', outcome: Outcome.OUTCOME_PASS }));
    expect(one.details).toBe(
      'decision_id: names a decision that template_id contradicts; leave it empty or state the decision\'s; template_id: is "bug-fix@v2" but the decision chose "bug-fix@v1"',
    );
    // Ids at the length limit, in all three fields: each value is cut to 48 bytes, the sentences stay whole.
    const long = (c: string) => c + 'x'.repeat(255);
    const dl = await client.recommend({ taskClass: long('c'), repo: long('r'), candidateTemplateIds: [long('a')] });
    const err = await grpcError(client.observe({ runId: 'r', decisionId: dl.decisionId, templateId: long('b'), taskClass: long('C'), repo: long('R'), outcome: Outcome.OUTCOME_PASS }));
    const v = (c: string) => `"${c}${'x'.repeat(44)}…"`;
    expect(err.details).toBe(
      "decision_id: names a decision that template_id, task_class and repo contradict; leave them empty or state the decision's; " +
        `template_id: is ${v('b')} but the decision chose ${v('a')}; task_class: is ${v('C')} but the decision was made for task_class ${v('c')}; ` +
        `repo: is ${v('R')} but the decision was made for repo ${v('r')}`,
    );
    expect(violations(err).map((x) => x.description)).toEqual([
      "names a decision that template_id, task_class and repo contradict; leave them empty or state the decision's",
      `is ${v('b')} but the decision chose ${v('a')}`,
      `is ${v('C')} but the decision was made for task_class ${v('c')}`,
      `is ${v('R')} but the decision was made for repo ${v('r')}`,
    ]);
  });

  test('finished_at more than --max-future-skew-ms past the clock is INVALID_ARGUMENT; within it is accepted', async () => {
    const { client } = await startTestServer({ 'max-future-skew-ms': '60000' });
    const err = await grpcError(client.observe(pass('1', 't', { finishedAt: new Date('9999-12-31T00:00:00Z') })));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(err)).toEqual(['finished_at']);
    expect((await grpcError(client.observe(pass('2', 't', { finishedAt: new Date(Date.now() + 120_000) })))).code).toBe(status.INVALID_ARGUMENT);
    expect((await client.observe(pass('3', 't', { finishedAt: new Date(Date.now() + 30_000) }))).applied).toBe(true);
  });
});
