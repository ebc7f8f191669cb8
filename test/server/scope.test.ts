/**
 * A template's task-class scope (RegisterTemplate task_classes): Recommend without candidates
 * offers a template only for its classes, a refined version keeps its parent's, and GetScores for a
 * class lists the templates in scope there (and any with runs there).
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { errorCode, Outcome } from '../../src/index.js';
import { grpcError, violatedFields } from '../helpers/grpc.js';
import { startTestServer } from '../helpers/server.js';

/** One template family per class, plus one for every class: what the README's quick start registers. */
async function startWithFamilies() {
  const started = await startTestServer();
  const { client } = started;
  for (const c of ['bug-fix', 'feature', 'docs']) await client.registerTemplate({ templateId: `${c}@v1`, taskClasses: [c] });
  await client.registerTemplate({ templateId: 'generic@v1' });
  return started;
}

const rankedIds = (r: { ranking: ReadonlyArray<{ templateId: string }> }) => r.ranking.map((x) => x.templateId).sort();

describe('registering a scope', () => {
  test('task_classes are kept and listed; empty keeps them, a new list replaces them', async () => {
    const { client } = await startTestServer();
    const first = await client.registerTemplate({ templateId: 'fix@v1', taskClasses: ['hotfix', 'bug-fix', 'bug-fix'] });
    expect(first.template!.taskClasses).toEqual(['bug-fix', 'hotfix']);
    // A status change leaves the scope alone; naming the same classes changes nothing.
    expect((await client.registerTemplate({ templateId: 'fix@v1', description: 'shorter' })).template!.taskClasses).toEqual(['bug-fix', 'hotfix']);
    expect((await client.registerTemplate({ templateId: 'fix@v1', taskClasses: ['hotfix', 'bug-fix'] })).created).toBe(false);
    expect((await client.registerTemplate({ templateId: 'fix@v1', taskClasses: ['bug-fix'] })).template!.taskClasses).toEqual(['bug-fix']);
    await client.registerTemplate({ templateId: 'any@v1' });
    const listed = await client.listTemplates({});
    expect(listed.templates.map((t) => [t.templateId, t.taskClasses])).toEqual([
      ['any@v1', []],
      ['fix@v1', ['bug-fix']],
    ]);
  });

  test.each([
    [[''], 'task_classes[0]'],
    [['bug-fix', ' docs'], 'task_classes[1]'],
    [['bug-fix', 'x'.repeat(600)], 'task_classes[1]'],
    [['a\u0000b'], 'task_classes[0]'],
  ])('rejects task_classes %j with INVALID_ARGUMENT on %s, writing nothing', async (taskClasses, field) => {
    const { client, server } = await startTestServer();
    const head = await server.store.head();
    const err = await grpcError(client.registerTemplate({ templateId: 'fix@v1', taskClasses }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(violatedFields(err)).toEqual([field]);
    expect(await server.store.head()).toBe(head);
  });

  test('a refined version named without classes inherits its parent\'s; its own classes win', async () => {
    const { client } = await startWithFamilies();
    expect((await client.registerTemplate({ templateId: 'bug-fix@v2', parentTemplateId: 'bug-fix@v1' })).template!.taskClasses).toEqual(['bug-fix']);
    expect((await client.registerTemplate({ templateId: 'generic@v2', parentTemplateId: 'generic@v1' })).template!.taskClasses).toEqual([]);
    expect((await client.registerTemplate({ templateId: 'bug-fix@v3', parentTemplateId: 'bug-fix@v2', taskClasses: ['hotfix'] })).template!.taskClasses).toEqual(['hotfix']);
  });
});

describe('Recommend without candidates', () => {
  test('offers a class its own templates and the unscoped ones, never another class\'s', async () => {
    const { client } = await startWithFamilies();
    for (let i = 0; i < 10; i++) {
      const r = await client.recommend({ taskClass: 'bug-fix', repo: 'acme/api' });
      expect(rankedIds(r)).toEqual(['bug-fix@v1', 'generic@v1']);
      expect(['bug-fix@v1', 'generic@v1']).toContain(r.chosenTemplateId);
    }
    expect(rankedIds(await client.recommend({ taskClass: 'docs' }))).toEqual(['docs@v1', 'generic@v1']);
    // An unscoped template is in every class's set, and no task class means every active template.
    expect(rankedIds(await client.recommend({ taskClass: 'refactor' }))).toEqual(['generic@v1']);
    expect(rankedIds(await client.recommend({}))).toEqual(['bug-fix@v1', 'docs@v1', 'feature@v1', 'generic@v1']);
    // Naming candidates is explicit: the scope does not filter them.
    expect(rankedIds(await client.recommend({ taskClass: 'bug-fix', candidateTemplateIds: ['feature@v1', 'docs@v1'] }))).toEqual(['docs@v1', 'feature@v1']);
  });

  test('an empty scoped set is FAILED_PRECONDITION LL_NO_CANDIDATES, as an empty store is', async () => {
    const { client } = await startTestServer();
    const empty = await grpcError(client.recommend({ taskClass: 'bug-fix' }));
    await client.registerTemplate({ templateId: 'feature@v1', taskClasses: ['feature'] });
    const scoped = await grpcError(client.recommend({ taskClass: 'bug-fix' }));
    expect([scoped.code, errorCode(scoped)]).toEqual([empty.code, errorCode(empty)]);
    expect(scoped.code).toBe(status.FAILED_PRECONDITION);
    expect(scoped.details).toContain('no active template is for task class "bug-fix"');
  });
});

describe('GetScores for a task class', () => {
  test('lists the templates in scope there, and any with runs there even out of scope', async () => {
    const { client } = await startWithFamilies();
    // docs@v1 ran once on a feature task (named as a candidate): its evidence stays visible.
    await client.observe({ runId: 'r1', templateId: 'docs@v1', taskClass: 'feature', outcome: Outcome.OUTCOME_PASS });
    const ids = (await client.getScores({ taskClass: 'feature' })).scorecards.map((c) => c.templateId).sort();
    expect(ids).toEqual(['docs@v1', 'feature@v1', 'generic@v1']);
    // Without a task class every active template is listed, as before.
    expect((await client.getScores({})).scorecards.map((c) => c.templateId).sort()).toEqual(['bug-fix@v1', 'docs@v1', 'feature@v1', 'generic@v1']);
  });
});
