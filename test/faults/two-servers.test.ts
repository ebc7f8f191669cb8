import { open } from 'lmdb';
import { describe, expect, test } from 'vitest';
import { createClient } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { Outcome } from '../../src/index.js';
import { LmdbStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { spawnLearnLoop, startChildServer, stopChild } from './child.js';
import { observationEvents } from '../helpers/events.js';

// Decision: several server processes may share one folder. LMDB serialises writers across
// processes and every read-modify-write runs inside one write transaction, so each process sees
// the others' writes and a run_id is recorded once whichever process receives it. Each process
// needs its own gRPC port; a second one on a taken port refuses to start and says why.
describe('two server processes on the same folder', () => {
  test('both serve; overlapping run_ids are recorded once; each sees the other\'s writes', async () => {
    const db = tmpDir();
    const a = await startChildServer(db);
    const b = await startChildServer(db);
    const ca = createClient(a.addr);
    const cb = createClient(b.addr);
    try {
      const run = (i: number) => ({ runId: `run-${i}`, templateId: `t${i % 2}@v1`, taskClass: 'c', repo: 'r', outcome: i % 3 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL });
      // Runs 0..299 go to A, 200..499 to B: runs 200..299 reach both at about the same time.
      const results = await Promise.all([
        ...Array.from({ length: 300 }, (_, i) => ca.observe(run(i))),
        ...Array.from({ length: 300 }, (_, i) => cb.observe(run(200 + i))),
      ]);
      expect(results.filter((r) => r.applied)).toHaveLength(500);
      expect(results.filter((r) => r.duplicate)).toHaveLength(100);
      // Each process reads what the other wrote.
      for (const c of [ca, cb]) {
        const scores = await c.getScores({ taskClass: 'c', repo: 'r' });
        expect(scores.scorecards.reduce((s, x) => s + x.runs, 0)).toBe(500);
      }
      const req = { taskClass: 'c', repo: 'r', candidateTemplateIds: ['t0@v1', 't1@v1'] };
      const rec = await cb.recommend(req);
      expect(rec.ranking.every((r) => r.posterior!.observations > 200)).toBe(true);
      // B's cached evidence follows a write made through A.
      const t0 = (res: typeof rec) => res.ranking.find((r) => r.templateId === 't0@v1')!.posterior!;
      await ca.observe({ ...run(1000), templateId: 't0@v1' });
      const after = await cb.recommend(req);
      expect(t0(after).alpha + t0(after).beta).toBeGreaterThan(t0(rec).alpha + t0(rec).beta);
    } finally {
      ca.close();
      cb.close();
      await stopChild(a);
      await stopChild(b);
    }
    const store = await LmdbStore.open(db, { policy: loadConfig({}, { db }).policy });
    try {
      const live = await store.derivedSnapshot();
      await store.rebuild();
      expect(await store.derivedSnapshot()).toEqual(live);
    } finally {
      await store.close();
    }
  });

  test('learnloop rebuild beside a running server: both keep reading and writing every kind of record', async () => {
    const db = tmpDir();
    const a = await startChildServer(db);
    const ca = createClient(a.addr);
    const req = (repo: string) => ({ taskClass: 'c', repo, candidateTemplateIds: ['t0@v1', 't1@v1', 't2@v1'] });
    const observeAll = (from: number, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          ca.observe({
            runId: `run-${from + i}`,
            templateId: `t${i % 3}@v1`,
            taskClass: 'c',
            repo: `r${i % 4}`,
            outcome: [Outcome.OUTCOME_PASS, Outcome.OUTCOME_FAIL, Outcome.OUTCOME_PARTIAL, Outcome.OUTCOME_TIMEOUT][i % 4]!,
            retries: i % 2,
            failureReason: i % 4 === 1 ? 'tests failed' : '',
          }),
        ),
      );
    try {
      await observeAll(0, 120);
      await ca.recommend(req('r0'));
      // Rebuild in another process while the server keeps taking writes.
      const rebuild = spawnLearnLoop(['rebuild', '--db', db]);
      const [code] = await Promise.all([new Promise((resolve) => rebuild.once('exit', resolve)), observeAll(120, 120)]);
      expect(code).toBe(0);
      // Shapes the server writes after the rebuild, new ones included: a parent, a decision, a duplicate.
      await ca.registerTemplate({ templateId: 't3@v2', parentTemplateId: 't2@v1' });
      const decision = await ca.recommend({ ...req('r9'), candidateTemplateIds: ['t0@v1', 't3@v2'] });
      await ca.observe({ runId: 'via-decision', decisionId: decision.decisionId, outcome: Outcome.OUTCOME_PASS });
      expect((await ca.observe({ runId: 'run-5', templateId: 't2@v1', taskClass: 'c', repo: 'r1', outcome: Outcome.OUTCOME_FAIL, retries: 1, failureReason: 'tests failed' })).duplicate).toBe(true);
      const scores = await ca.getScores({ taskClass: 'c' });
      expect(scores.scorecards.reduce((s, x) => s + x.runs, 0)).toBe(241);
    } finally {
      ca.close();
      await stopChild(a);
    }
    const store = await LmdbStore.open(db, { policy: loadConfig({}, { db }).policy });
    try {
      expect(await observationEvents(store)).toHaveLength(241);
      const live = await store.derivedSnapshot();
      await store.rebuild();
      expect(await store.derivedSnapshot()).toEqual(live);
    } finally {
      await store.close();
    }
  });

  test('a second server on a port already in use refuses to start, naming the port', async () => {
    const a = await startChildServer(tmpDir());
    try {
      const second = spawnLearnLoop(['serve', '--port', String(a.port), '--db', tmpDir(), '--log-level', 'warn']);
      let err = '';
      second.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => second.once('exit', (c) => resolve(c)));
      expect(code).not.toBe(0);
      expect(err).toContain(`cannot listen on 127.0.0.1:${a.port}`);
    } finally {
      await stopChild(a);
    }
  });

  test('a second server under another policy refuses to start and changes nothing; a start on a busy port writes nothing', async () => {
    const db = tmpDir();
    const a = await startChildServer(db);
    const ca = createClient(a.addr);
    try {
      await ca.observe({ runId: 'r1', templateId: 't', outcome: Outcome.OUTCOME_PARTIAL });
      const look = async (folder: string) => {
        const store = await LmdbStore.open(folder, { policy: loadConfig({}, { db: folder }).policy, onPolicyChange: 'adopt' });
        try {
          return { head: await store.head(), policy: store.policy, derived: await store.derivedSnapshot() };
        } finally {
          await store.close();
        }
      };
      const before = await look(db);
      await expect(startChildServer(db, ['--partial-reward', '1.0'])).rejects.toThrow(/in use by learnloop process \d+ under another policy/);
      expect(await look(db)).toEqual(before);
      // The first server is untouched and still serving under its policy.
      expect((await ca.getScores({})).scorecards.find((x) => x.templateId === 't')!.runs).toBe(1);
      // Same policy: a second server may share the folder.
      const b = await startChildServer(db);
      await stopChild(b);
      // A start that fails on a busy port writes nothing, not even the folder's policy.
      const fresh = tmpDir();
      const busy = spawnLearnLoop(['serve', '--port', String(a.port), '--db', fresh, '--log-level', 'warn', '--partial-reward', '1.0']);
      const code = await new Promise<number | null>((resolve) => busy.once('exit', resolve));
      expect(code).not.toBe(0);
      const raw = open({ path: fresh });
      expect(raw.openDB('meta', {}).get('policy')).toBeUndefined();
      expect(raw.openDB('meta', {}).get('head')).toBeUndefined();
      await raw.close();
    } finally {
      ca.close();
      await stopChild(a);
    }
    // Once the first server has stopped, the other policy may take the folder (and rebuilds it).
    const c = await startChildServer(db, ['--partial-reward', '1.0']);
    const cc = createClient(c.addr);
    try {
      expect((await cc.getScores({})).scorecards.find((x) => x.templateId === 't')!.posterior!.observations).toBe(1);
    } finally {
      cc.close();
      await stopChild(c);
    }
  });
});
