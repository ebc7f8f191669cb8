import { status, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { expect, test } from 'vitest';
import { createClient, errorCode } from '../../src/client.js';
import { Outcome } from '../../src/index.js';
import { startChildServer, stopChild } from '../faults/child.js';
import { health } from '../helpers/health.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';
import { expectLiveEqualsRebuild } from './store-helpers.js';

// PostgreSQL out of space answers SQLSTATE 53100 (disk_full, "could not extend file ...: No space
// left on device"). A real one needs the database on a small mount (root); the review that found
// this filled a 12 MB tmpfs tablespace. Here a trigger raises the same error on every append, so
// the test runs wherever PostgreSQL does, through the same server, pool and status mapping.
const FULL = `CREATE FUNCTION learnloop.no_space() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full', HINT = 'Check free disk space.'; END $$;
  CREATE TRIGGER no_space BEFORE INSERT ON learnloop.events FOR EACH STATEMENT EXECUTE FUNCTION learnloop.no_space()`;
const FREED = 'DROP TRIGGER no_space ON learnloop.events; DROP FUNCTION learnloop.no_space()';

async function sql(url: string, text: string): Promise<pg.QueryResult> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

const run = (i: number) => ({ runId: `run-${i}`, templateId: 't0@v1', taskClass: 'c', repo: 'r', outcome: Outcome.OUTCOME_PASS });

describePg('PostgreSQL out of space under several replicas', () => {
  test('writes answer RESOURCE_EXHAUSTED LL_STORAGE_FULL (not INTERNAL), reads and health keep working, nothing is half written, and writes resume once space returns', async () => {
    const db = await freshPgDatabase();
    const servers = [await startChildServer(db), await startChildServer(db)];
    const [a, b] = servers.map((s) => createClient(s.addr, { deadlineMs: 60_000 }));
    try {
      expect((await a!.observe(run(1))).applied).toBe(true);
      const head = async () => (await sql(db, 'SELECT max(seq) AS head, count(*) AS n FROM learnloop.events')).rows[0];
      const before = await head();
      await sql(db, FULL);
      for (const write of [() => a!.observe(run(2)), () => b!.observe(run(2)), () => b!.recommend({ taskClass: 'c', repo: 'r', candidateTemplateIds: ['t0@v1', 't1@v1'] })]) {
        const err = (await write().then(() => undefined, (e: unknown) => e)) as ServiceError;
        expect([err.code, errorCode(err)]).toEqual([status.RESOURCE_EXHAUSTED, 'LL_STORAGE_FULL']);
        expect(err.details).toMatch(/^disk full: the database cannot write \(could not extend file .*No space left on device\)/);
      }
      expect((await b!.getScores({ taskClass: 'c', repo: 'r' })).scorecards.map((s) => s.runs)).toEqual([1]);
      // Health stays SERVING, past the servers' once-a-second probe: every replica shares the full
      // database, so none could take the writes instead, and reads still work (docs/deploy.md).
      await new Promise((r) => setTimeout(r, 1500));
      for (const s of servers) expect([await health(s.addr), await health(s.addr, 'learnloop.v1.LearnLoopService')]).toEqual(['SERVING', 'SERVING']);
      expect(await head()).toEqual(before);
      await sql(db, FREED);
      expect((await b!.observe(run(2))).applied).toBe(true);
      expect((await a!.observe(run(2))).duplicate).toBe(true);
    } finally {
      for (const c of [a!, b!]) c.close();
      for (const s of servers) await stopChild(s);
    }
    await expectLiveEqualsRebuild(db, { observations: 2 });
  });
});
