import { status, type ServiceError } from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import { createClient, type LearnLoopClient } from '../../src/client.js';
import { Outcome } from '../../src/index.js';
import { startPgCluster } from '../../bench/pg-cluster.js';
import { startChildServer, stopChild, type ChildServer } from '../faults/child.js';
import { eventually, health } from '../helpers/health.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/compose.js';
import { expectLiveEqualsRebuild } from './store-helpers.js';

// Several `learnloop serve --db postgres://...` processes on one database, as behind a load
// balancer. Writes from every replica serialise on one advisory lock and each call reads the log's
// head, so what one replica acknowledged the next call on any other sees.

const run = (i: number, outcome = i % 3 ? Outcome.OUTCOME_PASS : Outcome.OUTCOME_FAIL) => ({
  runId: `run-${i}`,
  templateId: `t${i % 2}@v1`,
  taskClass: 'c',
  repo: 'r',
  outcome,
});

const codeOf = (e: unknown) => (e as ServiceError).code;

async function replicas(db: string, n: number): Promise<{ servers: ChildServer[]; clients: LearnLoopClient[]; stop(): Promise<void> }> {
  const servers = await Promise.all(Array.from({ length: n }, () => startChildServer(db)));
  // Exactly once and read-your-writes are under test here, not latency: a busy CI machine may take a while.
  const clients = servers.map((s) => createClient(s.addr, { deadlineMs: 60_000 }));
  return {
    servers,
    clients,
    async stop() {
      for (const c of clients) c.close();
      for (const s of servers) await stopChild(s);
    },
  };
}

describePg('several replicas on one PostgreSQL database', () => {
  test('duplicate and conflicting Observes sent to different replicas at once apply exactly once', async () => {
    const db = await freshPgDatabase();
    const { clients: [a, b], stop } = await replicas(db, 2);
    try {
      // Runs 0..299 go to A, 200..499 to B: runs 200..299 reach both at about the same time.
      const results = await Promise.all([
        ...Array.from({ length: 300 }, (_, i) => a!.observe(run(i))),
        ...Array.from({ length: 300 }, (_, i) => b!.observe(run(200 + i))),
      ]);
      expect(results.filter((r) => r.applied)).toHaveLength(500);
      expect(results.filter((r) => r.duplicate)).toHaveLength(100);
      // The same run_id with different outcomes, to A and B at once: one wins, the other is a conflict.
      const conflicting = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => [a!.observe(run(1000 + i, Outcome.OUTCOME_PASS)), b!.observe(run(1000 + i, Outcome.OUTCOME_FAIL))]).flat(),
      );
      for (let i = 0; i < 50; i++) {
        const pair = [conflicting[2 * i]!, conflicting[2 * i + 1]!];
        expect(pair.filter((p) => p.status === 'fulfilled' && p.value.applied)).toHaveLength(1);
        const rejected = pair.filter((p) => p.status === 'rejected');
        expect(rejected).toHaveLength(1);
        expect(codeOf((rejected[0] as PromiseRejectedResult).reason)).toBe(status.ALREADY_EXISTS);
      }
      for (const c of [a!, b!]) {
        const scores = await c.getScores({ taskClass: 'c', repo: 'r' });
        expect(scores.scorecards.reduce((s, x) => s + x.runs, 0)).toBe(550);
      }
    } finally {
      await stop();
    }
    await expectLiveEqualsRebuild(db, { observations: 550 });
  });

  test('an Observe acknowledged by A is in the very next Recommend on B', async () => {
    const db = await freshPgDatabase();
    const { clients: [a, b], stop } = await replicas(db, 2);
    try {
      const req = { taskClass: 'c', repo: 'r', candidateTemplateIds: ['t0@v1', 't1@v1'] };
      const observations = async () => (await b!.recommend(req)).ranking.find((r) => r.templateId === 't0@v1')!.posterior!.observations;
      // B's caches are warm before each write, so a stale one would show.
      let before = await observations();
      for (let i = 0; i < 30; i++) {
        await a!.observe({ ...run(2 * i), templateId: 't0@v1' });
        const after = await observations();
        expect(after).toBe(before + 1);
        before = after;
        // And the other way round.
        await b!.observe({ ...run(2 * i + 1), templateId: 't1@v1' });
        const seenByA = (await a!.getScores({ taskClass: 'c', repo: 'r' })).scorecards.find((s) => s.templateId === 't1@v1')!.runs;
        expect(seenByA).toBe(i + 1);
      }
    } finally {
      await stop();
    }
  });

  test('kill -9 of one replica under load loses nothing it acknowledged', async () => {
    const db = await freshPgDatabase();
    const { servers, clients: [a, b], stop } = await replicas(db, 2);
    const acked: number[] = [];
    let next = 0;
    let stopLoad = false;
    // 16 calls in flight per replica until told to stop; failures (A's, once killed) are expected.
    const load = (c: LearnLoopClient) =>
      Promise.all(
        Array.from({ length: 16 }, async () => {
          while (!stopLoad) {
            const i = next++;
            try {
              const r = await c.observe(run(i));
              if (r.applied || r.duplicate) acked.push(i);
            } catch {
              if (c === a) return;
            }
          }
        }),
      );
    try {
      const running = [load(a!), load(b!)];
      await eventually('some writes acknowledged', 10_000, async () => acked.length > 200);
      servers[0]!.child.kill('SIGKILL');
      await servers[0]!.exited;
      const atKill = acked.length;
      await eventually('B keeps acknowledging after A died', 10_000, async () => acked.length > atKill + 200);
      stopLoad = true;
      await Promise.all(running);
      // A fresh replica finds every acknowledged run recorded: sending it again is a duplicate.
      const c = await startChildServer(db);
      const cc = createClient(c.addr, { deadlineMs: 60_000 });
      try {
        const again = await Promise.all(acked.map((i) => cc.observe(run(i))));
        expect(again.filter((r) => !r.duplicate)).toEqual([]);
        const runs = (await cc.getScores({ taskClass: 'c', repo: 'r' })).scorecards.reduce((s, x) => s + x.runs, 0);
        // Calls A had in flight when it died may or may not have committed; none counts twice.
        expect(runs).toBeGreaterThanOrEqual(acked.length);
        expect(runs).toBeLessThanOrEqual(next);
      } finally {
        cc.close();
        await stopChild(c);
      }
    } finally {
      stopLoad = true;
      await stop();
    }
    await expectLiveEqualsRebuild(db);
  });

  test('a replica started with other policy flags rebuilds the shared state; the replicas under the old policy then write nothing, so the state stays one policy\'s', async () => {
    const db = await freshPgDatabase();
    const a = await startChildServer(db);
    const ca = createClient(a.addr, { deadlineMs: 60_000 });
    const partial = (i: number) => run(i, Outcome.OUTCOME_PARTIAL);
    try {
      for (let i = 0; i < 5; i++) expect((await ca.observe(partial(i))).applied).toBe(true);
      // B's start rebuilds the derived state under partial reward 0.3; A still projects under 0.5.
      const b = await startChildServer(db, ['--partial-reward', '0.3']);
      const cb = createClient(b.addr, { deadlineMs: 60_000 });
      try {
        const err = (await ca.observe(partial(5)).then(() => undefined, (e: unknown) => e)) as ServiceError;
        expect(err.code).toBe(status.UNAVAILABLE);
        expect(err.details).toMatch(/^database unavailable: its derived state is under another policy .*restart this replica with the same policy flags/);
        expect(codeOf(await ca.recommend({ taskClass: 'c', repo: 'r', candidateTemplateIds: ['t0@v1'] }).catch((e: unknown) => e))).toBe(status.UNAVAILABLE);
        expect((await cb.observe(partial(5))).applied).toBe(true);
      } finally {
        cb.close();
        await stopChild(b);
      }
    } finally {
      ca.close();
      await stopChild(a);
    }
    // Under the policy the database holds (B's), live state equals a rebuild: no record mixes both.
    const store = await openStore(db, { policy: loadConfig({}, { db }).policy, onPolicyChange: 'adopt' });
    try {
      expect(store.policy.partialReward).toBe(0.3);
      const live = await store.derivedSnapshot();
      await store.rebuild();
      expect(await store.derivedSnapshot()).toEqual(live);
    } finally {
      await store.close();
    }
  });

  test('a replica under another policy than the stored one reports NOT_SERVING (whole server and service) within seconds, and SERVING again without a restart once the stored policy is its own', async () => {
    const db = await freshPgDatabase();
    const { servers: [a], clients: [ca], stop } = await replicas(db, 1);
    // Both names a balancer may check: the server as a whole, and the service.
    const both = async (addr: string) => [await health(addr), await health(addr, 'learnloop.v1.LearnLoopService')];
    const reports = (addr: string, want: string) =>
      eventually(`${addr} reports ${want}`, 10_000, async () => (await both(addr)).every((s) => s === want));
    try {
      expect((await ca!.observe(run(1))).applied).toBe(true);
      expect(await both(a!.addr)).toEqual(['SERVING', 'SERVING']);
      // B rebuilds under partial reward 0.3: A's writes are refused from now on, so it must leave the balancer.
      const b = await startChildServer(db, ['--partial-reward', '0.3']);
      try {
        await reports(a!.addr, 'NOT_SERVING');
        expect(await both(b.addr)).toEqual(['SERVING', 'SERVING']);
        expect(codeOf(await ca!.observe(run(2)).catch((e: unknown) => e))).toBe(status.UNAVAILABLE);
        // C, under A's policy, rebuilds it back: A serves again by itself, and B leaves.
        const c = await startChildServer(db);
        try {
          await reports(a!.addr, 'SERVING');
          await reports(b.addr, 'NOT_SERVING');
          expect((await ca!.observe(run(2))).applied).toBe(true);
        } finally {
          await stopChild(c);
        }
      } finally {
        await stopChild(b);
      }
    } finally {
      await stop();
    }
    await expectLiveEqualsRebuild(db, { observations: 2 });
  });

  test('a PostgreSQL restart: calls fail UNAVAILABLE and health is NOT_SERVING meanwhile; replicas recover by themselves', async () => {
    // A cluster of its own: stopping the shared one would fail the other files' tests.
    const cluster = await startPgCluster({ fsync: false });
    try {
      const db = await freshPgDatabase(cluster.url);
      const { servers, clients: [a, b], stop } = await replicas(db, 2);
      try {
        expect((await a!.observe(run(1))).applied).toBe(true);
        expect(await health(servers[1]!.addr)).toBe('SERVING');
        await cluster.stopServer();
        for (const c of [a!, b!]) {
          const err = await c.observe(run(2)).then(() => undefined, (e: unknown) => e);
          expect(codeOf(err)).toBe(status.UNAVAILABLE);
          expect((err as ServiceError).details).toMatch(/database unavailable/);
          expect(codeOf(await c.recommend({ candidateTemplateIds: ['t0@v1'] }).catch((e: unknown) => e))).toBe(status.UNAVAILABLE);
        }
        for (const s of servers) await eventually(`${s.addr} reports NOT_SERVING`, 10_000, async () => (await health(s.addr)) === 'NOT_SERVING');
        await cluster.startServer();
        for (const s of servers) await eventually(`${s.addr} reports SERVING again`, 20_000, async () => (await health(s.addr)) === 'SERVING');
        // Same processes, no restart: both write and read again, and what failed was not recorded.
        expect((await b!.observe(run(2))).applied).toBe(true);
        expect((await a!.observe(run(2))).duplicate).toBe(true);
        const scores = await a!.getScores({ taskClass: 'c', repo: 'r' });
        expect(scores.scorecards.reduce((s, x) => s + x.runs, 0)).toBe(2);
        expect((await b!.recommend({ taskClass: 'c', repo: 'r', candidateTemplateIds: ['t0@v1', 't1@v1'] })).ranking).toHaveLength(2);
      } finally {
        await stop();
      }
    } finally {
      await cluster.destroy();
    }
  });
});
