import pg from 'pg';
import { expect, test } from 'vitest';
import { InvariantViolation, Unavailable } from '../../src/bandit/errors.js';
import { Connection } from '../../src/store/postgres/connection.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/postgres/migrations.js';
import { freePort } from '../faults/child.js';
import { describePg, freshPgDatabase } from '../helpers/pg.js';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describePg('PostgreSQL schema migrations', () => {
  test('an empty database is brought to the current version once, even by several replicas at once', async () => {
    const url = await freshPgDatabase();
    const found = await Promise.all([1, 2, 3].map(() => withClient(url, migrate)));
    // Exactly one of them migrated; the others found it done.
    expect(found.sort()).toEqual([0, SCHEMA_VERSION, SCHEMA_VERSION]);
    await withClient(url, async (c) => {
      expect((await c.query('SELECT version FROM learnloop.schema_version')).rows).toEqual([{ version: SCHEMA_VERSION }]);
      const tables = (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'learnloop' ORDER BY 1")).rows.map((r) => r.table_name);
      expect(tables).toEqual(['decisions', 'derived_snapshots', 'events', 'meta', 'refinements', 'requests', 'runs', 'schema_version', 'stats', 'templates']);
    });
  });

  test('a schema newer than the code is refused, naming both versions, and left as it was', async () => {
    const url = await freshPgDatabase();
    await withClient(url, migrate);
    await withClient(url, (c) => c.query('UPDATE learnloop.schema_version SET version = $1', [SCHEMA_VERSION + 1]));
    const err = await withClient(url, migrate).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvariantViolation);
    expect((err as Error).message).toContain(`version ${SCHEMA_VERSION + 1}, newer than this learnloop reads (up to ${SCHEMA_VERSION})`);
    await withClient(url, async (c) => expect((await c.query('SELECT version FROM learnloop.schema_version')).rows[0].version).toBe(SCHEMA_VERSION + 1));
  });
});

test('a database that cannot be reached fails calls as Unavailable, not as an internal error', async () => {
  const conn = new Connection(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`);
  try {
    await expect(conn.query('SELECT 1')).rejects.toBeInstanceOf(Unavailable);
    await expect(conn.write(async (tx) => tx.query('SELECT 1'))).rejects.toBeInstanceOf(Unavailable);
    expect(await conn.ping()).toBe(false);
  } finally {
    await conn.end();
  }
  await expect(conn.query('SELECT 1')).rejects.toThrow('store is closed');
});
