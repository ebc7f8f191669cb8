/**
 * A PostgreSQL that refuses learnloop's connection settings (a wrong or rotated password, an
 * unknown role, a missing database): at start one line naming the cause, never the password, exit
 * 1; on a running replica UNAVAILABLE (retry elsewhere) and NOT_SERVING, recovering once fixed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startPgCluster, type PgCluster } from '../../bench/pg-cluster.js';
import { createClient } from '../../src/client.js';
import { Outcome } from '../../src/index.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { startChildServer, stopChild } from '../faults/child.js';
import { eventually, health } from '../helpers/health.js';
import { describePg } from '../helpers/pg.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'learnloop.js');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, LEARNLOOP_LOG_LEVEL: 'silent' } });

describePg('a PostgreSQL that refuses the connection settings', () => {
  // A cluster of its own with password authentication (the shared one trusts every connection).
  let cluster: PgCluster;
  const url = (user: string, database = 'learnloop') => `postgres://${user}@127.0.0.1:${cluster.port}/${database}`;
  const admin = async (sql: string) => {
    const client = new pg.Client(url('postgres:admin', 'postgres'));
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    cluster = await startPgCluster({ fsync: false });
    const client = new pg.Client(cluster.url);
    await client.connect();
    try {
      for (const sql of ["CREATE ROLE ll LOGIN PASSWORD 'secret'", 'CREATE DATABASE learnloop OWNER ll', "ALTER ROLE postgres PASSWORD 'admin'"]) await client.query(sql);
    } finally {
      await client.end();
    }
    const hba = join(cluster.dir, 'data', 'pg_hba.conf');
    writeFileSync(hba, `${readFileSync(hba, 'utf8').replace(/^host.*$/gm, '')}\nhost all all 127.0.0.1/32 scram-sha-256\n`);
    await cluster.stopServer();
    await cluster.startServer();
  }, 120_000);
  afterAll(() => cluster?.destroy());

  test.each([
    ['a wrong password', () => url('ll:WRONGPASS'), /password authentication failed for user "ll"/],
    ['an unknown role', () => url('nouser:WRONGPASS'), /password authentication failed for user "nouser"|role "nouser" does not exist/],
    ['a missing database', () => url('ll:secret', 'nodb'), /database "nodb" does not exist/],
  ])('%s: serve and a --db command exit 1 with one line naming the cause, not the password', (_, db, cause) => {
    for (const args of [['serve', '--port', '0'], ['scores']]) {
      const r = cli(...args, '--db', db());
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/^learnloop: UNAVAILABLE: database unavailable: /);
      expect(r.stderr).toMatch(cause);
      expect(r.stderr).toMatch(/\(LL_UNAVAILABLE\)\n$/);
      expect(r.stderr).not.toContain('WRONGPASS');
    }
  });

  test('a password rotated under a running replica: UNAVAILABLE and NOT_SERVING, then it recovers by itself', async () => {
    const server = await startChildServer(url('ll:secret'));
    const client = createClient(server.addr, { deadlineMs: 20_000 });
    const run = (i: number) => ({ runId: `r${i}`, templateId: 't@v1', taskClass: 'c', repo: 'r', outcome: Outcome.OUTCOME_PASS });
    try {
      expect((await client.observe(run(1))).applied).toBe(true);
      await admin("ALTER ROLE ll PASSWORD 'rotated'");
      await admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'll'");
      for (const call of [() => client.observe(run(2)), () => client.recommend({ candidateTemplateIds: ['t@v1'] })]) {
        const err = (await call().then(() => undefined, (e: unknown) => e)) as ServiceError;
        expect(err?.code, err?.message).toBe(status.UNAVAILABLE);
        expect(err.details).toMatch(/^database unavailable: password authentication failed for user "ll"/);
      }
      await eventually('health NOT_SERVING', 10_000, async () => (await health(server.addr)) === 'NOT_SERVING');
      await admin("ALTER ROLE ll PASSWORD 'secret'");
      await eventually('health SERVING again', 20_000, async () => (await health(server.addr)) === 'SERVING');
      expect((await client.observe(run(2))).applied).toBe(true);
      expect((await client.observe(run(1))).duplicate).toBe(true);
    } finally {
      client.close();
      await stopChild(server);
    }
  }, 120_000);
});
