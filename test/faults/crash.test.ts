import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { createRng } from '../../src/bandit/rng.js';
import { createClient } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { Outcome } from '../../src/index.js';
import { LmdbStore } from '../../src/store/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { startChildServer, stopChild } from './child.js';
import { observationEvents } from '../helpers/events.js';

const CLIENTS = 6;
const KILLS = 6;

/** The run every client sends for `runId`: content is a function of the id, so retries are identical. */
function runFor(runId: string, n: number) {
  return {
    runId,
    templateId: `t${n % 3}@v1`,
    taskClass: `class-${n % 4}`,
    repo: `org/repo-${n % 5}`,
    outcome: [Outcome.OUTCOME_PASS, Outcome.OUTCOME_FAIL, Outcome.OUTCOME_PARTIAL, Outcome.OUTCOME_TIMEOUT][n % 4]!,
    durationSeconds: 10 + (n % 50),
    attempt: 1 + (n % 2),
  };
}

describe('SIGKILL during concurrent Observes', () => {
  test(`every acknowledged run_id is present exactly once after ${KILLS} kills; derived state equals rebuild`, async () => {
    const db = tmpDir();
    const rng = createRng('crash-test');
    const acknowledged = new Set<string>();
    /** Sent but not acknowledged (the server died first): retried after the restart. */
    const pending = new Map<string, number>();
    let next = 0;
    let cutOff = 0;

    for (let round = 0; round < KILLS; round++) {
      const server = await startChildServer(db);
      const client = createClient(server.addr, { deadlineMs: 5000 });
      let dead = false;
      const send = async (runId: string, n: number) => {
        pending.set(runId, n);
        try {
          const res = await client.observe(runFor(runId, n));
          // A retry of a run the previous server applied just before dying is a duplicate; both are acks.
          expect(res.applied || res.duplicate).toBe(true);
          acknowledged.add(runId);
          pending.delete(runId);
        } catch (err) {
          // Only the kill may fail a call; anything else is a bug.
          expect(dead, `unexpected error before the kill: ${(err as Error).message}`).toBe(true);
          expect([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL, status.UNKNOWN]).toContain((err as ServiceError).code);
        }
      };
      // First the runs the previous server never acknowledged, with identical content.
      const retries = [...pending.entries()];
      await Promise.all(retries.map(([id, n]) => send(id, n)));
      expect([...pending.keys()]).toEqual([]);

      const workers = Array.from({ length: CLIENTS }, async (_, w) => {
        while (!dead) {
          const n = next++;
          await send(`run-${w}-${n}`, n);
        }
      });
      // A seeded random moment: long enough for many commits, varied enough to land mid-write.
      await new Promise((r) => setTimeout(r, 150 + Math.floor(rng.next() * 450)));
      dead = true;
      server.child.kill('SIGKILL');
      expect(await server.exited).toBe('SIGKILL');
      await Promise.all(workers);
      cutOff += pending.size;
      client.close();
    }
    expect(acknowledged.size).toBeGreaterThan(KILLS * 20);
    // The kills landed while calls were in flight (otherwise nothing here was tested).
    expect(cutOff).toBeGreaterThan(0);

    // A final clean start retries the last unacknowledged runs, then everything is checked offline.
    const last = await startChildServer(db);
    const client = createClient(last.addr);
    for (const [id, n] of pending) {
      const res = await client.observe(runFor(id, n));
      expect(res.applied || res.duplicate).toBe(true);
      acknowledged.add(id);
    }
    client.close();
    await stopChild(last);

    const store = await LmdbStore.open(db, { policy: loadConfig({}, { db }).policy });
    try {
      const seen = new Map<string, number>();
      let observations = 0;
      for (const e of await observationEvents(store)) {
        observations++;
        const id = e.content.runId;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
      // Exactly once: every acknowledged run is in the log once, and nothing is in it twice.
      for (const id of acknowledged) expect(seen.get(id), id).toBe(1);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
      // Nothing else got in (each sent run was acknowledged in the end).
      expect(seen.size).toBe(acknowledged.size);
      // Nothing half-applied: the counters saw each logged observation once...
      let runsCounted = 0;
      for (const t of await store.templates()) runsCounted += (await store.stats([t.templateId, '', '']))?.counters.runs ?? 0;
      expect(runsCounted).toBe(observations);
      // ...and every derived record is what a replay of the log gives.
      const live = await store.derivedSnapshot();
      await store.rebuild();
      expect(await store.derivedSnapshot()).toEqual(live);
    } finally {
      await store.close();
    }
  });
});
