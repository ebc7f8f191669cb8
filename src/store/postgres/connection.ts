import pg from 'pg';
import { LearnLoopError, StorageFull, Unavailable } from '../../bandit/errors.js';

/**
 * Key of the transaction advisory lock every write takes before reading the head: writes from all
 * replicas apply one at a time, in seq order, so each sees every earlier event (the run_id check,
 * the decision lookup, the stats it adds to) and commit order is log order.
 */
const APPEND_LOCK = 0x6c6c_6170; // 'llap'

/** How long a call waits for a connection before failing UNAVAILABLE (the database is down, say). */
const CONNECT_TIMEOUT_MS = 10_000;

/** Most writes one transaction takes (bounds how long the append lock is held). */
const MAX_BATCH = 256;

/**
 * SQLSTATEs that mean "the database is not reachable now", or did not finish this call for reasons
 * of its own (a cancel, a timeout, a lock conflict): not "this request is wrong". Retrying is safe.
 */
function unreachableState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code === '57P01' || // admin_shutdown: the server is shutting down or restarting
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now: starting up or in recovery
    code === '53300' || // too_many_connections
    code === '25006' || // read_only_sql_transaction: a standby after failover, until it is promoted
    code === '57014' || // query_canceled: statement_timeout, or a DBA's pg_cancel_backend
    code === '55P03' || // lock_not_available: lock_timeout while another session held the lock
    code === '40001' || // serialization_failure
    code === '40P01' || // deadlock_detected
    refusedState(code)
  );
}

/**
 * SQLSTATEs of a database that refuses this process's connection settings: the operator's to fix
 * (a rotated password, a dropped role or database), not a fault of the call, which may succeed on
 * another replica or once the settings are fixed.
 */
function refusedState(code: string): boolean {
  return (
    code.startsWith('28') || // invalid_authorization_specification: 28P01 wrong password, 28000 unknown role or no pg_hba entry
    code === '3D000' // invalid_catalog_name: the database does not exist
  );
}

/**
 * What a failed database call means to a caller: StorageFull when the database has no space left
 * (its transaction rolled back: nothing of the write is applied); Unavailable when it could not be
 * reached or went away (the call may be retried; a write whose COMMIT was cut off may or may not
 * have been applied, and run_id / request_id make the retry safe); the error itself otherwise.
 */
export function classify(err: unknown): unknown {
  if (err instanceof LearnLoopError) return err;
  if (err instanceof pg.DatabaseError) {
    // 53100 disk_full: the operator's to fix, as LMDB's ENOSPC; the connection itself still works.
    if (err.code === '53100') return new StorageFull(`disk full: the database cannot write (${err.message}); reads still work, writes resume once space is freed`);
    if (err.code === undefined || !unreachableState(err.code)) return err;
    // pg's message names the user or database, never the password.
    const hint = refusedState(err.code) ? ' (check the user, password and database name in the postgres:// URL)' : '';
    return new Unavailable(`database unavailable: ${err.message}${hint}`);
  }
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : '';
  // Socket errors (ECONNREFUSED, ECONNRESET, ...) and pg's own words for a lost or closed connection.
  if ((typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) || /Connection terminated|not queryable|timeout exceeded when trying to connect|pool after calling end/i.test(message)) {
    return new Unavailable(`database unavailable: ${message || String(e.code)}`);
  }
  return err;
}

/** A statement runner: the pool, or one transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * One transaction: its statements, and what the writes sharing it remember: the log's head, and
 * derived records as they stand in this transaction (read or written by an earlier write in it),
 * by kind and key. Gone with the transaction, so a rollback forgets them too.
 */
export interface Tx extends Queryable {
  readonly state: { head?: number; readonly records: Map<string, unknown> };
}

/** One process's connections to the database, with failures turned into domain errors. */
export class Connection {
  private readonly pool: pg.Pool;
  private ended = false;

  constructor(url: string, options: { max?: number } = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // Notice a database host that vanished without closing its connections.
      keepAlive: true,
      // int8 (seq, times in ms) as numbers: they stay far below 2^53.
      types: { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    });
    // A connection the server drops (restart, failover, pg_terminate_backend) emits 'error': on an
    // idle pooled client through the pool, on a checked-out one on the client. Without listeners
    // that would end the process; the pool discards the client and the next call reconnects.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  /** Runs one statement on any pooled connection. */
  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.ended) throw new Unavailable('store is closed');
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw classify(e);
    }
  }

  /** Runs `fn` on one connection (outside a transaction unless `fn` opens one). */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.ended) throw new Unavailable('store is closed');
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw classify(e);
    }
    let broken: unknown;
    try {
      return await fn(client);
    } catch (e) {
      const c = classify(e);
      if (c instanceof Unavailable) broken = e;
      throw c;
    } finally {
      // A connection that failed is not reused.
      client.release(broken instanceof Error ? broken : broken !== undefined);
    }
  }

  /**
   * Runs `fn` in a transaction holding the append lock and resolves once that transaction is
   * committed (durable as the server's synchronous_commit says: on by default).
   *
   * Writes that arrive while a commit is under way share the next transaction, one after another
   * on one connection, as lmdb-js batches LMDB commits: one lock round and one WAL flush for many
   * calls, where one transaction each would be bounded by the disk's flush time (about 120
   * writes/s on the benchmark machine). So `fn` must check everything before its first write: a
   * domain error (a LearnLoopError other than Unavailable) it throws fails only its own call, and
   * the writes it made before throwing would be committed with the batch. Any other error rolls
   * the whole batch back and fails every call in it.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.ended) return Promise.reject(new Unavailable('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private pending: Array<{ fn: (tx: Tx) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private draining = false;

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, MAX_BATCH);
        const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
        try {
          await this.transaction(async (tx) => {
            for (const item of batch) {
              try {
                outcomes.push({ ok: true, value: await item.fn(tx) });
              } catch (e) {
                if (!(e instanceof LearnLoopError) || e instanceof Unavailable) throw e;
                outcomes.push({ ok: false, error: e });
              }
            }
          }, true);
        } catch (e) {
          for (const item of batch) item.reject(e);
          continue;
        }
        batch.forEach((item, i) => {
          const o = outcomes[i]!;
          if (o.ok) item.resolve(o.value);
          else item.reject(o.error);
        });
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Runs `fn` alone in a transaction holding the append lock, all or nothing: whatever it throws
   * rolls back everything it wrote (writes shared through `write` commit a refusal's neighbours).
   * For rebuild and a server's first writes.
   */
  exclusive<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.ended) return Promise.reject(new Unavailable('store is closed'));
    return this.transaction(fn, true);
  }

  /** Runs `fn` in a read-only transaction: one snapshot for all its reads. */
  async read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction(fn, false);
  }

  private async transaction<T>(fn: (tx: Tx) => Promise<T>, write: boolean): Promise<T> {
    return this.withClient(async (client) => {
      // One round trip: the simple protocol takes several statements when they have no parameters.
      const tx: Tx = { query: (text, values) => client.query(text, values), state: { records: new Map() } };
      try {
        // Inside the try: a BEGIN whose lock wait is cancelled has opened the transaction, and a
        // connection going back to the pool inside it would fail every later call on it (25P02).
        await client.query(write ? `BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK})` : 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    });
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}
