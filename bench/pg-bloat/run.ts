/**
 * How much the PostgreSQL stats table grows under Observes, by fillfactor: each Observe rewrites
 * its template's stats row in four segments, and a rewritten row leaves a dead version behind
 * until it is pruned (HOT, same page) or vacuumed.
 * Usage: node dist/bench/pg-bloat/run.js ADMIN_URL [OBSERVES] [VARIANT ...]; VARIANT is `default` or
 * ALTER TABLE actions for learnloop.stats, e.g. "SET (fillfactor = 50)" or "ALTER COLUMN record SET STORAGE MAIN".
 */
import pg from 'pg';
import { DEFAULT_LIMITS, DEFAULT_POLICY_CONFIG } from '../../src/bandit/index.js';
import { compose } from '../../src/compose.js';
import { PgStore } from '../../src/store/index.js';

const [admin = '', observes = '5000', ...variants] = process.argv.slice(2);
const TEMPLATES = 10;
const CLASSES = 5;
const REPOS = 4;

async function sql<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query<R>(text)).rows;
  } finally {
    await c.end();
  }
}

async function measure(variant: string): Promise<Record<string, unknown>> {
  const name = `bloat_${Date.now()}`;
  await sql(admin, `CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  await sql(url, `ALTER DATABASE ${name} SET synchronous_commit = off`);
  const store = await PgStore.open(url, { policy: DEFAULT_POLICY_CONFIG });
  if (variant !== 'default') await sql(url, `ALTER TABLE learnloop.stats ${variant}`);
  const { learnloop } = compose(store, { limits: DEFAULT_LIMITS });
  const started = Date.now();
  for (let i = 0; i < Number(observes); i++) {
    await learnloop.observe({
      runId: `r${i}`, decisionId: '', templateId: `t${i % TEMPLATES}@v1`, taskClass: `c${i % CLASSES}`, repo: `org/r${Math.floor(i / CLASSES) % REPOS}`,
      taskId: `r${i}`, attempt: 1, outcome: i % 3 === 0 ? 'fail' : 'pass', retries: 0, durationSeconds: 10, failureReason: '', finishedAtMs: undefined, agent: '', model: '',
    });
  }
  const seconds = (Date.now() - started) / 1000;
  await store.close();
  const [row] = await sql<Record<string, string>>(
    url,
    `SELECT pg_relation_size('learnloop.stats') AS heap, pg_table_size('learnloop.stats') AS heap_and_toast, pg_indexes_size('learnloop.stats') AS indexes,
            s.n_live_tup AS live, s.n_dead_tup AS dead, s.n_tup_upd AS updates, s.n_tup_hot_upd AS hot, s.autovacuum_count AS autovacuums,
            (SELECT avg(length(record))::int FROM learnloop.stats) AS avg_record_chars, (SELECT max(length(record)) FROM learnloop.stats) AS max_record_chars,
            (SELECT avg(length(record))::int FROM learnloop.stats WHERE task_class = '' AND repo = '') AS avg_global_record_chars,
            (SELECT avg(pg_column_size(record))::int FROM learnloop.stats) AS avg_stored_bytes
       FROM pg_stat_user_tables s WHERE s.relid = 'learnloop.stats'::regclass`,
  );
  await sql(admin, `DROP DATABASE ${name}`);
  return { variant, observes: Number(observes), seconds, ...row };
}

for (const v of variants.length > 0 ? variants : ['default']) console.log(JSON.stringify(await measure(v)));
