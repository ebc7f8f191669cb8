/**
 * Writing the dashboard's snapshot does not hold the process up: the snapshot is made a piece at a
 * time, each when the store asks for it, so a gRPC call beside the dashboard (learnloop serve
 * --http-port) is answered while one is being written, and the snapshot written is whole.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { LogFold } from '../../src/dashboard/fold.js';
import { buildDashboard, type Folds } from '../../src/dashboard/model.js';
import { dashboardJson, startDashboard } from '../../src/dashboard/server.js';
import { readSnapshot, snapshotOf } from '../../src/dashboard/snapshot.js';
import { learnLoopSource } from '../../src/dashboard/source.js';
import { Outcome } from '../../src/gen/learnloop/v1/learnloop.js';
import { startTestServer } from '../helpers/server.js';

const AS_OF = Date.parse('2026-03-01T23:59:59.999Z');
const run = (i: number) => ({
  runId: `run-${i}`,
  templateId: `t${i % 3}@v1`,
  taskClass: `class-${i % 4}`,
  repo: `org/repo-${i % 5}`,
  taskId: `task-${i >> 1}`,
  attempt: 1 + (i % 2),
  outcome: i % 3 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL,
  failureReason: i % 3 ? '' : `npm test failed: case ${i % 4}`,
  durationSeconds: 10 + (i % 50),
  finishedAtMs: AS_OF - (i + 1) * 3_600_000,
});

describe('writing the dashboard snapshot', () => {
  test('a snapshot is made a piece at a time, each when asked for: taking its head reads none of the fold', async () => {
    const { server, client } = await startTestServer();
    for (let i = 0; i < 40; i++) await client.observe(run(i));
    const { source } = learnLoopSource(compose(server.store, { limits: DEFAULT_LIMITS }, () => AS_OF));
    const folds: Folds = {};
    const model = await buildDashboard(source, { rules: { version: 1, rules: [] }, asOfMs: AS_OF }, folds);
    const fold = folds.current!;
    // Count the parts the snapshot makes from the fold.
    let made = 0;
    const parts = fold.snapshotParts.bind(fold);
    fold.snapshotParts = () => {
      const p = parts();
      return { ...p, parts: p.parts.map((x) => ({ name: x.name, value: () => (made++, x.value()) })) };
    };
    const pieces = snapshotOf(source.policy, fold, model).body[Symbol.asyncIterator]();
    // The head frame (length, then value) and the fold's small part (length, then value).
    for (let i = 0; i < 4; i++) expect((await pieces.next()).done).toBe(false);
    expect(made).toBe(0);
    // Then each part when its frame is asked for (the fixture's parts are each one frame: its length, then its value).
    for (let n = 1; !(await pieces.next()).done; n++) {
      expect(made).toBe(n);
      expect((await pieces.next()).done).toBe(false);
    }
    expect(made).toBeGreaterThan(20);
  });

  test('a gRPC call beside the dashboard is answered while its snapshot is being written, and the snapshot is whole', async () => {
    const { server, client } = await startTestServer();
    for (let i = 0; i < 40; i++) await client.observe(run(i));
    const store = server.store;
    const save = store.saveSnapshot.bind(store);
    const order: string[] = [];
    // The store takes the first piece, then a gRPC call is made and answered, then the store takes the rest.
    store.saveSnapshot = async (name, seq, body) => {
      const it = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      const first = await it.next();
      order.push('first piece taken');
      const answer = await client.observe(run(100)).then((r) => `applied ${r.applied}`, (err: Error) => err.message);
      order.push(`gRPC call answered: ${answer}`);
      await save(name, seq, (async function* () {
        if (first.done !== true) yield first.value;
        for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
      })());
      order.push('snapshot written');
    };
    const { source } = learnLoopSource(compose(store, { limits: DEFAULT_LIMITS }, () => AS_OF));
    const base = { rules: { version: 1, rules: [] }, host: '127.0.0.1', port: 0, token: '', asOfMs: AS_OF, now: () => AS_OF, warm: false };
    const head = await store.head();
    const dash = await startDashboard({ ...base, source, snapshotEvery: 1 });
    try {
      const before = await (await fetch(`${dash.url}/api/v1/dashboard`)).text();
      // The build wrote a snapshot after it (the fold moved more than snapshotEvery).
      await expect.poll(() => order.at(-1), { timeout: 10_000 }).toBe('snapshot written');
      expect(order).toEqual(['first piece taken', 'gRPC call answered: applied true', 'snapshot written']);
      // Of the log before the call; its fold restores and catches up on the call's event.
      const snap = await readSnapshot(source);
      expect(snap?.seq).toBe(head);
      expect(dashboardJson(snap!.model)).toBe(before);
      const m = await buildDashboard(source, { rules: base.rules, asOfMs: AS_OF }, { restore: async () => LogFold.restore(source.policy, await snap!.fold()) });
      expect(m.eventsFolded).toBe(1);
      expect(dashboardJson(m)).toBe(dashboardJson(await buildDashboard(source, { rules: base.rules, asOfMs: AS_OF })));
    } finally {
      await dash.close();
    }
  });
});
