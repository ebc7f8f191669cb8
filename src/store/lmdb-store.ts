import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, statfsSync, statSync } from 'node:fs';
import { readFile, rename, rm, statfs } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { dirname, join, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import {
  armEvidenceOf,
  DERIVED_GROUPS,
  isStoreFault,
  policyVersion,
  projectAll,
  StorageFull,
  Unavailable,
  type ArmEvidence,
  type Context,
  type DecisionEvent,
  type DerivedChange,
  type DerivedReader,
  type EventBody,
  type LoggedEvent,
  type ObservationEvent,
  type PolicyConfig,
  type RefinementRecord,
  type StatsKey,
  type StatsRecord,
  type TemplateRecord,
} from '../bandit/index.js';
import { decode, decodeOwned, encode } from './codec.js';
import { DB_NAMES, DERIVED_DBS, idKey, segmentRange, statsKey, type DbName } from './keys.js';
import { UnusableStore, type Plan, type Planner, type StateView, type Store, type StoreOptions } from './port.js';
import { canonicalSnapshot, snapshotName, type DerivedSnapshot, type SnapshotBody } from './snapshot.js';

/**
 * Where each database keeps msgpack's shared record structures, so a record carries a structure id
 * instead of its field names (reads ~4x faster, records several times smaller). Range reads skip the symbol
 * key; the log's slot is seq 0, before the first event. Structures are only ever added (rebuild
 * removes records, never them), which is what lets several processes share them.
 */
const STRUCTURES_KEY = Symbol.for('structures');
const STRUCTURES_SEQ = 0;
/** The segments database has raw byte keys, which all start with '[' or '#'. */
const STRUCTURES_BYTES = Buffer.from([0]);
const FIRST_SEGMENT_KEY = Buffer.from([1]);
/**
 * meta 'format', a plain number any build can read: 1 had self-describing records, 2 shares record
 * structures (which a format-1 build cannot decode), 3 keys stats by segment with keys that always
 * fit (keys.ts). A build refuses folders of a later format; an earlier one is rebuilt on open.
 */
export const FOLDER_FORMAT = 3;

/** Free bytes on the folder's filesystem after which writes that failed for lack of space are tried again. */
const FREE_BYTES_TO_RESUME = 1 << 20;
/** How long to wait for lmdb-js's cause of a failed commit (it arrives with the write thread's status). */
const CAUSE_WAIT_MS = 1000;
const DISK_FULL = /ENOSPC|EDQUOT|MDB_MAP_FULL|no space|quota/i;

/**
 * A write that failed for an I/O reason as a domain error (disk full: StorageFull, other I/O:
 * Unavailable); anything else is returned as it is. lmdb-js rejects a failed commit with "Commit
 * failed" and the cause in `commitError`, a promise that rejects later: it is always handled here,
 * since an unhandled rejection would end the process.
 */
export async function ioFault(err: unknown, location: string): Promise<unknown> {
  const pending = (err as { commitError?: unknown } | null)?.commitError;
  const rawCode = (err as { code?: unknown } | null)?.code;
  // lmdb-js's synchronous transactions give the errno as a number.
  const code = typeof rawCode === 'number' ? ERRNO_NAMES.get(rawCode) : rawCode;
  let cause: unknown;
  let name = '';
  if (pending instanceof Promise) {
    let timer: NodeJS.Timeout | undefined;
    cause = await Promise.race([
      pending.then(() => undefined, (e: unknown) => e),
      new Promise((resolve) => (timer = setTimeout(resolve, CAUSE_WAIT_MS).unref())),
    ]);
    clearTimeout(timer);
    const c = (cause as { code?: unknown } | null)?.code;
    if (c !== undefined) name = String(typeof c === 'number' ? (ERRNO_NAMES.get(c) ?? c) : c);
  } else if (typeof code === 'string' && /^E(NOSPC|DQUOT|IO|ROFS)$/.test(code)) {
    cause = err;
    name = code;
  } else return err;
  const detail = cause instanceof Error ? `${cause.message}${name !== '' ? ` (${name})` : ''}` : 'no cause given';
  // LMDB reports a write cut short by a full disk as EIO, so an EIO on a full filesystem is a full disk.
  const full = DISK_FULL.test(detail) || (/EIO|Input\/output error/.test(detail) && (await freeBytes(location)) < FREE_BYTES_TO_RESUME);
  return full
    ? new StorageFull(`disk full: the store ${location} cannot write (${detail}); reads still work, writes resume once space is freed`)
    : new Unavailable(`store write failed: ${detail}; reads still work; retry later (the same run_id or request_id is safe)`);
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));

/** Free bytes on the filesystem holding `location` (Infinity when it cannot be asked). */
async function freeBytes(location: string): Promise<number> {
  const fs = await statfs(location).catch(() => undefined);
  return fs === undefined ? Infinity : fs.bavail * fs.bsize;
}

/**
 * lmdb-js also rejects, on a failed commit, promises of writes it batched that no caller awaits
 * (msgpack's shared-structure saves): left unhandled they would end the process. Those are dropped
 * here (the caller of the failed commit gets its own error); any other unhandled rejection still
 * ends the process, as Node's default does.
 */
let ignoringOrphanCommitFailures = false;
function ignoreOrphanCommitFailures(): void {
  if (ignoringOrphanCommitFailures) return;
  ignoringOrphanCommitFailures = true;
  process.on('unhandledRejection', (reason) => {
    const pending = (reason as { commitError?: unknown } | null)?.commitError;
    if (!(pending instanceof Promise)) throw reason;
    pending.catch(() => undefined);
  });
}

/** The folder is served by a live process under another policy: this one must not touch it. */
export class FolderInUse extends Error {}

/**
 * LMDB's data file starts with two meta pages. A file shorter than that but not empty (a creation
 * cut short) is not one LMDB can open; an empty one it initialises as a new store.
 */
const MIN_DATA_FILE_BYTES = 2 * 4096;

/**
 * Whether the LMDB folder `path` holds a store: false when the folder or its data file is missing,
 * or the data file is empty (a creation cut short by a kill or a full disk: LMDB makes a new store
 * in it, where there is room; on a full disk it would die reading it with SIGBUS).
 * @throws UnusableStore when the data file is cut short
 */
export function hasLmdbStore(path: string): boolean {
  const size = statSync(join(path, 'data.mdb'), { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) return false;
  if (size < MIN_DATA_FILE_BYTES) {
    throw new UnusableStore(`${path}: its data file is cut short (data.mdb, ${size} bytes; LMDB's two meta pages take ${MIN_DATA_FILE_BYTES}): remove the folder, or restore it from a backup`);
  }
  return true;
}

/**
 * Refuses to create a store on a filesystem without room for it: LMDB writes a new store's first
 * pages through its memory map, where a full disk kills the process with SIGBUS and leaves an
 * empty data file behind.
 */
function assertRoomForNewStore(path: string): void {
  let existing = resolve(path);
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  let free: number;
  try {
    const fs = statfsSync(existing);
    free = fs.bavail * fs.bsize;
  } catch {
    return; // LMDB reports whatever keeps it from creating the folder
  }
  if (free < FREE_BYTES_TO_RESUME) {
    throw new StorageFull(`disk full: cannot create the store ${path} (${free} bytes free on its filesystem; a new store needs ${FREE_BYTES_TO_RESUME}); nothing was created`);
  }
}

/** Whether a process with this id is running (on this machine: LMDB folders are local). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A stats record as stored: with its key's ids, since the key may hold their hash. */
interface StoredStats extends StatsRecord {
  readonly templateId: string;
  readonly taskClass: string;
  readonly repo: string;
}

/** Entries the read cache holds before it starts over (bounds memory with many segments). */
const READ_CACHE_ENTRIES = 100_000;
/** Events the read cache reads to follow the log; further behind, it starts over. */
const CACHE_CATCH_UP_EVENTS = 256;

/** Times a write is re-planned when another write changed what it read; only a pathological race exhausts it. */
const MAX_REPLANS = 1000;

const DB_OF: Record<DerivedChange['kind'], DbName> = { ...DERIVED_GROUPS, stats: 'segments' };
const KIND_OF = Object.fromEntries(Object.entries(DB_OF).map(([k, v]) => [v, k])) as Record<DbName, DerivedChange['kind']>;

/** A read a plan made: which record, and its bytes then (undefined when absent). */
type Read = readonly [DbName, Key, Buffer | undefined];

/**
 * The LMDB adapter: an append-only event log plus derived state updated in the same transaction.
 * A write plans on a read snapshot, recording what it read; its transaction re-checks those
 * records and re-plans if another write (in this process or another on the folder) changed them.
 * lmdb-js serialises transactions (also across processes) and batches concurrent ones into one commit.
 */
export class LmdbStore implements Store {
  private readonly root: RootDatabase;
  private readonly dbs: Record<DbName, Database>;
  private currentPolicy: PolicyConfig;
  private closed = false;
  /** The writes opening deferred until prepare() (a server binds its port first). */
  private pending: (() => Promise<void>) | undefined;
  /** This server's entry in meta 'servers' (several servers may share one process in tests). */
  private readonly registration = `${process.pid}:${randomUUID()}`;
  private registered = false;
  /** The last write failed for an I/O reason (see healthProblem()). */
  private writesFailing = false;
  /**
   * The last commit failed and nothing was written since: lmdb-js then never settles that commit's
   * flush, and both `root.flushed` and `root.close()` wait for it (a CLI that awaited them had no
   * work left, so Node exited 0 before the error was printed). close() does not wait for them then.
   */
  private flushNeverComes = false;
  /**
   * What Recommend reads (template ids, evidence), valid while meta 'stateHead' is `seq`. Every event
   * that can change templates or stats bumps stateHead, in this process or any other on the same
   * folder; decisions do not, so a Recommend-heavy load keeps its cache.
   */
  private readCache = {
    seq: -1,
    templateIds: new Set<string>(),
    /** By context, then template id. */
    evidence: new Map<string, Map<string, ArmEvidence>>(),
    /** By template id: the cached arms whose evidence includes it (itself, or as a parent), as [context, arm id]. */
    dependents: new Map<string, Array<readonly [string, string]>>(),
    entries: 0,
  };
  /** templates() as of meta 'templatesHead', which only template events bump. */
  private templateCache: { head: number; records: readonly TemplateRecord[] } = { head: -1, records: [] };
  /** The projection's view of the current derived state (inside a transaction: including its writes). */
  private readonly reader: DerivedReader = {
    template: (id) => this.templateSync(id),
    stats: (key) => this.statsSync(key),
    refinement: (id) => this.refinementSync(id),
  };

  private constructor(
    readonly location: string,
    options: StoreOptions,
    root: RootDatabase,
  ) {
    this.currentPolicy = options.policy;
    this.root = root;
    const dbs = {} as Record<DbName, Database>;
    for (const name of DB_NAMES) {
      dbs[name] = this.root.openDB(
        name,
        name === 'events'
          ? { keyEncoding: 'uint32', sharedStructuresKey: STRUCTURES_SEQ }
          : name === 'segments'
            ? { keyEncoding: 'binary', sharedStructuresKey: STRUCTURES_BYTES }
            : { sharedStructuresKey: STRUCTURES_KEY },
      );
    }
    this.dbs = dbs;
  }

  /**
   * Opens (creating if needed) the store in `path`; rebuilds derived state if the policy changed.
   * @throws UnusableStore when the folder was written by a newer learnloop (a later folder format), its data file is cut short, or it is another program's LMDB environment; StorageFull when a new store (or an empty data file) has no room.
   */
  static async open(path: string, options: StoreOptions): Promise<LmdbStore> {
    ignoreOrphanCommitFailures();
    if (!hasLmdbStore(path)) assertRoomForNewStore(path);
    // Always a folder: lmdb-js would take a path with an extension (learnloop.db, data.v2) for a data file.
    const root = open({ path, noSubdir: false, noSync: options.noSync ?? false });
    // Opening the named databases creates them: never in another program's environment (one with
    // names in its main database, none of them learnloop's 'meta').
    const names = Array.from(root.getKeys({ limit: 4 }), String);
    if (names.length > 0 && Array.from(root.getKeys({ start: 'meta', limit: 1 }))[0] !== 'meta') {
      await root.close();
      throw new UnusableStore(`${path}: its data.mdb is another program's LMDB environment (holding ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}), not a learnloop store; nothing was written to it`);
    }
    const store = new LmdbStore(path, options, root);
    const format = store.dbs.meta.get('format') as number | undefined;
    if (format !== undefined && format > FOLDER_FORMAT) {
      await store.root.close();
      throw new UnusableStore(`${path} was written by a newer learnloop (folder format ${format}; this one reads up to ${FOLDER_FORMAT}): upgrade learnloop to open it`);
    }
    const serving = options.onPolicyChange !== 'adopt';
    const other = serving ? store.serverUnderOtherPolicy(options.policy) : undefined;
    if (other !== undefined) {
      await store.root.close();
      throw new FolderInUse(`${path} is in use by learnloop process ${other.pid} under another policy (${other.policyVersion}); stop it, or start with the same policy settings`);
    }
    const derivedWith = store.dbs.meta.get('policy') as PolicyConfig | undefined;
    if (!serving && derivedWith !== undefined) store.currentPolicy = derivedWith;
    const empty = derivedWith === undefined && store.headSync() === 0;
    const stale = !empty && (format === undefined || format < FOLDER_FORMAT || derivedWith === undefined || policyVersion(derivedWith) !== policyVersion(store.currentPolicy));
    store.pending = async () => {
      if (empty) {
        await store.durably(() =>
          store.root.transaction(() => {
            store.dbs.meta.put('policy', store.currentPolicy);
            store.dbs.meta.put('format', FOLDER_FORMAT);
          }),
        );
      } else if (stale) await store.rebuild();
      if (serving) await store.register();
    };
    if (options.deferWrites !== true) await store.prepare();
    return store;
  }

  /** Writes what opening needs (the folder's policy and format, a rebuild, this server's registration); once. */
  async prepare(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    await pending?.();
  }

  /** A live server process registered on the folder under a policy other than `policy`. */
  private serverUnderOtherPolicy(policy: PolicyConfig): { pid: number; policyVersion: string } | undefined {
    const servers = (this.dbs.meta.get('servers') as Record<string, { pid: number; policyVersion: string }> | undefined) ?? {};
    return Object.values(servers).find((s) => s.policyVersion !== policyVersion(policy) && alive(s.pid));
  }

  /** Registers this server on the folder, re-checking in the same transaction that no other policy is live; drops dead entries. */
  private async register(): Promise<void> {
    // Synchronous: lmdb-js leaves an asynchronous transaction this large unsettled when its commit
    // fails (a full disk), where a synchronous one throws. A rebuild runs before serving, or in the CLI.
    const outcome = await this.durably(async () => this.root.transactionSync(() => {
      const other = this.serverUnderOtherPolicy(this.currentPolicy);
      if (other !== undefined) return other;
      const servers = (this.dbs.meta.get('servers') as Record<string, { pid: number; policyVersion: string }> | undefined) ?? {};
      const live = Object.fromEntries(Object.entries(servers).filter(([, s]) => alive(s.pid)));
      this.dbs.meta.put('servers', { ...live, [this.registration]: { pid: process.pid, policyVersion: policyVersion(this.currentPolicy) } });
      return undefined;
    }));
    if (outcome !== undefined) {
      throw new FolderInUse(`${this.location} is in use by learnloop process ${outcome.pid} under another policy (${outcome.policyVersion}); stop it, or start with the same policy settings`);
    }
    this.registered = true;
  }

  get policy(): PolicyConfig {
    return this.currentPolicy;
  }

  async head(): Promise<number> {
    return this.headSync();
  }

  private headSync(): number {
    return (this.dbs.meta.get('head') as number | undefined) ?? 0;
  }

  // ---- reads -----------------------------------------------------------------------------

  private templateSync(templateId: string): TemplateRecord | undefined {
    return decode<TemplateRecord>(this.dbs.templates.get(idKey(templateId)), 'template');
  }

  private statsSync(key: StatsKey): StatsRecord | undefined {
    const stored = decode<StoredStats>(this.dbs.segments.get(statsKey(key)), 'stats');
    if (stored === undefined) return undefined;
    // The spread sums (policy /5) are part of the record: the projection reads them back to update them.
    const { templateId: _, taskClass: __, repo: ___, ...record } = stored;
    return record;
  }

  private refinementSync(refinementId: string): RefinementRecord | undefined {
    return decode<RefinementRecord>(this.dbs.refinements.get(idKey(refinementId)), 'refinement');
  }

  private eventSync(seq: number): LoggedEvent | undefined {
    return decodeOwned<LoggedEvent>(this.dbs.events.get(seq), 'event');
  }

  async template(templateId: string): Promise<TemplateRecord | undefined> {
    return this.templateSync(templateId);
  }

  async unknownTemplates(templateIds: readonly string[]): Promise<string[]> {
    return this.unknownTemplatesSync(templateIds);
  }

  async run(runId: string): Promise<(ObservationEvent & LoggedEvent) | undefined> {
    return this.planView().run(runId);
  }

  async decision(decisionId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
    return this.planView().decision(decisionId);
  }

  async decisionForRequest(requestId: string): Promise<(DecisionEvent & LoggedEvent) | undefined> {
    return this.planView().decisionForRequest(requestId);
  }

  async refinement(refinementId: string): Promise<RefinementRecord | undefined> {
    return this.refinementSync(refinementId);
  }

  async openRefinementFor(templateId: string): Promise<RefinementRecord | undefined> {
    return this.planView().openRefinementFor(templateId);
  }

  /** Every template, in id order; cached until the next template event (Observe's reply reads them all). */
  async templates(): Promise<readonly TemplateRecord[]> {
    const head = this.dbs.meta.get('templatesHead') as number | undefined;
    if (head !== undefined && head === this.templateCache.head) return this.templateCache.records;
    const out: TemplateRecord[] = [];
    for (const { value } of this.dbs.templates.getRange({})) out.push(decode<TemplateRecord>(value, 'template')!);
    if (head !== undefined) this.templateCache = { head, records: out };
    return out;
  }

  async stats(key: StatsKey): Promise<StatsRecord | undefined> {
    return this.statsSync(key);
  }

  async statsForSegment(taskClass: string, repo: string): Promise<Array<{ templateId: string; stats: StatsRecord }>> {
    const out: Array<{ templateId: string; stats: StatsRecord }> = [];
    for (const { value } of this.dbs.segments.getRange(segmentRange(taskClass, repo))) {
      const { templateId, evidence, counters } = decode<StoredStats>(value, 'stats')!;
      out.push({ templateId, stats: { evidence, counters } });
    }
    return out;
  }

  async armEvidence(templateIds: readonly string[], context: Context): Promise<ArmEvidence[]> {
    const cache = this.freshReadCache();
    if (cache === undefined) return templateIds.map((id) => armEvidenceOf(id, context, this.reader, this.policy));
    const contextKey = `${context.taskClass}\u0000${context.repo}`;
    let arms = cache.evidence.get(contextKey);
    if (arms === undefined) cache.evidence.set(contextKey, (arms = new Map()));
    return templateIds.map((id) => {
      let arm = arms.get(id);
      if (arm === undefined) {
        arms.set(id, (arm = armEvidenceOf(id, context, this.reader, this.policy)));
        // Each note counts as an entry, so the notes a parent gathers are bounded by READ_CACHE_ENTRIES too.
        for (let a: ArmEvidence | undefined = arm; a !== undefined; a = a.parent) {
          let list = cache.dependents.get(a.armId);
          if (list === undefined) cache.dependents.set(a.armId, (list = []));
          list.push([contextKey, id]);
          cache.entries++;
        }
      }
      return arm;
    });
  }

  async *events(fromSeq = 1): AsyncGenerator<LoggedEvent> {
    yield* this.eventsSync(fromSeq);
  }

  async eventPage(fromSeq: number, limit: number): Promise<LoggedEvent[]> {
    const page: LoggedEvent[] = [];
    // Seq 0 holds the record structures, not an event.
    for (const { value } of this.dbs.events.getRange({ start: Math.max(1, fromSeq), limit: Math.max(0, limit) })) page.push(decodeOwned<LoggedEvent>(value, 'event')!);
    return page;
  }

  private *eventsSync(fromSeq = 1): Generator<LoggedEvent> {
    for (const { value } of this.dbs.events.getRange({ start: Math.max(1, fromSeq) })) yield decodeOwned<LoggedEvent>(value, 'event')!;
  }

  async refinements(): Promise<RefinementRecord[]> {
    return this.refinementsSync();
  }

  private refinementsSync(): RefinementRecord[] {
    return [...this.dbs.refinements.getRange({})].map(({ value }) => decode<RefinementRecord>(value, 'refinement')!);
  }

  /**
   * The read cache brought up to meta 'stateHead', or undefined when the folder predates that key
   * (then every read goes to LMDB). When a few events moved it (in this process or another), only
   * the arms they touched are dropped: an Observe changes one template's evidence, so the others'
   * stay cached (Observe's reply and Recommend read them again). A template event, or many events,
   * empties it.
   */
  private freshReadCache(): LmdbStore['readCache'] | undefined {
    const seq = this.dbs.meta.get('stateHead') as number | undefined;
    if (seq === undefined) return undefined;
    const cache = this.readCache;
    if (cache.seq === seq && cache.entries <= READ_CACHE_ENTRIES) return cache;
    let touched: Set<string> | undefined = new Set();
    if (cache.seq < 0 || seq < cache.seq || seq - cache.seq > CACHE_CATCH_UP_EVENTS || cache.entries > READ_CACHE_ENTRIES) touched = undefined;
    else {
      for (const { value } of this.dbs.events.getRange({ start: cache.seq + 1, end: seq + 1 })) {
        const e = decodeOwned<LoggedEvent>(value, 'event')!;
        if (e.type === 'template') {
          touched = undefined;
          break;
        }
        if (e.type === 'observation') touched.add(e.observation.armId);
      }
    }
    cache.seq = seq;
    if (touched === undefined) {
      cache.evidence.clear();
      cache.dependents.clear();
      cache.entries = 0;
      return cache;
    }
    for (const id of touched) {
      for (const [context, armId] of cache.dependents.get(id) ?? []) {
        if (cache.evidence.get(context)?.delete(armId)) cache.entries--;
      }
      cache.dependents.delete(id);
    }
    return cache;
  }

  /** The candidates not known to be registered (a registered one may be listed when the folder has no read cache). */
  private unknownTemplatesSync(templateIds: readonly string[]): string[] {
    const cache = this.freshReadCache();
    if (cache === undefined) return templateIds.filter((id) => !this.dbs.templates.doesExist(idKey(id)));
    return templateIds.filter((id) => {
      if (cache.templateIds.has(id)) return false;
      if (!this.dbs.templates.doesExist(idKey(id))) return true;
      cache.templateIds.add(id);
      return false;
    });
  }

  /**
   * The view a plan reads through. With `reads`, every record it looks at is noted with its bytes,
   * so the write transaction can tell whether the plan still holds. Events are never rewritten, so
   * reading one by seq needs no note; templates are never deleted, so neither does a known one.
   */
  private planView(reads?: Read[]): StateView {
    const get = (db: DbName, id: string): unknown => {
      const key = db === 'meta' ? id : idKey(id);
      if (reads !== undefined) reads.push([db, key, this.dbs[db].getBinary(key)]);
      return this.dbs[db].get(key);
    };
    const decisionBySeq = (rec: { seq: number } | undefined) =>
      rec === undefined ? undefined : (this.eventSync(rec.seq) as DecisionEvent & LoggedEvent);
    const view: StateView = {
      template: async (id) => decode<TemplateRecord>(get('templates', id), 'template'),
      unknownTemplates: async (ids) => {
        const unknown = this.unknownTemplatesSync(ids);
        for (const id of unknown) get('templates', id);
        return unknown;
      },
      run: async (runId) => {
        const rec = decode<{ seq: number }>(get('runs', runId), 'run index');
        return rec === undefined ? undefined : (this.eventSync(rec.seq) as ObservationEvent & LoggedEvent);
      },
      decision: async (id) => decisionBySeq(decode<{ seq: number }>(get('decisions', id), 'decision index')),
      decisionForRequest: async (requestId) => {
        const rec = decode<{ decisionId: string }>(get('requests', requestId), 'request index');
        return rec === undefined ? undefined : view.decision(rec.decisionId);
      },
      refinement: async (id) => decode<RefinementRecord>(get('refinements', id), 'refinement'),
      openRefinementFor: async (templateId) => {
        // Any refinement event moves this mark, so a plan that scanned the items notices a new one.
        get('meta', 'refinementsHead');
        return this.refinementsSync().find((r) => r.templateId === templateId && r.status === 'open');
      },
    };
    return view;
  }

  // ---- writes ----------------------------------------------------------------------------

  async commit<T>(atMs: number, plan: Planner<T>): Promise<{ result: T; events: LoggedEvent[] }> {
    this.assertOpen();
    for (let attempt = 0; attempt < MAX_REPLANS; attempt++) {
      const reads: Read[] = [];
      const planned: Plan<T> = await plan(this.planView(reads));
      if (planned.events.length === 0) return { result: planned.result, events: [] };
      const outcome = await this.durably(() =>
        this.root.transaction(() => {
          for (const [db, key, bytes] of reads) {
            const now = this.dbs[db].getBinary(key);
            if (now === undefined ? bytes !== undefined : bytes === undefined || !now.equals(bytes)) return null;
          }
          return this.allOrNothing(() => this.append(planned.events, atMs));
        }),
      );
      if (outcome !== null) {
        if ('error' in outcome) throw outcome.error;
        return { result: planned.result, events: outcome.value };
      }
      // Another write got there first: plan again on the state it left.
      this.root.resetReadTxn();
    }
    throw new Unavailable('the store is too busy with conflicting writes; try again');
  }

  /**
   * Runs a write transaction and waits until it is on disk; an I/O failure (a full disk) becomes a
   * domain error and marks writes as failing until one succeeds or space returns.
   */
  private async durably<T>(transaction: () => Promise<T>): Promise<T> {
    try {
      const value = await transaction();
      this.flushNeverComes = false;
      await this.root.flushed;
      this.writesFailing = false;
      return value;
    } catch (err) {
      const fault = await ioFault(err, this.location);
      if (isStoreFault(fault)) this.writesFailing = this.flushNeverComes = true;
      throw fault;
    }
  }

  /** A problem while writes fail for an I/O reason; none again once the filesystem has free space. */
  async healthProblem(): Promise<string | undefined> {
    if (this.writesFailing) {
      const free = await freeBytes(this.location);
      if (free !== Infinity && free >= FREE_BYTES_TO_RESUME) this.writesFailing = false;
    }
    return this.writesFailing ? `writes to ${this.location} fail (a full disk or another I/O fault)` : undefined;
  }

  /**
   * Inside a write transaction: runs `write` in a child transaction, which LMDB discards if it
   * throws. (lmdb-js does not roll back what a throwing transaction callback already wrote, and
   * its promise never settles: every write goes through here.)
   */
  private allOrNothing<T>(write: () => T): { value: T } | { error: unknown } {
    try {
      return { value: this.root.childTransaction(write) as unknown as T };
    } catch (error) {
      return { error };
    }
  }

  /** Inside a write transaction: logs the events and writes their derived changes. */
  private append(bodies: readonly EventBody[], atMs: number): LoggedEvent[] {
    let seq = this.headSync();
    const events = bodies.map((body) => ({ ...body, seq: ++seq, atMs }) as LoggedEvent);
    const changes = projectAll(events, this.reader, this.policy);
    for (const event of events) this.dbs.events.put(event.seq, encode(event));
    this.writeDerived(events, changes);
    return events;
  }

  /** Writes derived changes and the heads the read caches key on. */
  private writeDerived(events: readonly LoggedEvent[], changes: readonly DerivedChange[]): void {
    for (const c of changes) {
      if (c.kind === 'stats') {
        const [templateId, taskClass, repo] = c.key;
        this.dbs.segments.put(statsKey(c.key), encode<StoredStats>({ templateId, taskClass, repo, ...c.value }));
      } else this.dbs[DB_OF[c.kind]].put(idKey(c.key), encode(c.value));
    }
    const last = (pred: (e: LoggedEvent) => boolean) => events.findLast(pred)?.seq;
    const heads: Array<[string, number | undefined]> = [
      ['head', events.at(-1)?.seq],
      // Every event but a decision may change templates or stats; read caches key on this.
      ['stateHead', last((e) => e.type !== 'decision')],
      ['templatesHead', last((e) => e.type === 'template')],
      ['refinementsHead', last((e) => e.type === 'refinement_opened' || e.type === 'refinement_decided')],
    ];
    for (const [key, value] of heads) if (value !== undefined) this.dbs.meta.put(key, value);
  }

  /**
   * Recomputes all derived state from the log, in one transaction: a rebuild that fails (a full
   * disk: StorageFull) or is killed leaves the folder exactly as it was. @returns events replayed.
   */
  async rebuild(): Promise<number> {
    this.assertOpen();
    // Synchronous: lmdb-js leaves an asynchronous transaction this large unsettled when its commit
    // fails (a full disk), where a synchronous one throws. A rebuild runs before serving, or in the CLI.
    const outcome = await this.durably(async () => this.root.transactionSync(() =>
      this.allOrNothing(() => {
        // Key by key rather than clearSync: dropping a database would also drop its shared record
        // structures, which other processes on the folder keep using. 'stats' is format 2's.
        for (const name of [...DERIVED_DBS, 'stats' as const]) {
          const range = name === 'segments' ? { start: FIRST_SEGMENT_KEY } : {};
          for (const key of [...this.dbs[name].getKeys(range)]) this.dbs[name].remove(key);
        }
        let n = 0;
        for (const event of this.eventsSync()) {
          this.writeDerived([event], projectAll([event], this.reader, this.policy));
          n++;
        }
        this.dbs.meta.put('policy', this.policy);
        this.dbs.meta.put('format', FOLDER_FORMAT);
        return n;
      }),
    ));
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  async derivedSnapshot(): Promise<DerivedSnapshot> {
    const records: Array<{ kind: DerivedChange['kind']; key: unknown; value: unknown }> = [];
    for (const name of DERIVED_DBS) {
      if (name === 'meta') continue;
      if (name === 'segments') {
        for (const { value } of this.dbs.segments.getRange({ start: FIRST_SEGMENT_KEY })) {
          const { templateId, taskClass, repo, ...stats } = decode<StoredStats>(value, 'stats')!;
          records.push({ kind: 'stats', key: [templateId, taskClass, repo], value: stats });
        }
        continue;
      }
      for (const { key, value } of this.dbs[name].getRange({})) records.push({ kind: KIND_OF[name], key, value: decode(value, name) });
    }
    return canonicalSnapshot(this.headSync(), records);
  }

  /**
   * A file in the folder beside the environment, not a record in it: a large snapshot written again
   * and again would grow the map file for good (LMDB never gives space back), and a failed write
   * (a full disk) fails only this file, not the environment's writes or the store's health.
   * Format: the seq as a float64 (little-endian), then the body.
   */
  private derivedPath(name: string): string {
    return join(this.location, `derived-${snapshotName(name)}.snapshot`);
  }

  async loadSnapshot(name: string): Promise<{ seq: number; body: Uint8Array } | undefined> {
    const bytes = await readFile(this.derivedPath(name)).catch(() => undefined);
    if (bytes === undefined || bytes.length < 8) return undefined;
    return { seq: bytes.readDoubleLE(0), body: bytes.subarray(8) };
  }

  async saveSnapshot(name: string, seq: number, body: SnapshotBody): Promise<void> {
    const path = this.derivedPath(name);
    // Written aside and renamed over the old one: a reader sees the old file or the new, never part of one.
    const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
    const header = Buffer.alloc(8);
    header.writeDoubleLE(seq, 0);
    try {
      // Piece by piece as they come (the file system's writes run off the event loop).
      await pipeline(async function* () {
        yield header;
        if (body instanceof Uint8Array) yield body;
        else yield* body;
      }, createWriteStream(tmp));
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Closes the folder, even when its last writes fail (a full disk); such a failure is then thrown as a domain error. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.registered) {
        // A stale entry left by a failed write is harmless: the next server drops entries of dead processes.
        await this.durably(() =>
          this.root.transaction(() => {
            const servers = { ...((this.dbs.meta.get('servers') as Record<string, unknown> | undefined) ?? {}) };
            delete servers[this.registration];
            this.dbs.meta.put('servers', servers);
          }),
        );
      } else if (!this.flushNeverComes) await this.durably(async () => undefined);
    } finally {
      const closing = this.root.close();
      // The environment closes when the process ends; what was committed is on disk already.
      if (this.flushNeverComes) closing.catch(() => undefined);
      else await closing;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Unavailable('the store is closed');
  }
}
