import { UnusableStore } from '../port.js';
import type { Queryable } from './connection.js';

/**
 * The schema, one entry per version, applied in order and never edited once released: a change
 * is a new entry. Everything lives in the `learnloop` schema, so the database may hold other things.
 *
 * The log's `seq` is assigned under the append lock as head + 1 rather than by a PostgreSQL
 * sequence: a sequence leaves gaps when a transaction rolls back, and learnloop's seq is dense on
 * every store (the same history has the same seqs on LMDB and PostgreSQL, so exports and reports
 * compare byte for byte). Records are JSON text, not jsonb: jsonb reorders keys and drops -0.
 * Derived tables hold what the core's projection computes; SQL only stores and looks them up.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE learnloop.events (
     seq bigint PRIMARY KEY CHECK (seq > 0),
     at_ms bigint NOT NULL,
     type text NOT NULL,
     body text NOT NULL
   );
   CREATE TABLE learnloop.meta (key text PRIMARY KEY, value text NOT NULL);
   CREATE TABLE learnloop.templates (template_id text PRIMARY KEY, record text NOT NULL);
   CREATE TABLE learnloop.stats (
     template_id text NOT NULL,
     task_class text NOT NULL,
     repo text NOT NULL,
     record text NOT NULL,
     PRIMARY KEY (template_id, task_class, repo)
   );
   CREATE INDEX stats_by_segment ON learnloop.stats (task_class, repo);
   CREATE TABLE learnloop.runs (run_id text PRIMARY KEY, seq bigint NOT NULL REFERENCES learnloop.events (seq));
   CREATE TABLE learnloop.decisions (decision_id text PRIMARY KEY, seq bigint NOT NULL REFERENCES learnloop.events (seq));
   CREATE TABLE learnloop.requests (request_id text PRIMARY KEY, decision_id text NOT NULL REFERENCES learnloop.decisions (decision_id));
   CREATE TABLE learnloop.refinements (refinement_id text PRIMARY KEY, record text NOT NULL);`,
  // Snapshots of state readers derive from the log themselves (Store.readDerived): not derived state the projection keeps.
  `CREATE TABLE learnloop.derived_snapshots (name text PRIMARY KEY, seq bigint NOT NULL, body bytea NOT NULL);`,
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Key of the transaction advisory lock that serialises migrations across replicas starting at once. */
const MIGRATION_LOCK = 0x6c6c_6d69; // 'llmi'

/**
 * Brings the database to SCHEMA_VERSION inside the caller's transaction: the schema, every pending
 * version and the version row commit together with whatever else the caller writes in it (the
 * store's policy row), or none of it does, so a start that fails leaves the database at the version
 * it found, and a fresh database without any learnloop table.
 * @param tx a connection inside a transaction (BEGIN issued); its lock is held until that ends.
 * @returns the version found before migrating (0 for an empty database), and whether the
 *   `learnloop` schema itself was made here (there was none, not even an empty one an administrator made).
 * @throws UnusableStore when the schema is another program's or a newer learnloop's (nothing is written).
 */
export async function migrate(tx: Queryable): Promise<{ found: number; madeSchema: boolean }> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  const found = await schemaVersion(tx);
  if (found === SCHEMA_VERSION) return { found, madeSchema: false };
  const { rows } = await tx.query<{ absent: boolean }>("SELECT to_regnamespace('learnloop') IS NULL AS absent");
  await tx.query('CREATE SCHEMA IF NOT EXISTS learnloop');
  await tx.query('CREATE TABLE IF NOT EXISTS learnloop.schema_version (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), version integer NOT NULL)');
  for (let v = found + 1; v <= SCHEMA_VERSION; v++) await tx.query(MIGRATIONS[v - 1]!);
  await tx.query(
    'INSERT INTO learnloop.schema_version (version) VALUES ($1) ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version',
    [SCHEMA_VERSION],
  );
  return { found, madeSchema: rows[0]?.absent === true };
}

/**
 * Drops the `learnloop` schema with everything in it, inside the caller's transaction, but only
 * while no other client session is connected to the database (a replica starting on it, an
 * administrator's): for a command that made the schema and then failed, so the database is left as
 * it found it. The caller's own other connections must be closed first.
 * @returns whether it was dropped.
 */
export async function dropMadeSchema(tx: Queryable): Promise<boolean> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  const { rows } = await tx.query<{ others: number }>(
    "SELECT count(*)::int AS others FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
  );
  if (rows[0]?.others !== 0) return false;
  await tx.query('DROP SCHEMA learnloop CASCADE');
  return true;
}

/**
 * The database's learnloop schema version (0 when it has none), writing nothing: a server checks
 * this before binding its port and migrates only once every port is bound.
 * @throws UnusableStore when the schema is another program's, or newer than this build reads.
 */
export async function schemaVersion(q: Queryable): Promise<number> {
  if (!(await hasVersionTable(q))) return 0;
  const { rows } = await q.query<{ version: number }>('SELECT version FROM learnloop.schema_version');
  const found = rows[0]?.version ?? 0;
  if (found > SCHEMA_VERSION) {
    throw new UnusableStore(
      `${await where(q)}: its learnloop schema is version ${found}, newer than this learnloop reads (up to ${SCHEMA_VERSION}): upgrade learnloop to use it; nothing was written to it`,
    );
  }
  return found;
}

/**
 * Whether the database has learnloop's version table, refusing a `learnloop` schema that another
 * program made: migrating it would add learnloop's tables beside that program's, or fail halfway on
 * a name both use. learnloop's own schema holds its version table, with its shape (a start of an
 * earlier build cut off before migration 1 left only that); anything else there with no such table
 * is not ours.
 * @throws UnusableStore naming the tables found; nothing is written.
 */
async function hasVersionTable(q: Queryable): Promise<boolean> {
  const { rows } = await q.query<{ name: string; ours: boolean }>(
    `SELECT c.relname AS name,
            c.relname = 'schema_version' AND (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                                AND a.attname IN ('only_row', 'version')) = 2 AS ours
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'learnloop' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      ORDER BY c.relname COLLATE "C"`,
  );
  if (rows.some((r) => r.ours)) return true;
  if (rows.length === 0) return false;
  const names = rows.map((r) => r.name);
  throw new UnusableStore(
    `${await where(q)}: its learnloop schema holds another program's tables (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}), not a learnloop store; nothing was written to it`,
  );
}

/** The database a connection is on, for messages: its name without host, user or password. */
async function where(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ name: string }>('SELECT current_database() AS name');
  return `postgres://…/${rows[0]?.name ?? ''}`;
}
