import { fc } from '@fast-check/vitest';
import { open } from 'lmdb';
import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, asDecisionId, recommend, type PolicyConfig } from '../../src/bandit/index.js';
import { LearnLoop, type ObserveParams } from '../../src/service/learnloop.js';
import { FOLDER_FORMAT, LmdbStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';

const policy: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 };

async function openLoop(dir: string, p: PolicyConfig = policy) {
  const store = await LmdbStore.open(dir, { policy: p, noSync: true });
  let t = 1_700_000_000_000;
  return new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => (t += 1000) });
}

const obs = (runId: string, templateId: string, outcome: string, extra: Partial<ObserveParams> = {}): ObserveParams => ({
  runId,
  decisionId: '',
  templateId,
  taskClass: 'bug-fix',
  repo: 'org/app',
  taskId: runId,
  attempt: 1,
  outcome,
  retries: 0,
  durationSeconds: 10,
  failureReason: '',
  finishedAtMs: undefined,
  agent: '',
  model: '',
  ...extra,
});

const outcomeArb = fc.constantFrom('pass', 'partial', 'fail', 'timeout', 'infra_error');
const opArb = fc.oneof(
  fc.record({
    kind: fc.constant('observe' as const),
    run: fc.integer({ min: 0, max: 30 }),
    template: fc.constantFrom('a@v1', 'b@v1', 'c@v2'),
    taskClass: fc.constantFrom('', 'bug-fix', 'docs'),
    repo: fc.constantFrom('', 'org/x', 'org/y'),
    outcome: outcomeArb,
    retries: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant('recommend' as const), requestId: fc.constantFrom('', 'q1', 'q2'), taskClass: fc.constantFrom('', 'bug-fix') }),
  fc.record({ kind: fc.constant('register' as const), template: fc.constantFrom('c@v2', 'd@v1'), parent: fc.constantFrom('', 'a@v1') }),
);

describe('LMDB store', () => {
  test('derived state after any history equals a rebuild from the log, and survives reopening', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const dir = tmpDir();
        const ll = await openLoop(dir);
        const seen = new Map<number, string>();
        for (const op of ops) {
          if (op.kind === 'observe') {
            const params = obs(`r${op.run}`, op.template, op.outcome, { taskClass: op.taskClass, repo: op.repo, retries: op.retries });
            // Reusing a run id with other content must be refused; with the same content, a no-op.
            const same = seen.get(op.run) === JSON.stringify(params);
            const res = await ll.observe(params).catch((e: Error) => e);
            if (seen.has(op.run)) expect(same ? (res as { duplicate: boolean }).duplicate : (res as Error).name).toBe(same ? true : 'ObservationConflict');
            else seen.set(op.run, JSON.stringify(params));
          } else if (op.kind === 'recommend') {
            await ll.recommend({ taskClass: op.taskClass, repo: '', candidateTemplateIds: ['a@v1', 'b@v1'], topK: 0, requestId: op.requestId });
          } else {
            await ll.registerTemplate({ templateId: op.template, parentTemplateId: op.parent, status: 'active', description: '' }).catch(() => undefined);
          }
        }
        const live = ll.store.derivedSnapshot();
        await ll.store.rebuild();
        expect(ll.store.derivedSnapshot()).toEqual(live);
        await ll.store.close();
        const reopened = await LmdbStore.open(dir, { policy, noSync: true });
        expect(reopened.derivedSnapshot()).toEqual(live);
        // Exactly one observation event per distinct run id.
        const runIds = [...reopened.events()].filter((e) => e.type === 'observation').map((e) => (e.type === 'observation' ? e.content.runId : ''));
        expect(new Set(runIds).size).toBe(runIds.length);
        expect(runIds.length).toBe(seen.size);
        await reopened.close();
      }),
      { numRuns: 25 },
    );
  });

  test('counts are exact: every run once, in every segment it belongs to', async () => {
    const ll = await openLoop(tmpDir());
    await ll.observe(obs('1', 't', 'pass'));
    await ll.observe(obs('2', 't', 'fail', { repo: 'org/other', retries: 2 }));
    await ll.observe(obs('3', 't', 'infra_error'));
    await ll.observe(obs('3', 't', 'infra_error'));
    const stats = (tc: string, repo: string) => ll.store.stats(['t', tc, repo]);
    expect(stats('', '')!.counters).toMatchObject({ runs: 3, passes: 1, fails: 1, infraErrors: 1, retriedRuns: 1, retries: 2 });
    // Infra errors teach nothing.
    expect(stats('', '')!.evidence).toMatchObject({ trials: 2, reward: 1 });
    expect(stats('bug-fix', 'org/app')!.counters.runs).toBe(2);
    expect(stats('', 'org/other')!.counters.runs).toBe(1);
    expect(stats('bug-fix', '')!.counters.runs).toBe(3);
    await ll.store.close();
  });

  test('a changed policy configuration rebuilds derived state on open', async () => {
    const dir = tmpDir();
    const ll = await openLoop(dir);
    await ll.observe(obs('1', 't', 'partial'));
    expect(ll.store.stats(['t', '', ''])!.evidence.reward).toBe(0.5);
    await ll.store.close();
    const again = await openLoop(dir, { ...policy, partialReward: 0.25 });
    expect(again.store.stats(['t', '', ''])!.evidence.reward).toBe(0.25);
    await again.store.close();
  });

  test('a stored value from an unknown schema version is refused, not misread', async () => {
    const dir = tmpDir();
    const ll = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    await ll.store.close();
    const raw = open({ path: dir });
    await raw.openDB('templates', {}).put('t', { v: 99, templateId: 't' });
    await raw.close();
    const store = await LmdbStore.open(dir, { policy, noSync: true });
    expect(() => store.template('t')).toThrow(/schema version 99/);
    await store.close();
  });

  test('a folder says its format; a later format is refused at open, naming both', async () => {
    const dir = tmpDir();
    const ll = await openLoop(dir);
    await ll.observe(obs('1', 't', 'pass'));
    await ll.store.rebuild();
    await ll.store.close();
    const raw = open({ path: dir });
    expect(raw.openDB('meta', {}).get('format')).toBe(FOLDER_FORMAT);
    await raw.openDB('meta', {}).put('format', FOLDER_FORMAT + 1);
    await raw.close();
    await expect(LmdbStore.open(dir, { policy, noSync: true })).rejects.toThrow(
      `written by a newer learnloop (folder format ${FOLDER_FORMAT + 1}; this one reads up to ${FOLDER_FORMAT})`,
    );
  });

  test('decisions are logged with their propensity and found by id and request id', async () => {
    const ll = await openLoop(tmpDir());
    const d = await ll.recommend({ taskClass: 'x', repo: 'y', candidateTemplateIds: ['a', 'b'], topK: 0, requestId: 'req' });
    expect(ll.store.decision(d.decision.decisionId)).toEqual(d);
    expect(ll.store.decisionForRequest('req')).toEqual(d);
    const logged = [...ll.store.events()].find((e) => e.type === 'decision');
    expect(logged).toMatchObject({ type: 'decision', candidates: ['a', 'b'] });
    // The logged decision replays: same id and evidence give the same choice.
    const replay = recommend(
      { decisionId: asDecisionId(d.decision.decisionId), context: { taskClass: 'x', repo: 'y' }, arms: ll.store.armEvidence(['a', 'b'], { taskClass: 'x', repo: 'y' }), nowMs: 0, topK: 0 },
      policy,
    );
    expect(replay.chosen).toBe(d.decision.chosen);
    expect(replay.propensity).toBe(d.decision.propensity);
    await ll.store.close();
  });

  test("read caches follow other processes' writes: templates, evidence and the template list", async () => {
    const dir = tmpDir();
    const a = await openLoop(dir);
    const b = await openLoop(dir);
    const ctx = { taskClass: 'bug-fix', repo: 'org/app' };
    // lmdb-js reads from a snapshot it renews on the next event-loop turn, as another process would.
    const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 5));
    await a.observe(obs('1', 't@v1', 'pass'));
    await nextTurn();
    expect(b.listTemplates().map((t) => t.templateId)).toEqual(['t@v1']);
    expect(b.store.armEvidence(['t@v1'], ctx)[0]!.evidence.global.trials).toBe(1);
    await a.registerTemplate({ templateId: 'u@v1', parentTemplateId: 't@v1', status: 'candidate', description: '' });
    await a.observe(obs('2', 't@v1', 'fail'));
    await nextTurn();
    expect(b.listTemplates().map((t) => [t.templateId, t.status])).toEqual([['t@v1', 'active'], ['u@v1', 'candidate']]);
    const [u] = b.store.armEvidence(['u@v1'], ctx);
    expect(u!.parent?.evidence.global.trials).toBe(2);
    await a.store.close();
    await b.store.close();
  });
});
