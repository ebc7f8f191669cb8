import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, inject, test } from 'vitest';

/**
 * describe() for tests that need PostgreSQL (test/helpers/pg-global-setup.ts provides it). Without
 * one they fail under CI (CI=true: a missing database must not pass as green) and are skipped with
 * the reason elsewhere.
 */
export function describePg(name: string, body: () => void): void {
  if (inject('pgUrl') !== '') {
    describe(name, body);
    return;
  }
  const why = `no PostgreSQL: ${inject('pgMissing')}; install it or set LEARNLOOP_TEST_PG_URL`;
  if (process.env.CI) {
    describe(name, () =>
      test('PostgreSQL is available', () => {
        throw new Error(why);
      }),
    );
  } else {
    describe.skip(`${name} (skipped: ${why})`, body);
  }
}

/** Superuser URL of the tests' PostgreSQL; only inside describePg. */
export function pgAdminUrl(): string {
  const url = inject('pgUrl');
  if (url === '') throw new Error('pgAdminUrl() outside describePg');
  return url;
}

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

const created: Array<{ admin: string; name: string }> = [];

/** A new empty database on `admin`'s server (the tests' one by default), dropped after the file's tests. */
export async function freshPgDatabase(admin = pgAdminUrl()): Promise<string> {
  const name = `learnloop_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client(admin);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  created.push({ admin, name });
  return withDatabase(admin, name);
}

afterAll(async () => {
  for (const { admin, name } of created.splice(0)) {
    const client = new pg.Client(admin);
    try {
      await client.connect();
      // FORCE ends sessions a test left open (a killed server's, say).
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch {
      // The server is gone (a test stopped its own cluster): nothing left to drop.
    } finally {
      await client.end().catch(() => {});
    }
  }
});
