import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { LearnLoop, type ObserveParams } from '../../src/service/learnloop.js';
import { MemoryStore } from '../../src/store/memory-store.js';

const run = (over: Partial<ObserveParams>): ObserveParams => ({
  runId: 'r',
  decisionId: '',
  templateId: 't@v1',
  taskClass: 'bug-fix',
  repo: 'org/app',
  taskId: '',
  attempt: 1,
  outcome: 'pass',
  retries: 0,
  durationSeconds: 60,
  failureReason: '',
  finishedAtMs: Date.parse('2026-03-01T00:00:00Z'),
  agent: '',
  model: '',
  ...over,
});

describe('scorecards read the log incrementally', () => {
  test('a later run shows in the next call, per segment, with task-level retry and first-try rates', async () => {
    const store = await MemoryStore.open({ policy: DEFAULT_POLICY_CONFIG });
    const ll = new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => Date.parse('2026-03-02T00:00:00Z') });
    await ll.observe(run({ runId: 'a1', taskId: 'A', attempt: 1, outcome: 'fail' }));
    const first = (await ll.scores('', '')).find((c) => c.templateId === 't@v1')!;
    expect(first.metrics).toMatchObject({ runs: 1, judged: 1, passes: 0, tasks: 1, retriedTasks: 0 });
    // The same task's second attempt: one task, retried, not a first-try pass.
    await ll.observe(run({ runId: 'a2', taskId: 'A', attempt: 2, outcome: 'pass' }));
    await ll.observe(run({ runId: 'b1', taskId: 'B', attempt: 1, outcome: 'pass', repo: 'org/web' }));
    const all = (await ll.scores('', '')).find((c) => c.templateId === 't@v1')!;
    expect(all.metrics).toMatchObject({ runs: 3, passes: 2, tasks: 2, retriedTasks: 1, judgedTasks: 2, firstTryPasses: 1 });
    expect(all.retryRate).toBe(0.5);
    const app = (await ll.scores('', 'org/app')).find((c) => c.templateId === 't@v1')!;
    expect(app.metrics).toMatchObject({ runs: 2, tasks: 1, retriedTasks: 1, firstTryPasses: 0 });
    const web = (await ll.scores('bug-fix', 'org/web')).find((c) => c.templateId === 't@v1')!;
    expect(web.metrics).toMatchObject({ runs: 1, passes: 1 });
    await store.close();
  });
});

describe('a new version against its parent in scores', () => {
  test('vsParent: both pass rates in the segment and new − parent with the Newcombe interval report outcomes uses', async () => {
    const store = await MemoryStore.open({ policy: DEFAULT_POLICY_CONFIG });
    const ll = new LearnLoop({ store, limits: DEFAULT_LIMITS, now: () => Date.parse('2026-03-02T00:00:00Z') });
    await ll.registerTemplate({ templateId: 't@v1', parentTemplateId: '', status: 'active', description: '' });
    await ll.registerTemplate({ templateId: 't@v2', parentTemplateId: 't@v1', status: 'active', description: '' });
    // Parent: 1 pass in 8; new version: 6 in 8.
    for (let i = 0; i < 8; i++) {
      await ll.observe(run({ runId: `p${i}`, templateId: 't@v1', outcome: i < 1 ? 'pass' : 'fail' }));
      await ll.observe(run({ runId: `c${i}`, templateId: 't@v2', outcome: i < 6 ? 'pass' : 'fail' }));
    }
    const cards = await ll.scores('', '');
    expect(cards.find((c) => c.templateId === 't@v1')!.vsParent).toBeUndefined();
    const v2 = cards.find((c) => c.templateId === 't@v2')!.vsParent!;
    expect(v2.parentTemplateId).toBe('t@v1');
    expect(v2.parent).toMatchObject({ x: 1, n: 8 });
    expect(v2.child).toMatchObject({ x: 6, n: 8 });
    expect(v2.change.estimate).toBeCloseTo(5 / 8, 12);
    // Newcombe's hybrid score interval for 6/8 − 1/8 (Newcombe 1998, method 10): about 0.17 to 0.83.
    expect(v2.change.low).toBeGreaterThan(0.1);
    expect(v2.change.low).toBeLessThan(0.25);
    expect(v2.change.high).toBeGreaterThan(0.75);
    expect(v2.change.credible).toBe(true);
    // Another segment has no runs of either: no information, an interval of −1 to 1.
    const none = (await ll.scores('other', '')).find((c) => c.templateId === 't@v2')!.vsParent!;
    expect([none.change.low, none.change.high, none.change.credible]).toEqual([-1, 1, false]);
    await store.close();
  });
});
