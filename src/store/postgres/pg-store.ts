import {
  armEvidenceOf,
  policyVersion,
  projectAll,
  type ArmEvidence,
  type Context,
  type DecisionEvent,
  type DerivedChange,
  type DerivedReader,
  type LoggedEvent,
  type ObservationEvent,
  type PolicyConfig,
  type RefinementRecord,
  type StatsKey,
  type StatsRecord,
  type TemplateRecord,
  Unavailable,
} from '../../bandit/index.js';
import { parseExact, stringifyExact } from '../exact-json.js';
import type { Planner, StateView, Store, StoreOptions } from '../port.js';
import { canonicalSnapshot, snapshotName, wholeBody, type DerivedSnapshot, type SnapshotBody } from '../snapshot.js';
import { Connection, type Queryable, type Tx } from './connection.js';
import { dropMadeSchema, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';

/**
 * Marks in learnloop.meta, as on LMDB: the newest seq; the newest that is not a decision (the
 * evidence cache keys on it); the newest template and refinement events.
 */
const HEADS = ['head', 'stateHead', 'templatesHead', 'refinementsHead'] as const;
type Heads = { [K in (typeof HEADS)[number]]?: number | undefined };

/** Evidence entries the read cache holds before it starts over (bounds memory with many segments). */
const READ_CACHE_ENTRIES = 100_000;
/** Events read per query when streaming the log. */
const PAGE = 5_000;
/** Rows per INSERT when rebuild writes derived state back. */
const REBUILD_CHUNK = 10_000;

const statsId = (key: StatsKey) => `${key[0]}\u0000${key[1]}\u0000${key[2]}`;
const parse = <T>(text: string | undefined): T | undefined => (text === undefined ? undefined : parseExact<T>(text));

/** Every write's rows in one statement (one round trip): the events, each derived table, the heads. */
const WRITE_ALL = `WITH
    e AS (INSERT INTO learnloop.events (seq, at_ms, type, body) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])),
    t AS (INSERT INTO learnloop.templates (template_id, record) SELECT * FROM unnest($5::text[], $6::text[])
          ON CONFLICT (template_id) DO UPDATE SET record = EXCLUDED.record),
    s AS (INSERT INTO learnloop.stats (template_id, task_class, repo, record) SELECT * FROM unnest($7::text[], $8::text[], $9::text[], $10::text[])
          ON CONFLICT (template_id, task_class, repo) DO UPDATE SET record = EXCLUDED.record),
    r AS (INSERT INTO learnloop.runs (run_id, seq) SELECT * FROM unnest($11::text[], $12::bigint[])),
    d AS (INSERT INTO learnloop.decisions (decision_id, seq) SELECT * FROM unnest($13::text[], $14::bigint[])),
    q AS (INSERT INTO learnloop.requests (request_id, decision_id) SELECT * FROM unnest($15::text[], $16::text[])),
    f AS (INSERT INTO learnloop.refinements (refinement_id, record) SELECT * FROM unnest($17::text[], $18::text[])
          ON CONFLICT (refinement_id) DO UPDATE SET record = EXCLUDED.record)
    INSERT INTO learnloop.meta (key, value) SELECT * FROM unnest($19::text[], $20::text[])
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;

/** The parameters of WRITE_ALL for some events and the derived changes they make. */
function writeParams(events: readonly LoggedEvent[], changes: readonly DerivedChange[], heads: Heads): unknown[] {
  const cols = Array.from({ length: 20 }, () => [] as unknown[]);
  const push = (at: number, ...values: unknown[]) => values.forEach((v, i) => cols[at + i]!.push(v));
  for (const e of events) push(0, e.seq, e.atMs, e.type, stringifyExact(e));
  for (const c of changes) {
    switch (c.kind) {
      case 'template':
        push(4, c.key, stringifyExact(c.value));
        break;
      case 'stats':
        push(6, c.key[0], c.key[1], c.key[2], stringifyExact(c.value));
        break;
      case 'run':
        push(10, c.key, c.value.seq);
        break;
      case 'decision':
        push(12, c.key, c.value.seq);
        break;
      case 'request':
        push(14, c.key, c.value.decisionId);
        break;
      case 'refinement':
        push(16, c.key, stringifyExact(c.value));
        break;
    }
  }
  for (const [k, v] of Object.entries(heads)) if (v !== undefined) push(18, k, String(v));
  return cols;
}

/** The heads a run of events moves. */
function headsOf(events: readonly LoggedEvent[]): Heads {
  const last = (pred: (e: LoggedEvent) => boolean) => events.findLast(pred)?.seq;
  return {
    head: events.at(-1)?.seq,
    stateHead: last((e) => e.type !== 'decision'),
    templatesHead: last((e) => e.type === 'template'),
    refinementsHead: last((e) => e.type === 'refinement_opened' || e.type === 'refinement_decided'),
  };
}

/**
 * The PostgreSQL adapter: the event log and the derived state `project` makes of it, in the
 * `learnloop` schema of one database that any number of replicas share.
 *
 * Writes: every commit runs its plan and appends inside a transaction holding one advisory lock,
 * so writes from all replicas apply one at a time in seq order, each planned on the state it
 * changes (no re-planning needed); a run_id is recorded once whichever replica gets it.
 * Concurrent commits in one process share a transaction (Connection.write).
 *
 * Reads: what Recommend reads is cached per process and keyed by the log's marks, read from the
 * database on every call, so an Observe acknowledged by any replica is seen by the next call on
 * every other (LISTEN/NOTIFY would arrive asynchronously, possibly after that call).
 */
export class PgStore implements Store {
  private currentPolicy: PolicyConfig;
  /** Templates are never deleted: ids once seen registered need no look-up again. */
  private readonly known = new Set<string>();
  private templateCache: { head: number; records: readonly TemplateRecord[]; byId: Map<string, TemplateRecord> } = { head: -1, records: [], byId: new Map() };
  /** Arm evidence by context, then template id, valid while stateHead is `head`. */
  private evidenceCache = { head: -1, byContext: new Map<string, Map<string, ArmEvidence>>(), entries: 0 };

  /** prepare() made the `learnloop` schema (there was none): discardMade() may remove it again. */
  private madeSchema = false;

  private constructor(
    private readonly url: string,
    readonly location: string,
    private readonly conn: Connection,
    policy: PolicyConfig,
    /** What prepare() does about a stored policy other than `policy`; undefined once prepared. */
    private onPolicyChange: StoreOptions['onPolicyChange'] | undefined,
  ) {
    this.currentPolicy = policy;
  }

  /**
   * Connects and checks the schema, then (unless options.deferWrites) prepares the store.
   * @throws Unavailable when the database cannot be reached; UnusableStore when its schema is newer than this build or another program's.
   */
  static async open(url: string, options: StoreOptions): Promise<PgStore> {
    const conn = new Connection(url);
    try {
      // Refusals first, writing nothing: a server that cannot use the database fails before binding its port.
      await conn.withClient(schemaVersion);
      const store = new PgStore(url, redact(url), conn, options.policy, options.onPolicyChange ?? 'rebuild');
      if (options.deferWrites !== true) await store.prepare();
      return store;
    } catch (e) {
      await conn.end();
      throw e;
    }
  }

  /**
   * Applies pending migrations, then stores this policy on a new store or rebuilds derived state
   * under it if it changed, in one transaction: a start that fails leaves the database as it found
   * it (a fresh one without learnloop's schema). Once.
   */
  async prepare(): Promise<void> {
    const onPolicyChange = this.onPolicyChange;
    if (onPolicyChange === undefined) return;
    // A current schema under a policy this process may use needs no write, so no append lock: a
    // command beside busy replicas neither waits behind their writes nor holds them up.
    const settled = await this.conn.read(async (tx) => (await schemaVersion(tx)) === SCHEMA_VERSION && (await this.settlePolicy(tx, onPolicyChange)));
    if (settled) {
      this.onPolicyChange = undefined;
      return;
    }
    const { madeSchema } = await this.conn.exclusive(async (tx) => {
      const migrated = await migrate(tx);
      await this.settlePolicy(tx, onPolicyChange, tx);
      return migrated;
    });
    this.madeSchema = madeSchema;
    this.onPolicyChange = undefined;
  }

  /**
   * Brings the stored policy and this process's together: stores this one on a new store, adopts the
   * stored one (a command under 'adopt'), or rebuilds derived state under this one.
   * @param write the transaction to write in; without it nothing is written.
   * @returns false when a write is needed and none was given.
   */
  private async settlePolicy(q: Queryable, onPolicyChange: NonNullable<StoreOptions['onPolicyChange']>, write?: Tx): Promise<boolean> {
    const { rows } = await q.query<{ key: string; value: string }>("SELECT key, value FROM learnloop.meta WHERE key IN ('policy', 'head')");
    const meta = new Map(rows.map((r) => [r.key, r.value]));
    const derivedWith = parse<PolicyConfig>(meta.get('policy'));
    if (derivedWith !== undefined && policyVersion(derivedWith) === policyVersion(this.policy)) return true;
    if (derivedWith !== undefined && onPolicyChange === 'adopt') {
      this.currentPolicy = derivedWith;
      return true;
    }
    if (write === undefined) return false;
    if (derivedWith === undefined && Number(meta.get('head') ?? 0) === 0) await this.putPolicy(write);
    else await this.rebuildIn(write);
    return true;
  }

  /**
   * Closes the store, and removes the `learnloop` schema if prepare() made it and no other session
   * is connected to the database: a `--create` command that fails leaves the database as it found
   * it, as one on a folder removes the folder it made. Best effort: if the database cannot be
   * reached, or someone else is connected, the schema stays (the command's own error is reported).
   */
  async discardMade(): Promise<void> {
    await this.close();
    if (!this.madeSchema) return;
    const conn = new Connection(this.url, { max: 1 });
    try {
      await conn.exclusive(dropMadeSchema);
    } catch {
      // Kept: see above.
    } finally {
      await conn.end();
    }
  }

  get policy(): PolicyConfig {
    return this.currentPolicy;
  }

  private async putPolicy(tx: Queryable): Promise<void> {
    await tx.query("INSERT INTO learnloop.meta (key, value) VALUES ('policy', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [stringifyExact(this.policy)]);
  }

  /**
   * Health, from one indexed read a second: the database does not answer, or a replica started with
   * other policy flags rebuilt the derived state, so every write here is refused (checkPolicy) and a
   * balancer should send them to the replicas under the stored policy. None again once it answers
   * and the stored policy is this one's. A full database is not a problem here: every replica
   * shares it, so no other could take the writes (docs/deploy.md).
   */
  async healthProblem(): Promise<string | undefined> {
    try {
      const { rows } = await this.conn.query<{ value: string }>("SELECT value FROM learnloop.meta WHERE key = 'policy'");
      return this.otherPolicy(parse<PolicyConfig>(rows[0]?.value));
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  // ---- reads -----------------------------------------------------------------------------

  private async heads(q: Queryable = this.conn): Promise<Heads> {
    const { rows } = await q.query<{ key: string; value: string }>('SELECT key, value FROM learnloop.meta WHERE key = ANY($1)', [HEADS]);
    return Object.fromEntries(rows.map((r) => [r.key, Number(r.value)]));
  }

  async head(): Promise<number> {
    return readHead(this.conn);
  }

  template(templateId: string): Promise<TemplateRecord | undefined> {
    return readTemplate(this.conn, templateId);
  }

  unknownTemplates(templateIds: readonly string[]): Promise<string[]> {
    return this.unknownIn(this.conn, templateIds, true);
  }

  /** `remember`: only for reads of committed state (outside a write, whose rows may yet roll back). */
  private async unknownIn(q: Queryable, templateIds: readonly string[], remember: boolean): Promise<string[]> {
    const check = templateIds.filter((id) => !this.known.has(id));
    if (check.length === 0) return [];
    const { rows } = await q.query<{ template_id: string }>('SELECT template_id FROM learnloop.templates WHERE template_id = ANY($1)', [check]);
    const found = new Set(rows.map((r) => r.template_id));
    if (remember) for (const id of found) this.known.add(id);
    return check.filter((id) => !found.has(id));
  }

  run(runId: string): Promise<(ObservationEvent & LoggedEvent) | undefined> {
    return readRun(this.conn, runId);
  }

  decision(decisionId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
    return readDecision(this.conn, decisionId);
  }

  decisionForRequest(requestId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
    return readDecisionForRequest(this.conn, requestId);
  }

  refinement(refinementId: string): Promise<RefinementRecord | undefined> {
    return readRefinement(this.conn, refinementId);
  }

  async openRefinementFor(templateId: string): Promise<RefinementRecord | undefined> {
    return (await readRefinements(this.conn)).find((r) => r.templateId === templateId && r.status === 'open');
  }

  /** Every template, in id order; cached until the next template event. */
  async templates(): Promise<readonly TemplateRecord[]> {
    return (await this.templateIndex((await this.heads()).templatesHead ?? 0)).records;
  }

  private async templateIndex(head: number): Promise<PgStore['templateCache']> {
    if (head === this.templateCache.head) return this.templateCache;
    const { rows } = await this.conn.query<{ record: string }>('SELECT record FROM learnloop.templates ORDER BY template_id COLLATE "C"');
    const records = rows.map((r) => parseExact<TemplateRecord>(r.record));
    for (const t of records) this.known.add(t.templateId);
    this.templateCache = { head, records, byId: new Map(records.map((t) => [t.templateId, t])) };
    return this.templateCache;
  }

  async stats(key: StatsKey): Promise<StatsRecord | undefined> {
    const { rows } = await this.conn.query<{ record: string }>(
      'SELECT record FROM learnloop.stats WHERE template_id = $1 AND task_class = $2 AND repo = $3',
      [...key],
    );
    return parse<StatsRecord>(rows[0]?.record);
  }

  async statsForSegment(taskClass: string, repo: string): Promise<Array<{ templateId: string; stats: StatsRecord }>> {
    const { rows } = await this.conn.query<{ template_id: string; record: string }>(
      'SELECT template_id, record FROM learnloop.stats WHERE task_class = $1 AND repo = $2 ORDER BY template_id COLLATE "C"',
      [taskClass, repo],
    );
    return rows.map((r) => ({ templateId: r.template_id, stats: parseExact<StatsRecord>(r.record) }));
  }

  async armEvidence(templateIds: readonly string[], context: Context): Promise<ArmEvidence[]> {
    // The marks first, then the records: what is read is never older than the marks say.
    const heads = await this.heads();
    const templates = (await this.templateIndex(heads.templatesHead ?? 0)).byId;
    const cache = this.evidenceCache;
    const stateHead = heads.stateHead ?? 0;
    if (cache.head !== stateHead || cache.entries > READ_CACHE_ENTRIES) {
      cache.head = stateHead;
      cache.byContext.clear();
      cache.entries = 0;
    }
    const contextKey = `${context.taskClass}\u0000${context.repo}`;
    let arms = cache.byContext.get(contextKey);
    if (arms === undefined) cache.byContext.set(contextKey, (arms = new Map()));
    const missing = templateIds.filter((id) => !arms.has(id));
    if (missing.length > 0) {
      // The missing templates and their parent chains, whose evidence armEvidenceOf reads.
      const ids = new Set<string>();
      for (const id of missing) for (let at: string | undefined = id, depth = 0; at && depth <= 8 && !ids.has(at); depth++) {
        ids.add(at);
        at = templates.get(at)?.parentTemplateId;
      }
      const { rows } = await this.conn.query<{ template_id: string; task_class: string; repo: string; record: string }>(
        `SELECT template_id, task_class, repo, record FROM learnloop.stats
          WHERE template_id = ANY($1) AND (task_class, repo) IN (('', ''), ($2, ''), ($2, $3))`,
        [[...ids], context.taskClass, context.repo],
      );
      const stats = new Map(rows.map((r) => [statsId([r.template_id, r.task_class, r.repo]), parseExact<StatsRecord>(r.record)]));
      const reader = { template: (id: string) => templates.get(id), stats: (key: StatsKey) => stats.get(statsId(key)) };
      for (const id of missing) {
        arms.set(id, armEvidenceOf(id, context, reader, this.policy));
        cache.entries++;
      }
    }
    return templateIds.map((id) => arms.get(id)!);
  }

  async *events(fromSeq = 1): AsyncGenerator<LoggedEvent> {
    // Commits append in seq order under the lock, so paging by seq misses nothing.
    for (let from = Math.max(1, fromSeq); ; ) {
      const page = await this.eventPage(from, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      from += page.length;
    }
  }

  async eventPage(fromSeq: number, limit: number): Promise<LoggedEvent[]> {
    const { rows } = await this.conn.query<{ body: string }>('SELECT body FROM learnloop.events WHERE seq >= $1 ORDER BY seq LIMIT $2', [Math.max(1, fromSeq), Math.max(0, limit)]);
    return rows.map((r) => parseExact<LoggedEvent>(r.body));
  }

  refinements(): Promise<RefinementRecord[]> {
    return readRefinements(this.conn);
  }

  async loadSnapshot(name: string): Promise<{ seq: number; body: Uint8Array } | undefined> {
    const { rows } = await this.conn.query<{ seq: string; body: Buffer }>('SELECT seq, body FROM learnloop.derived_snapshots WHERE name = $1', [snapshotName(name)]);
    const r = rows[0];
    return r === undefined ? undefined : { seq: Number(r.seq), body: r.body };
  }

  // ---- writes ----------------------------------------------------------------------------

  async saveSnapshot(name: string, seq: number, body: SnapshotBody): Promise<void> {
    const checked = snapshotName(name);
    // One bytea value: the pieces are gathered first (the row is replaced all at once).
    const bytes = await wholeBody(body);
    await this.conn.query(
      'INSERT INTO learnloop.derived_snapshots (name, seq, body) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq, body = EXCLUDED.body',
      [checked, seq, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)],
    );
  }

  /** The view a plan reads through: inside the write's transaction, so it sees exactly the state the write changes. */
  private view(tx: Tx): StateView {
    return {
      template: (id) => readTemplate(tx, id),
      unknownTemplates: (ids) => this.unknownIn(tx, ids, false),
      run: (runId) => readRun(tx, runId),
      decision: (id) => readDecision(tx, id),
      decisionForRequest: (id) => readDecisionForRequest(tx, id),
      refinement: (id) => readRefinement(tx, id),
      openRefinementFor: async (templateId) => (await readRefinements(tx)).find((r) => r.templateId === templateId && r.status === 'open'),
    };
  }

  async commit<T>(atMs: number, plan: Planner<T>): Promise<{ result: T; events: LoggedEvent[] }> {
    return this.conn.write(async (tx) => {
      if (tx.state.head === undefined) {
        // Once per transaction, in one round trip: the head, and the policy the derived state is under.
        const { rows } = await tx.query<{ key: string; value: string }>("SELECT key, value FROM learnloop.meta WHERE key IN ('head', 'policy')");
        const meta = new Map(rows.map((r) => [r.key, r.value]));
        this.checkPolicy(parse<PolicyConfig>(meta.get('policy')));
        tx.state.head = Number(meta.get('head') ?? 0);
      }
      // Plans throw their refusals before anything is written, as Connection.write requires.
      const planned = await plan(this.view(tx));
      if (planned.events.length === 0) return { result: planned.result, events: [] };
      let seq = tx.state.head;
      const events = planned.events.map((body) => ({ ...body, seq: ++seq, atMs }) as LoggedEvent);
      const changes = await projectPrefetched(tx, events, this.policy);
      await tx.query(WRITE_ALL, writeParams(events, changes, headsOf(events)));
      tx.state.head = seq;
      return { result: planned.result, events };
    });
  }

  /**
   * Refuses to write when the database's derived state is under another policy than this replica's:
   * a replica started with other policy flags rebuilt it, and projecting this one's events under
   * the old policy onto it would leave records that match no rebuild. The newest start wins, so a
   * policy change rolls out as the old replicas stop writing (read under the append lock, which
   * rebuild holds while it writes the policy).
   * @param stored the policy in learnloop.meta, read inside the write's transaction
   * @throws Unavailable naming both policy versions.
   */
  private checkPolicy(stored: PolicyConfig | undefined): void {
    const other = this.otherPolicy(stored);
    if (other !== undefined) throw new Unavailable(other);
  }

  /** Why this replica may not write under the `stored` policy, or undefined when it may. */
  private otherPolicy(stored: PolicyConfig | undefined): string | undefined {
    if (stored === undefined || policyVersion(stored) === policyVersion(this.policy)) return undefined;
    return `database unavailable: its derived state is under another policy (${policyVersion(stored)}) than this replica's (${policyVersion(this.policy)}), rebuilt by a replica started with other policy flags; this one writes nothing: restart this replica with the same policy flags`;
  }

  /**
   * Recomputes all derived state from the log in one transaction of its own (other writes wait;
   * reads see the old state until it commits; a rebuild that fails leaves the old state).
   */
  rebuild(): Promise<number> {
    return this.conn.exclusive((tx) => this.rebuildIn(tx));
  }

  private async rebuildIn(tx: Tx): Promise<number> {
    for (const table of ['templates', 'stats', 'runs', 'requests', 'decisions', 'refinements']) await tx.query(`DELETE FROM learnloop.${table}`);
    await tx.query("DELETE FROM learnloop.meta WHERE key <> 'policy'");
    const derived = new Map<string, DerivedChange>();
    const id = (kind: string, key: string | StatsKey) => `${kind}\u0001${typeof key === 'string' ? key : statsId(key)}`;
    const reader: DerivedReader = {
      template: (k) => derived.get(id('template', k))?.value as TemplateRecord | undefined,
      stats: (k) => derived.get(id('stats', k))?.value as StatsRecord | undefined,
      refinement: (k) => derived.get(id('refinement', k))?.value as RefinementRecord | undefined,
    };
    let n = 0;
    let heads: Heads = {};
    for (let from = 1; ; ) {
      const { rows } = await tx.query<{ body: string }>('SELECT body FROM learnloop.events WHERE seq >= $1 ORDER BY seq LIMIT $2', [from, PAGE]);
      const events = rows.map((r) => parseExact<LoggedEvent>(r.body));
      for (const event of events) for (const c of projectAll([event], reader, this.policy)) derived.set(id(c.kind, c.key), c);
      const moved = headsOf(events);
      heads = { ...heads, ...Object.fromEntries(Object.entries(moved).filter(([, v]) => v !== undefined)) };
      n += events.length;
      if (rows.length < PAGE) break;
      from += rows.length;
    }
    const all = [...derived.values()];
    for (let i = 0; i < all.length; i += REBUILD_CHUNK) {
      await tx.query(WRITE_ALL, writeParams([], all.slice(i, i + REBUILD_CHUNK), i === 0 ? heads : {}));
    }
    if (all.length === 0 && heads.head !== undefined) await tx.query(WRITE_ALL, writeParams([], [], heads));
    await this.putPolicy(tx);
    return n;
  }

  async derivedSnapshot(): Promise<DerivedSnapshot> {
    return this.conn.read(async (tx) => {
      const records: Array<{ kind: DerivedChange['kind']; key: unknown; value: unknown }> = [];
      const rowsOf = async (sql: string) => (await tx.query<Record<string, string | number>>(sql)).rows;
      for (const r of await rowsOf('SELECT template_id, record FROM learnloop.templates')) records.push({ kind: 'template', key: r.template_id, value: parseExact(String(r.record)) });
      for (const r of await rowsOf('SELECT template_id, task_class, repo, record FROM learnloop.stats')) {
        records.push({ kind: 'stats', key: [r.template_id, r.task_class, r.repo], value: parseExact(String(r.record)) });
      }
      for (const r of await rowsOf('SELECT run_id, seq FROM learnloop.runs')) records.push({ kind: 'run', key: r.run_id, value: { seq: r.seq } });
      for (const r of await rowsOf('SELECT decision_id, seq FROM learnloop.decisions')) records.push({ kind: 'decision', key: r.decision_id, value: { seq: r.seq } });
      for (const r of await rowsOf('SELECT request_id, decision_id FROM learnloop.requests')) records.push({ kind: 'request', key: r.request_id, value: { decisionId: r.decision_id } });
      for (const r of await rowsOf('SELECT refinement_id, record FROM learnloop.refinements')) records.push({ kind: 'refinement', key: r.refinement_id, value: parseExact(String(r.record)) });
      return canonicalSnapshot(await readHead(tx), records);
    });
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}

/**
 * Whether the database `url` names holds a learnloop store (tables in the `learnloop` schema), creating nothing:
 * commands that only read refuse a database without one, as they refuse a folder without a store.
 * @throws Unavailable when the database cannot be reached.
 */
export async function hasPgStore(url: string): Promise<boolean> {
  const conn = new Connection(url, { max: 1 });
  try {
    // Any table in the schema counts: open() then says whether it is learnloop's or another program's.
    const { rows } = await conn.query<{ present: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'learnloop') AS present",
    );
    return rows[0]?.present === true;
  } finally {
    await conn.end();
  }
}

/** The URL without its password, for logs and messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

async function readHead(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ value: string }>("SELECT value FROM learnloop.meta WHERE key = 'head'");
  return Number(rows[0]?.value ?? 0);
}

async function readTemplate(q: Queryable, templateId: string): Promise<TemplateRecord | undefined> {
  const { rows } = await q.query<{ record: string }>('SELECT record FROM learnloop.templates WHERE template_id = $1', [templateId]);
  return parse<TemplateRecord>(rows[0]?.record);
}

async function readRun(q: Queryable, runId: string): Promise<(ObservationEvent & LoggedEvent) | undefined> {
  const { rows } = await q.query<{ body: string }>('SELECT e.body FROM learnloop.runs r JOIN learnloop.events e USING (seq) WHERE r.run_id = $1', [runId]);
  return parse(rows[0]?.body);
}

async function readDecision(q: Queryable, decisionId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
  const { rows } = await q.query<{ body: string }>('SELECT e.body FROM learnloop.decisions d JOIN learnloop.events e USING (seq) WHERE d.decision_id = $1', [decisionId]);
  return parse(rows[0]?.body);
}

async function readDecisionForRequest(q: Queryable, requestId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
  const { rows } = await q.query<{ body: string }>(
    'SELECT e.body FROM learnloop.requests r JOIN learnloop.decisions d USING (decision_id) JOIN learnloop.events e USING (seq) WHERE r.request_id = $1',
    [requestId],
  );
  return parse(rows[0]?.body);
}

async function readRefinement(q: Queryable, refinementId: string): Promise<RefinementRecord | undefined> {
  const { rows } = await q.query<{ record: string }>('SELECT record FROM learnloop.refinements WHERE refinement_id = $1', [refinementId]);
  return parse(rows[0]?.record);
}

async function readRefinements(q: Queryable): Promise<RefinementRecord[]> {
  const { rows } = await q.query<{ record: string }>('SELECT record FROM learnloop.refinements ORDER BY refinement_id COLLATE "C"');
  return rows.map((r) => parseExact<RefinementRecord>(r.record));
}

/**
 * projectAll over the records it reads, fetched first: it runs on a reader that notes what it
 * lacks, the notes are fetched in one query, and it runs again until nothing is lacking (twice,
 * for every projection so far). Keeps the projection pure and the adapter free of its rules.
 * Records an earlier write in the same transaction read or wrote are not fetched again (a batch
 * of Observes on a few templates fetches each segment once).
 */
async function projectPrefetched(tx: Tx, events: readonly LoggedEvent[], policy: PolicyConfig): Promise<DerivedChange[]> {
  const have = tx.state.records;
  const id = (kind: string, key: string) => `${kind}\u0001${key}`;
  for (;;) {
    const lack = { template: new Set<string>(), stats: new Map<string, StatsKey>(), refinement: new Set<string>() };
    const read = <T>(kind: 'template' | 'refinement', k: string): T | undefined => {
      if (have.has(id(kind, k))) return have.get(id(kind, k)) as T | undefined;
      lack[kind].add(k);
      return undefined;
    };
    const reader: DerivedReader = {
      template: (k) => read<TemplateRecord>('template', k),
      stats: (k) => (have.has(id('stats', statsId(k))) ? (have.get(id('stats', statsId(k))) as StatsRecord | undefined) : void lack.stats.set(statsId(k), k)),
      refinement: (k) => read<RefinementRecord>('refinement', k),
    };
    const changes = projectAll(events, reader, policy);
    if (lack.template.size + lack.stats.size + lack.refinement.size === 0) {
      for (const c of changes) {
        if (c.kind === 'template' || c.kind === 'refinement') have.set(id(c.kind, c.key), c.value);
        else if (c.kind === 'stats') have.set(id('stats', statsId(c.key)), c.value);
      }
      return changes;
    }
    const stats = [...lack.stats.values()];
    const { rows } = await tx.query<{ kind: 'template' | 'stats' | 'refinement'; a: string; b: string; c: string; record: string }>(
      `SELECT 'template' AS kind, template_id AS a, '' AS b, '' AS c, record FROM learnloop.templates WHERE template_id = ANY($1)
       UNION ALL
       SELECT 'stats', template_id, task_class, repo, record FROM learnloop.stats
        WHERE (template_id, task_class, repo) IN (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))
       UNION ALL
       SELECT 'refinement', refinement_id, '', '', record FROM learnloop.refinements WHERE refinement_id = ANY($5)`,
      [[...lack.template], stats.map((k) => k[0]), stats.map((k) => k[1]), stats.map((k) => k[2]), [...lack.refinement]],
    );
    for (const k of lack.template) have.set(id('template', k), undefined);
    for (const k of lack.stats.keys()) have.set(id('stats', k), undefined);
    for (const k of lack.refinement) have.set(id('refinement', k), undefined);
    for (const r of rows) have.set(id(r.kind, r.kind === 'stats' ? statsId([r.a, r.b, r.c]) : r.a), parseExact(r.record));
  }
}
