import { createServer, type Server } from 'node:net';
import { status, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { expect, test } from 'vitest';
import { Unavailable } from '../../src/bandit/errors.js';
import { Connection } from '../../src/store/postgres/connection.js';
import { migrate, SCHEMA_VERSION } from '../../src/store/postgres/migrations.js';
import { UnusableStore } from '../../src/store/index.js';
import { freePort, spawnLearnLoop } from '../faults/child.js';
import { createClient } from '../../src/client.js';
import { eventually, health } from '../helpers/health.js';
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

/** migrate() in a transaction of its own, as a store's prepare runs it (with its first writes). */
const migrated = (url: string) =>
  withClient(url, async (c) => {
    await c.query('BEGIN');
    try {
      const { found } = await migrate(c);
      await c.query('COMMIT');
      return found;
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    }
  });

describePg('PostgreSQL schema migrations', () => {
  test('an empty database is brought to the current version once, even by several replicas at once', async () => {
    const url = await freshPgDatabase();
    const found = await Promise.all([1, 2, 3].map(() => migrated(url)));
    // Exactly one of them migrated; the others found it done.
    expect(found.sort()).toEqual([0, SCHEMA_VERSION, SCHEMA_VERSION]);
    await withClient(url, async (c) => {
      expect((await c.query('SELECT version FROM learnloop.schema_version')).rows).toEqual([{ version: SCHEMA_VERSION }]);
      const tables = (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'learnloop' ORDER BY 1")).rows.map((r) => r.table_name);
      expect(tables).toEqual(['decisions', 'derived_snapshots', 'events', 'meta', 'refinements', 'requests', 'runs', 'schema_version', 'stats', 'templates']);
    });
  });

  test('a schema newer than the code is refused as an unusable store naming both versions (exit 2, one line, not INTERNAL), and left as it was', async () => {
    const url = await freshPgDatabase();
    await migrated(url);
    await withClient(url, (c) => c.query('UPDATE learnloop.schema_version SET version = $1', [SCHEMA_VERSION + 1]));
    const err = await migrated(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnusableStore);
    const refusal = `its learnloop schema is version ${SCHEMA_VERSION + 1}, newer than this learnloop reads (up to ${SCHEMA_VERSION}): upgrade learnloop to use it; nothing was written to it`;
    expect((err as Error).message).toMatch(/^postgres:\/\/…\/learnloop_test_\w+: /);
    expect((err as Error).message).toContain(refusal);
    // serve and a command alike: the operator's to fix (upgrade, or point --db elsewhere).
    for (const args of [['serve', '--port', String(await freePort())], ['scores', '--task-class', 'c', '--repo', 'r']]) {
      const child = spawnLearnLoop([...args, '--db', url]);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect([args[0], code, stderr.trim().split('\n')]).toEqual([args[0], 2, [expect.stringMatching(/^learnloop: --db postgres:\/\/.*: its learnloop schema is version/)]]);
      expect(stderr).toContain(refusal);
    }
    await withClient(url, async (c) => expect((await c.query('SELECT version FROM learnloop.schema_version')).rows[0].version).toBe(SCHEMA_VERSION + 1));
  });

  test.each([
    ['tables of its own and no version table', 'CREATE TABLE learnloop.events (id serial PRIMARY KEY, payload jsonb)', 'events'],
    ["a version table of another shape (another tool's)", 'CREATE TABLE learnloop.schema_version (installed_rank int, version text); INSERT INTO learnloop.schema_version VALUES (1, \'1\')', 'schema_version'],
  ])("a learnloop schema another program made (%s) is refused, naming its tables, and nothing is written to it", async (_, made, named) => {
    const url = await freshPgDatabase();
    await withClient(url, (c) => c.query(`CREATE SCHEMA learnloop; ${made}`));
    const tables = () => withClient(url, async (c) => (await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'learnloop' ORDER BY 1")).rows);
    const before = await tables();
    const err = await migrated(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnusableStore);
    expect((err as Error).message).toMatch(new RegExp(`its learnloop schema holds another program's tables \\(${named}\\), not a learnloop store; nothing was written to it`));
    expect(await tables()).toEqual(before);
    // Every command says so in one line (no stack), exit 2: the --db is the operator's to fix.
    const child = spawnLearnLoop(['scores', '--db', url, '--task-class', 'c', '--repo', 'r']);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect([code, stderr.trim().split('\n')]).toEqual([2, [expect.stringMatching(/^learnloop: --db postgres:\/\/.*another program's tables/)]]);
    expect(await tables()).toEqual(before);
  });
});

// PostgreSQL's disk_full on the first write after the tables are made (the policy row): an event
// trigger puts a trigger on learnloop.meta as soon as it is created, so start fails just after
// creating the schema, as a database with room for the tables but not for a row would.
const FULL_AFTER_TABLES = `CREATE FUNCTION public.no_space() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full'; END $$;
  CREATE FUNCTION public.fill_meta() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE object_identity = 'learnloop.meta') THEN
        CREATE TRIGGER no_space BEFORE INSERT ON learnloop.meta FOR EACH STATEMENT EXECUTE FUNCTION public.no_space();
      END IF;
    END $$;
  CREATE EVENT TRIGGER fill_meta ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.fill_meta()`;

/** A port something else listens on. */
async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describePg('a serve that fails to start on a fresh database', () => {
  test.each([
    ['its port is taken', async (url: string, busy: number) => ['--port', String(busy)], 2, /^learnloop: cannot listen on 127\.0\.0\.1:\d+ \(is another server using that port\?\)/],
    ["the dashboard's port is taken", async (url: string, busy: number) => ['--port', String(await freePort()), '--http-port', String(busy)], 2, /^learnloop: cannot serve the dashboard on 127\.0\.0\.1:\d+/],
    [
      'the database is full after the tables are made',
      async (url: string) => {
        await withClient(url, (c) => c.query(FULL_AFTER_TABLES));
        return ['--port', String(await freePort())];
      },
      1,
      /^learnloop: RESOURCE_EXHAUSTED: disk full: the database cannot write .*\(LL_STORAGE_FULL\)$/,
    ],
  ])('when %s leaves it as it found it: no learnloop schema, no tables', async (_, setUp, exitCode, line) => {
    const url = await freshPgDatabase();
    const busy = await busyPort();
    try {
      const child = spawnLearnLoop(['serve', '--db', url, ...(await setUp(url, busy.port))]);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect([code, stderr.trim().split('\n')]).toEqual([exitCode, [expect.stringMatching(line)]]);
    } finally {
      busy.server.close();
    }
    const left = await withClient(url, async (c) => (await c.query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'learnloop'")).rows);
    const schema = await withClient(url, async (c) => (await c.query("SELECT nspname FROM pg_namespace WHERE nspname = 'learnloop'")).rows);
    expect([left, schema]).toEqual([[], []]);
  });
});

describePg('a serve waiting to migrate', () => {
  test('answers calls UNAVAILABLE "server is starting" (not INTERNAL), its dashboard 503, metrics learnloop_serving 0 and health NOT_SERVING until its schema is made, then serves', async () => {
    const url = await freshPgDatabase();
    // Another session holds the migration lock (as a replica migrating a large schema would): this
    // one binds its port and then waits in its migration, with no learnloop table made yet.
    const holder = new pg.Client(url);
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [0x6c6c_6d69]);
    const port = await freePort();
    const httpPort = await freePort();
    const metricsPort = await freePort();
    const child = spawnLearnLoop(['serve', '--db', url, '--port', String(port), '--http-port', String(httpPort), '--metrics-port', String(metricsPort), '--log-level', 'warn']);
    const serving = async () => {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      return [res.status, /^learnloop_serving (\d)$/m.exec(await res.text())?.[1]];
    };
    const overview = () => fetch(`http://127.0.0.1:${httpPort}/api/v1/overview`);
    const client = createClient(`127.0.0.1:${port}`, { deadlineMs: 5000 });
    try {
      let err: unknown;
      await eventually('the port answers a call', 20_000, async () => {
        err = await client.listTemplates().then(() => undefined, (e: unknown) => e);
        return (err as ServiceError | undefined)?.code !== status.UNAVAILABLE || /server is starting/.test((err as ServiceError).details);
      });
      expect([(err as ServiceError).code, (err as ServiceError).details]).toEqual([status.UNAVAILABLE, 'server is starting']);
      expect(await health(`127.0.0.1:${port}`)).toBe('NOT_SERVING');
      const page = await overview();
      expect([page.status, await page.text()]).toEqual([503, JSON.stringify({ error: 'server is starting: try again in a moment' })]);
      // Metrics answer meanwhile, without the store's gauges: learnloop_serving says why.
      expect(await serving()).toEqual([200, '0']);
      await holder.query('SELECT pg_advisory_unlock($1)', [0x6c6c_6d69]);
      await eventually('SERVING once migrated', 20_000, async () => (await health(`127.0.0.1:${port}`)) === 'SERVING');
      expect((await client.listTemplates()).templates).toEqual([]);
      expect((await overview()).status).toBe(200);
      expect(await serving()).toEqual([200, '1']);
    } finally {
      client.close();
      child.kill('SIGTERM');
      await holder.end();
    }
  });
});

describePg('a command on a current database', () => {
  test('takes no append lock: it answers while replicas hold it, and holds none of their writes up', async () => {
    const url = await freshPgDatabase();
    const exit = (child: ReturnType<typeof spawnLearnLoop>) =>
      new Promise<[number | null, string]>((resolve) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        child.once('exit', (code) => resolve([code, err]));
      });
    expect((await exit(spawnLearnLoop(['templates', 'register', 'a@v1', '--create', '--db', url])))[0]).toBe(0);
    // A replica's write in progress: the append lock (transaction-scoped in learnloop, held here by a session).
    const holder = new pg.Client(url);
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [0x6c6c_6170]);
    try {
      const list = spawnLearnLoop(['templates', 'list', '--db', url]);
      const timeout = new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 20_000));
      const done = await Promise.race([exit(list), timeout]);
      list.kill('SIGKILL');
      expect(done).not.toBe('waiting');
      expect(done).toEqual([0, '']);
    } finally {
      await holder.end();
    }
  });
});

describePg('commands on a database without learnloop', () => {
  test.each([
    [['export']],
    [['report', 'weekly', '--as-of', '2026-03-01']],
    [['rebuild']],
    [['import', 'events', '/nonexistent.jsonl']],
  ])('learnloop %j refuses it in one line (exit 2) and makes nothing in it, as a folder without a store', async (args) => {
    const url = await freshPgDatabase();
    const child = spawnLearnLoop([...args, '--db', url]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect([code, stderr]).toEqual([2, `learnloop: --db ${url}: no learnloop store there (the database has no learnloop schema); start a server on it (learnloop serve --db ${url}), or add --create to an import or templates register to make an empty one\n`]);
    const schemas = await withClient(url, async (c) => (await c.query("SELECT nspname FROM pg_namespace WHERE nspname = 'learnloop'")).rows);
    expect(schemas).toEqual([]);
  });
});

describePg('a --create command that fails after making the schema', () => {
  const learnloopRelations = (url: string) =>
    withClient(url, async (c) => (await c.query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'learnloop'")).rows.length);
  const registerTooLong = async (url: string) => {
    const child = spawnLearnLoop(['templates', 'register', 'x'.repeat(300), '--create', '--db', url]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect([code, stderr]).toEqual([2, expect.stringMatching(/^learnloop: INVALID_ARGUMENT: template_id: must be at most 256 characters/)]);
  };

  test('removes it, as a folder it made is removed: the database is as it found it', async () => {
    const url = await freshPgDatabase();
    await registerTooLong(url);
    expect(await learnloopRelations(url)).toBe(0);
  });

  test('keeps a learnloop schema an administrator made beforehand (its grants with it), with the tables made in it', async () => {
    const url = await freshPgDatabase();
    await withClient(url, (c) => c.query('CREATE SCHEMA learnloop'));
    await registerTooLong(url);
    const schema = await withClient(url, async (c) => (await c.query("SELECT nspname FROM pg_namespace WHERE nspname = 'learnloop'")).rows);
    expect([schema.length, await learnloopRelations(url)]).toEqual([1, 21]);
  });

  test('keeps it while another session is connected to the database (a replica starting on it may be using it)', async () => {
    const url = await freshPgDatabase();
    const other = new pg.Client(url);
    await other.connect();
    try {
      await registerTooLong(url);
    } finally {
      await other.end();
    }
    expect(await learnloopRelations(url)).toBeGreaterThan(0);
  });
});

test('a database that cannot be reached fails calls as Unavailable, not as an internal error', async () => {
  const conn = new Connection(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`);
  try {
    await expect(conn.query('SELECT 1')).rejects.toBeInstanceOf(Unavailable);
    await expect(conn.write(async (tx) => tx.query('SELECT 1'))).rejects.toBeInstanceOf(Unavailable);
  } finally {
    await conn.end();
  }
  await expect(conn.query('SELECT 1')).rejects.toThrow('store is closed');
});
