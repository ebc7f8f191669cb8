/**
 * The store contract: what every adapter behind the port must do. An adapter's test file calls
 * `storeContract` with a factory; adding an adapter means adding one factory.
 */
import { fc } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { asDecisionId, DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG, recommend, type LoggedEvent, type PolicyConfig } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import type { ObserveParams } from '../../src/service/learnloop.js';
import type { Store } from '../../src/store/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { allEvents, observationEvents } from '../helpers/events.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  create(policy: PolicyConfig): Promise<Store>;
  /** Closes `store` and opens the same data again under `policy`; omitted when the adapter keeps nothing. */
  reopen?(store: Store, policy: PolicyConfig): Promise<Store>;
}

const policy: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, summarySamples: 200 };

export const obs = (runId: string, templateId: string, outcome: string, extra: Partial<ObserveParams> = {}): ObserveParams => ({
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

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export function storeContract(name: string, factory: StoreFactory): void {
  const loop = (store: Store) => {
    let t = 1_700_000_000_000;
    return compose(store, { limits: DEFAULT_LIMITS }, () => (t += 1000));
  };

  describe(`store contract: ${name}`, () => {
    test('derived state after any history equals a rebuild from the log (and a reopened store)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
          const store = await factory.create(policy);
          const ll = loop(store).learnloop;
          const seen = new Map<number, string>();
          const requests = new Map<string, string>();
          for (const op of ops) {
            if (op.kind === 'observe') {
              const params = obs(`r${op.run}`, op.template, op.outcome, { taskClass: op.taskClass, repo: op.repo, retries: op.retries });
              // Reusing a run id with other content must be refused; with the same content, a no-op.
              const same = seen.get(op.run) === JSON.stringify(params);
              const res = await ll.observe(params).catch((e: Error) => e);
              if (seen.has(op.run)) expect(same ? (res as { duplicate: boolean }).duplicate : (res as Error).name).toBe(same ? true : 'ObservationConflict');
              else seen.set(op.run, JSON.stringify(params));
            } else if (op.kind === 'recommend') {
              // Reusing a request id for another request must be refused; for the same one, a replay.
              const res = await ll.recommend({ taskClass: op.taskClass, repo: '', candidateTemplateIds: ['a@v1', 'b@v1'], topK: 0, requestId: op.requestId }).catch((e: Error) => e);
              const first = requests.get(op.requestId);
              expect(res instanceof Error ? res.name : 'ok').toBe(first === undefined || first === op.taskClass ? 'ok' : 'RequestConflict');
              if (op.requestId !== '' && first === undefined) requests.set(op.requestId, op.taskClass);
            } else {
              await ll.registerTemplate({ templateId: op.template, parentTemplateId: op.parent, status: 'active', description: '' }).catch(() => undefined);
            }
          }
          const live = await store.derivedSnapshot();
          expect(live.head).toEqual([['head', await store.head()]]);
          await store.rebuild();
          expect(await store.derivedSnapshot()).toEqual(live);
          let after = store;
          if (factory.reopen) {
            after = await factory.reopen(store, policy);
            expect(await after.derivedSnapshot()).toEqual(live);
          }
          // Exactly one observation event per distinct run id.
          const runIds = (await observationEvents(after)).map((e) => e.content.runId);
          expect(new Set(runIds).size).toBe(runIds.length);
          expect(runIds.length).toBe(seen.size);
          await after.close();
        }),
        { numRuns: 25 },
      );
    });

    test('eventPage reads the log in pages: joined, they are events(), from any sequence number', async () => {
      const store = await factory.create(policy);
      const ll = loop(store).learnloop;
      for (let i = 0; i < 7; i++) await ll.observe(obs(`p${i}`, i % 2 === 0 ? 'a@v1' : 'b@v1', 'pass'));
      const all = await collect(store.events());
      expect(all.length).toBeGreaterThan(7);
      for (const size of [1, 3, all.length, all.length + 5]) {
        const pages: LoggedEvent[] = [];
        for (let from = 1; ; ) {
          const page = await store.eventPage(from, size);
          pages.push(...page);
          if (page.length < size) break;
          from = page[page.length - 1]!.seq + 1;
        }
        expect(pages).toEqual(all);
      }
      expect(await store.eventPage(4, 2)).toEqual(all.slice(3, 5));
      expect(await store.eventPage(all.length + 1, 10)).toEqual([]);
      await store.close();
    });

    test('counts are exact: every run once, in every segment it belongs to', async () => {
      const store = await factory.create(policy);
      const ll = loop(store).learnloop;
      await ll.observe(obs('1', 't', 'pass'));
      await ll.observe(obs('2', 't', 'fail', { repo: 'org/other', retries: 2 }));
      await ll.observe(obs('3', 't', 'infra_error'));
      await ll.observe(obs('3', 't', 'infra_error'));
      const stats = async (tc: string, repo: string) => (await store.stats(['t', tc, repo]))!;
      expect((await stats('', '')).counters).toMatchObject({ runs: 3, passes: 1, fails: 1, infraErrors: 1, retriedRuns: 1, retries: 2 });
      // Infra errors teach nothing.
      expect((await stats('', '')).evidence).toMatchObject({ trials: 2, reward: 1 });
      expect((await stats('bug-fix', 'org/app')).counters.runs).toBe(2);
      expect((await stats('', 'org/other')).counters.runs).toBe(1);
      expect((await stats('bug-fix', '')).counters.runs).toBe(3);
      expect((await store.statsForSegment('bug-fix', '')).map((s) => [s.templateId, s.stats.counters.runs])).toEqual([['t', 3]]);
      // The whole-log segment is its own, not every segment (/metrics reads it in one call).
      expect((await store.statsForSegment('', '')).map((s) => [s.templateId, s.stats.counters.runs])).toEqual([['t', 3]]);
      expect((await store.templates()).map((t) => [t.templateId, t.implicit])).toEqual([['t', true]]);
      await store.close();
    });

    test('the spread sums (policy /5) are kept and read back: each repository of a task class is one group', async () => {
      const store = await factory.create(policy);
      const ll = loop(store).learnloop;
      let run = 0;
      for (const [repo, passes] of [['org/a', 2], ['org/b', 5], ['org/c', 1]] as const) {
        for (let i = 0; i < 6; i++) await ll.observe(obs(`s${run++}`, 't', i < passes ? 'pass' : 'fail', { repo }));
      }
      const classRecord = (await store.stats(['t', 'bug-fix', '']))!;
      expect(classRecord.spread?.groups.count).toBe(3);
      expect(classRecord.spread?.groups.squares).toBe(3 * 36);
      const [arm] = await store.armEvidence(['t'], { taskClass: 'bug-fix', repo: 'org/d' });
      // The same runs through the reference projection give the same sums, to the bit.
      const reference = new MemoryStore(policy);
      for (const event of await collect(store.events())) await reference.commit(event.atMs, async () => ({ events: [event], result: undefined }));
      const [expected] = await reference.armEvidence(['t'], { taskClass: 'bug-fix', repo: 'org/d' });
      expect(arm!.evidence.spread).toEqual(expected!.evidence.spread);
      expect(arm!.evidence.spread!.repo.some((x) => x !== 0)).toBe(true);
      // Without a task class (policy /6) every ('', repo) record of the template is a group of its global record.
      expect((await store.stats(['t', '', '']))!.spread?.repos?.count).toBe(3);
      const classless = { taskClass: '', repo: 'org/d' };
      expect((await store.armEvidence(['t'], classless))[0]!.evidence.spread).toEqual((await reference.armEvidence(['t'], classless))[0]!.evidence.spread);
      await store.close();
    });

    test('decisions are logged with their propensity and found by id and request id', async () => {
      const store = await factory.create(policy);
      const ll = loop(store).learnloop;
      const { newTemplateIds, ...d } = await ll.recommend({ taskClass: 'x', repo: 'y', candidateTemplateIds: ['a', 'b'], topK: 0, requestId: 'req' });
      expect(newTemplateIds).toEqual(['a', 'b']);
      expect(await store.decision(d.decision.decisionId)).toEqual(d);
      expect(await store.decisionForRequest('req')).toEqual(d);
      // The same request id answers the same decision and writes nothing.
      const head = await store.head();
      expect(await ll.recommend({ taskClass: 'x', repo: 'y', candidateTemplateIds: ['a', 'b'], topK: 0, requestId: 'req' })).toEqual({ ...d, newTemplateIds: [] });
      expect(await store.head()).toBe(head);
      const logged = (await allEvents(store)).find((e) => e.type === 'decision');
      expect(logged).toMatchObject({ type: 'decision', candidates: ['a', 'b'] });
      // The logged decision replays: same id and evidence give the same choice.
      const replay = recommend(
        { decisionId: asDecisionId(d.decision.decisionId), context: { taskClass: 'x', repo: 'y' }, arms: await store.armEvidence(['a', 'b'], { taskClass: 'x', repo: 'y' }), nowMs: 0, topK: 0 },
        policy,
      );
      expect(replay.chosen).toBe(d.decision.chosen);
      expect(replay.propensity).toBe(d.decision.propensity);
      await store.close();
    });

    test('concurrent writes apply exactly once: one run id, one new template, one request id', async () => {
      const store = await factory.create(policy);
      const ll = loop(store).learnloop;
      const results = await Promise.all(Array.from({ length: 16 }, () => ll.observe(obs('same', 'fresh@v1', 'pass'))));
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      const decisions = await Promise.all(
        Array.from({ length: 8 }, () => ll.recommend({ taskClass: '', repo: '', candidateTemplateIds: ['fresh@v1', 'other@v1'], topK: 0, requestId: 'once' })),
      );
      expect(new Set(decisions.map((d) => d.decision.decisionId)).size).toBe(1);
      const events = await allEvents(store);
      expect(events.filter((e) => e.type === 'observation')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'decision')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'template').map((e) => (e.type === 'template' ? e.templateId : ''))).toEqual(['fresh@v1', 'other@v1']);
      expect((await store.stats(['fresh@v1', '', '']))!.counters.runs).toBe(1);
      await store.close();
    });

    test('ids at the limit in the most UTF-8 bytes, in template, task class and repo at once: observed once, recommended, rebuilt', async () => {
      const store = await factory.create(policy);
      const ll = loop(store).learnloop;
      // Varied characters, so PostgreSQL cannot compress its index rows below the 2,704-byte btree limit.
      const id = (seed: number, from: number, span: number, n: number) =>
        Array.from({ length: n }, (_, i) => String.fromCodePoint(from + ((seed * 7919 + i * 104_729) % span))).join('');
      const max = DEFAULT_LIMITS.maxIdLength;
      const cases = [
        [id(1, 0x4e00, 0x5200, max), id(2, 0x4e00, 0x5200, max), id(3, 0x4e00, 0x5200, max)], // CJK: 3 bytes each, 768 bytes
        [id(4, 0x20000, 0xa6d0, (max * 3) / 4), id(5, 0x20000, 0xa6d0, (max * 3) / 4), id(6, 0x20000, 0xa6d0, (max * 3) / 4)], // 4 bytes each, 768 bytes
      ];
      for (const [i, [t, taskClass, repo]] of cases.entries()) {
        const params = obs(`long-${i}`, t!, 'pass', { taskClass: taskClass!, repo: repo! });
        expect((await ll.observe(params)).applied).toBe(true);
        expect((await ll.observe(params)).duplicate).toBe(true);
        expect((await store.stats([t!, taskClass!, repo!]))!.counters.runs).toBe(1);
        const d = await ll.recommend({ taskClass: taskClass!, repo: repo!, candidateTemplateIds: [t!], topK: 0, requestId: `long-${i}` });
        expect(d.decision.chosen).toBe(t);
      }
      // 256 characters of 4 bytes (3,096-byte index rows on PostgreSQL) are refused before the store sees them.
      const head = await store.head();
      const long = id(7, 0x20000, 0xa6d0, max);
      await expect(ll.observe(obs('too-long', long, 'pass', { taskClass: long, repo: long }))).rejects.toMatchObject({ name: 'InvalidArgument' });
      expect(await store.head()).toBe(head);
      const live = await store.derivedSnapshot();
      await store.rebuild();
      expect(await store.derivedSnapshot()).toEqual(live);
      await store.close();
    });

    test('a write whose rule refuses it leaves nothing behind', async () => {
      const store = await factory.create(policy);
      const ll = loop(store).learnloop;
      await ll.observe(obs('1', 't', 'pass'));
      const before = { head: await store.head(), derived: await store.derivedSnapshot() };
      await expect(ll.observe(obs('1', 't', 'fail'))).rejects.toMatchObject({ name: 'ObservationConflict' });
      await expect(ll.observe(obs('2', 'new@v1', 'pass', { decisionId: 'no-such-decision' }))).rejects.toMatchObject({ name: 'DecisionNotFound' });
      expect({ head: await store.head(), derived: await store.derivedSnapshot() }).toEqual(before);
      await ll.registerTemplate({ templateId: 'p@v2', parentTemplateId: 'p@v1', status: 'active', description: '' });
      const mid = { head: await store.head(), derived: await store.derivedSnapshot() };
      await expect(ll.registerTemplate({ templateId: 'p@v1', parentTemplateId: 'p@v2', status: 'active', description: '' })).rejects.toMatchObject({
        name: 'TemplateConflict',
      });
      expect({ head: await store.head(), derived: await store.derivedSnapshot() }).toEqual(mid);
      expect(before.head).toBe(2);
      await store.close();
    });

    test('refinement items: one open per template, decisions once, accepting registers the new version in the same commit', async () => {
      const store = await factory.create(policy);
      const { learnloop, refinements } = loop(store);
      await learnloop.observe(obs('1', 'base@v1', 'fail'));
      const { commit } = store;
      const open = (refinementId: string) =>
        commit.call(store, 5, async (view) => {
          const existing = (await view.refinement(refinementId)) ?? (await view.openRefinementFor('base@v1'));
          if (existing !== undefined) return { events: [], result: false };
          return { events: [{ type: 'refinement_opened', refinementId, templateId: 'base@v1', trigger: 't', summary: 's', evidence: { n: 1 } }], result: true };
        });
      const opened = await Promise.all([open('base@v1#1'), open('base@v1#2'), open('base@v1#1')]);
      expect(opened.filter((o) => o.result)).toHaveLength(1);
      const [item] = await refinements.list('open');
      // Accepting into an existing template would take it over: refused, and nothing is written.
      await learnloop.registerTemplate({ templateId: 'other@v1', parentTemplateId: '', status: 'active', description: 'unrelated' });
      const head = await store.head();
      await expect(refinements.accept({ refinementId: item!.refinementId, actor: 'a', reason: 'r', newTemplateId: 'other@v1', description: '' })).rejects.toMatchObject({
        name: 'TemplateConflict',
      });
      expect(await store.head()).toBe(head);
      expect((await store.template('other@v1'))!).toMatchObject({ parentTemplateId: '', description: 'unrelated' });
      const accepts = await Promise.allSettled(
        ['base@v2', 'base@v3', 'base@v4'].map((id) => refinements.accept({ refinementId: item!.refinementId, actor: 'a', reason: 'r', newTemplateId: id, description: '' })),
      );
      expect(accepts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      const winner = (accepts.find((a) => a.status === 'fulfilled') as PromiseFulfilledResult<{ template: { templateId: string } }>).value.template.templateId;
      expect((await store.templates()).map((t) => t.templateId)).toEqual(['base@v1', winner, 'other@v1'].sort());
      expect((await store.template(winner))!.parentTemplateId).toBe('base@v1');
      await store.close();
    });

    test('derived snapshots: none until written, then the last one written per name, beside the log and not in it', async () => {
      const store = await factory.create(policy);
      const { learnloop } = loop(store);
      await learnloop.observe(obs('1', 't', 'pass'));
      const stats = await store.stats(['t', '', '']);
      const log = await collect(store.events());
      expect(await store.loadSnapshot('dashboard')).toBeUndefined();
      const body = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
      await store.saveSnapshot('dashboard', 1, body);
      await store.saveSnapshot('other', 0, new Uint8Array(0));
      await store.saveSnapshot('dashboard', 1, body.subarray(0, 3));
      await store.saveSnapshot('dashboard', 2, body);
      const read = await store.loadSnapshot('dashboard');
      expect(read?.seq).toBe(2);
      expect(Buffer.from(read!.body).equals(Buffer.from(body))).toBe(true);
      expect(await store.loadSnapshot('other')).toMatchObject({ seq: 0 });
      expect((await store.loadSnapshot('other'))!.body.length).toBe(0);
      await expect(store.saveSnapshot('../x', 1, body)).rejects.toThrow(RangeError);
      // In pieces, taken as they come: the same body; pieces that fail part-way leave the last one written.
      const pieces = async function* (fail: boolean) {
        for (let at = 0; at < body.length; at += 30_000) {
          if (fail && at > 0) throw new Error('the snapshot could not be made');
          yield body.subarray(at, at + 30_000);
        }
      };
      await store.saveSnapshot('dashboard', 3, pieces(false));
      expect((await store.loadSnapshot('dashboard'))?.seq).toBe(3);
      expect(Buffer.from((await store.loadSnapshot('dashboard'))!.body).equals(Buffer.from(body))).toBe(true);
      await expect(store.saveSnapshot('dashboard', 4, pieces(true))).rejects.toThrow('could not be made');
      expect((await store.loadSnapshot('dashboard'))?.seq).toBe(3);
      // The log and the derived state are untouched.
      expect(await collect(store.events())).toEqual(log);
      expect(await store.stats(['t', '', ''])).toEqual(stats);
      const again = factory.reopen ? await factory.reopen(store, policy) : store;
      expect((await again.loadSnapshot('dashboard'))?.seq).toBe(3);
      await again.close();
    });

    if (factory.reopen) {
      test('a changed policy configuration rebuilds derived state on open', async () => {
        const store = await factory.create(policy);
        await loop(store).learnloop.observe(obs('1', 't', 'partial'));
        expect((await store.stats(['t', '', '']))!.evidence.reward).toBe(0.5);
        const again = await factory.reopen!(store, { ...policy, partialReward: 0.25 });
        expect((await again.stats(['t', '', '']))!.evidence.reward).toBe(0.25);
        await again.close();
      });
    }
  });
}


