import pg from 'pg';
import { expect, test } from 'vitest';
import { Unavailable } from '../../src/bandit/errors.js';
import { Connection } from '../../src/store/postgres/connection.js';
import { eventually } from '../helpers/health.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

/** The append lock's key (connection.ts), held here by another session so a write waits on it. */
const APPEND_LOCK = 0x6c6c_6170;

describePg('PostgreSQL connections', () => {
  // A DBA's pg_cancel_backend, statement_timeout or lock_timeout cancels a statement (57014, 55P03).
  // It used to answer INTERNAL, and a write cancelled while it waited for the append lock went back
  // to the pool inside its aborted transaction, so the calls after it on that connection failed too
  // (25P02 "current transaction is aborted"): 30 cancels under load failed 668 of 3,000 Observes.
  test.each([
    ['pg_cancel_backend', undefined],
    ['lock_timeout', '100ms'],
  ])('a write cancelled by %s while it waits for the append lock fails UNAVAILABLE, and the connection serves the next calls', async (how, lockTimeout) => {
    const url = await freshPgDatabase();
    const [holder, admin] = [new pg.Client(url), new pg.Client(url)];
    await holder.connect();
    await admin.connect();
    // One pooled connection, so the next calls get the cancelled one.
    const conn = new Connection(lockTimeout === undefined ? url : `${url}?options=${encodeURIComponent(`-c lock_timeout=${lockTimeout}`)}`, { max: 1 });
    try {
      await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK})`);
      const waiting = conn.write((tx) => tx.query('SELECT 1'));
      waiting.catch(() => {});
      if (how === 'pg_cancel_backend') {
        // Asked outside the holder's transaction, which sees pg_stat_activity as of its start.
        await eventually('the write waits for the lock', 5_000, async () => {
          const { rows } = await admin.query("SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()");
          return rows.some((r) => r.cancelled === true);
        });
      }
      const err = await waiting.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Unavailable);
      expect((err as Error).message).toMatch(/^database unavailable: canceling statement due to (user request|lock timeout)/);
      await holder.query('COMMIT');
      expect((await conn.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect((await conn.write((tx) => tx.query('SELECT 2 AS two'))).rows).toEqual([{ two: 2 }]);
      expect((await conn.read((tx) => tx.query('SELECT 3 AS three'))).rows).toEqual([{ three: 3 }]);
    } finally {
      await conn.end();
      await holder.end();
      await admin.end();
    }
  });
});
