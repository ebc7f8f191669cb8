import { open, type Database, type RootDatabase } from 'lmdb';
import {
  addReward,
  countRun,
  DecisionNotFound,
  EMPTY_COUNTERS,
  EMPTY_EVIDENCE,
  ObservationConflict,
  policyVersion,
  rewardOf,
  TemplateConflict,
  asArmId,
  type ArmEvidence,
  type ArmStatus,
  type Context,
  type Counters,
  type Decision,
  type Evidence,
  type Observation,
  type PolicyConfig,
} from '../bandit/index.js';
import { decode, encode } from './codec.js';
import { InvariantViolation, RefinementNotFound, RefinementNotOpen } from '../bandit/errors.js';
import type { DecisionEvent, EventBody, LoggedEvent, ObservationEvent, ObserveContent, RefinementDecidedEvent, RefinementOpenedEvent, TemplateEvent } from './events.js';
import { DB_NAMES, DERIVED_DBS, segmentKeys, type DbName, type StatsKey } from './keys.js';

export interface TemplateRecord {
  readonly templateId: string;
  readonly parentTemplateId: string;
  readonly status: ArmStatus;
  readonly description: string;
  readonly implicit: boolean;
  readonly registeredAtMs: number;
  readonly updatedAtMs: number;
}

/** A refinement item's current state, derived from its opened and decided events. */
export interface RefinementRecord {
  readonly refinementId: string;
  readonly templateId: string;
  readonly status: 'open' | 'accepted' | 'rejected';
  readonly trigger: string;
  readonly summary: string;
  readonly evidence: unknown;
  readonly openedAtMs: number;
  /** 0 while open. */
  readonly decidedAtMs: number;
  readonly actor: string;
  readonly reason: string;
  readonly newTemplateId: string;
}

export interface StatsRecord {
  readonly evidence: Evidence;
  readonly counters: Counters;
}

interface RunRecord {
  readonly seq: number;
}

interface DecisionRecord {
  readonly seq: number;
}

export interface StoreOptions {
  readonly policy: PolicyConfig;
  /** Skip fsync on commit (tests and benchmarks only: a machine crash can lose acknowledged writes). */
  readonly noSync?: boolean;
  /**
   * When the folder's derived state was computed under another policy: 'rebuild' recomputes it
   * under `policy` (the server); 'adopt' uses the folder's policy instead, so commands that open
   * the folder beside a running server compute the same numbers it does.
   */
  readonly onPolicyChange?: 'rebuild' | 'adopt';
}

export type ObserveResult =
  | { readonly kind: 'applied'; readonly seq: number; readonly observation: Observation }
  | { readonly kind: 'duplicate'; readonly seq: number; readonly observation: Observation };

export interface RegisterInput {
  readonly templateId: string;
  readonly parentTemplateId: string;
  readonly status: ArmStatus;
  readonly description: string;
  readonly actor: string;
}

/** Longest parent chain followed when inheriting evidence; deeper ancestors add little. */
const MAX_PARENT_DEPTH = 4;

/**
 * Where each database keeps msgpack's shared record structures, so a record carries a structure id
 * instead of its field names (reads ~4x faster, records several times smaller). Range reads skip the symbol
 * key; the log's slot is seq 0, before the first event. Structures are only ever added (rebuild
 * removes records, never them), which is what lets several processes share them.
 */
const STRUCTURES_KEY = Symbol.for('structures');
const STRUCTURES_SEQ = 0;
/**
 * meta 'format', a plain number any build can read: 1 had self-describing records, 2 shares record
 * structures (which a format-1 build cannot decode). A build refuses folders of a later format.
 */
export const FOLDER_FORMAT = 2;

/** Entries the read cache holds before it starts over (bounds memory with many segments). */
const READ_CACHE_ENTRIES = 100_000;

/**
 * The LMDB adapter: an append-only event log plus derived state updated in the same transaction.
 * Every read-modify-write runs inside one lmdb-js transaction callback, which lmdb-js serialises
 * (also across processes), so concurrent writers never lose an update.
 */
export class LmdbStore {
  private readonly root: RootDatabase;
  private readonly dbs: Record<DbName, Database>;
  private currentPolicy: PolicyConfig;
  private closed = false;
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
    entries: 0,
  };
  /** templates() as of meta 'templatesHead', which only template events bump. */
  private templateCache: { head: number; records: readonly TemplateRecord[] } = { head: -1, records: [] };

  private constructor(path: string, options: StoreOptions) {
    this.currentPolicy = options.policy;
    this.root = open({ path, noSync: options.noSync ?? false });
    const dbs = {} as Record<DbName, Database>;
    for (const name of DB_NAMES) {
      dbs[name] = this.root.openDB(name, name === 'events' ? { keyEncoding: 'uint32', sharedStructuresKey: STRUCTURES_SEQ } : { sharedStructuresKey: STRUCTURES_KEY });
    }
    this.dbs = dbs;
  }

  /**
   * Opens (creating if needed) the store in `path`; rebuilds derived state if the policy changed.
   * @throws InvariantViolation when the folder was written by a newer learnloop (a later folder format).
   */
  static async open(path: string, options: StoreOptions): Promise<LmdbStore> {
    const store = new LmdbStore(path, options);
    const format = store.dbs.meta.get('format') as number | undefined;
    if (format !== undefined && format > FOLDER_FORMAT) {
      await store.root.close();
      throw new InvariantViolation(`${path} was written by a newer learnloop (folder format ${format}; this one reads up to ${FOLDER_FORMAT}): upgrade learnloop to open it`);
    }
    // Format 1 folders (self-describing records) read as they are; from now on they hold format 2 records.
    if (format !== FOLDER_FORMAT) await store.dbs.meta.put('format', FOLDER_FORMAT);
    const derivedWith = store.dbs.meta.get('policy') as PolicyConfig | undefined;
    if (derivedWith === undefined && store.head() === 0) {
      await store.dbs.meta.put('policy', options.policy);
    } else if (derivedWith === undefined || policyVersion(derivedWith) !== policyVersion(options.policy)) {
      if (options.onPolicyChange === 'adopt' && derivedWith !== undefined) store.currentPolicy = derivedWith;
      else await store.rebuild();
    }
    return store;
  }

  /** The policy the derived state is computed under. */
  get policy(): PolicyConfig {
    return this.currentPolicy;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sequence number of the newest event (0 for an empty log). */
  head(): number {
    return (this.dbs.meta.get('head') as number | undefined) ?? 0;
  }

  // ---- reads -----------------------------------------------------------------------------

  template(templateId: string): TemplateRecord | undefined {
    return decode<TemplateRecord>(this.dbs.templates.get(templateId), 'template');
  }

  /** Every template, in id order; cached until the next template event (Observe's reply reads them all). */
  templates(): readonly TemplateRecord[] {
    const head = this.dbs.meta.get('templatesHead') as number | undefined;
    if (head !== undefined && head === this.templateCache.head) return this.templateCache.records;
    const out: TemplateRecord[] = [];
    for (const { value } of this.dbs.templates.getRange({})) out.push(decode<TemplateRecord>(value, 'template')!);
    if (head !== undefined) this.templateCache = { head, records: out };
    return out;
  }

  /**
   * The read cache if the state it was filled from is still current (emptied when not), or
   * undefined when the folder predates the stateHead key (then every read goes to LMDB).
   */
  private freshReadCache(): LmdbStore['readCache'] | undefined {
    const seq = this.dbs.meta.get('stateHead') as number | undefined;
    if (seq === undefined) return undefined;
    const cache = this.readCache;
    if (cache.seq !== seq || cache.entries > READ_CACHE_ENTRIES) {
      cache.seq = seq;
      cache.templateIds.clear();
      cache.evidence.clear();
      cache.entries = 0;
    }
    return cache;
  }

  /** The candidates not known to be registered (a registered one may be listed when the folder has no read cache). */
  private unknownTemplates(templateIds: readonly string[]): string[] {
    const cache = this.freshReadCache();
    if (cache === undefined) return [...templateIds];
    return templateIds.filter((id) => {
      if (cache.templateIds.has(id)) return false;
      if (!this.dbs.templates.doesExist(id)) return true;
      cache.templateIds.add(id);
      return false;
    });
  }

  stats(key: StatsKey): StatsRecord | undefined {
    return decode<StatsRecord>(this.dbs.stats.get(key), 'stats');
  }

  /** Every stats record of a segment ('' = any), one per template that has runs there. */
  statsForSegment(taskClass: string, repo: string): Array<{ templateId: string; stats: StatsRecord }> {
    const out: Array<{ templateId: string; stats: StatsRecord }> = [];
    for (const { key, value } of this.dbs.stats.getRange({})) {
      const [templateId, tc, r] = key as StatsKey;
      if (tc === taskClass && r === repo) out.push({ templateId, stats: decode<StatsRecord>(value, 'stats')! });
    }
    return out;
  }

  private evidence(templateId: string, taskClass: string, repo: string): Evidence {
    return this.stats([templateId, taskClass, repo])?.evidence ?? EMPTY_EVIDENCE;
  }

  /**
   * What the policy knows about each template in `context`, with its parent chain. Cached until the
   * next event that changes templates or stats (read-only callers must not mutate the result).
   */
  armEvidence(templateIds: readonly string[], context: Context): ArmEvidence[] {
    const cache = this.freshReadCache();
    if (cache === undefined) return templateIds.map((id) => this.readArmEvidence(id, context, 0));
    const contextKey = `${context.taskClass}\u0000${context.repo}`;
    let arms = cache.evidence.get(contextKey);
    if (arms === undefined) cache.evidence.set(contextKey, (arms = new Map()));
    return templateIds.map((id) => {
      let arm = arms.get(id);
      if (arm === undefined) {
        arms.set(id, (arm = this.readArmEvidence(id, context, 0)));
        cache.entries++;
      }
      return arm;
    });
  }

  private readArmEvidence(templateId: string, context: Context, depth: number): ArmEvidence {
    const { taskClass, repo } = context;
    const record = this.template(templateId);
    const parentId = record?.parentTemplateId ?? '';
    return {
      armId: asArmId(templateId),
      evidence: {
        global: this.evidence(templateId, '', ''),
        taskClass: taskClass !== '' ? this.evidence(templateId, taskClass, '') : undefined,
        repoTaskClass: repo !== '' ? this.evidence(templateId, taskClass, repo) : undefined,
      },
      parent: parentId !== '' && depth < MAX_PARENT_DEPTH ? this.readArmEvidence(parentId, context, depth + 1) : undefined,
    };
  }

  /** The stored decision (as it was returned), or undefined. */
  decision(decisionId: string): (DecisionEvent & LoggedEvent) | undefined {
    const rec = decode<DecisionRecord>(this.dbs.decisions.get(decisionId), 'decision index');
    if (rec === undefined) return undefined;
    return this.event(rec.seq) as DecisionEvent & LoggedEvent;
  }

  decisionForRequest(requestId: string): (DecisionEvent & LoggedEvent) | undefined {
    const rec = decode<{ decisionId: string }>(this.dbs.requests.get(requestId), 'request index');
    return rec === undefined ? undefined : this.decision(rec.decisionId);
  }

  event(seq: number): LoggedEvent | undefined {
    return decode<LoggedEvent>(this.dbs.events.get(seq), 'event');
  }

  /** The log in order, from `fromSeq` (inclusive). */
  *events(fromSeq = 1): Generator<LoggedEvent> {
    // Seq 0 holds the record structures, not an event.
    for (const { value } of this.dbs.events.getRange({ start: Math.max(1, fromSeq) })) yield decode<LoggedEvent>(value, 'event')!;
  }

  refinement(refinementId: string): RefinementRecord | undefined {
    return decode<RefinementRecord>(this.dbs.refinements.get(refinementId), 'refinement');
  }

  /** Every refinement item, in id order. */
  refinements(): RefinementRecord[] {
    return [...this.dbs.refinements.getRange({})].map(({ value }) => decode<RefinementRecord>(value, 'refinement')!);
  }

  // ---- writes ----------------------------------------------------------------------------

  /**
   * Opens a refinement item unless the id exists or an item is already open for the template
   * (checked in the same transaction, so two scans cannot open two).
   * @returns the item and whether it was opened now.
   */
  async openRefinement(item: Omit<RefinementOpenedEvent, 'type'>, atMs: number): Promise<{ record: RefinementRecord; created: boolean }> {
    const result = await this.root.transaction(() => {
      const existing = this.refinement(item.refinementId) ?? this.refinements().find((r) => r.templateId === item.templateId && r.status === 'open');
      if (existing !== undefined) return { record: existing, created: false };
      this.append({ type: 'refinement_opened', ...item }, atMs);
      return { record: this.refinement(item.refinementId)!, created: true };
    });
    if (result.created) await this.root.flushed;
    return result;
  }

  /**
   * Records a person's decision on an open item. Repeating the same decision changes nothing.
   * @throws RefinementNotFound; RefinementNotOpen when it was already decided otherwise.
   */
  async decideRefinement(d: Omit<RefinementDecidedEvent, 'type'>, atMs: number): Promise<{ record: RefinementRecord; changed: boolean }> {
    const result = await this.root.transaction(() => {
      const existing = this.refinement(d.refinementId);
      if (existing === undefined) return { error: 'not-found' as const };
      if (existing.status !== 'open') {
        if (existing.status === d.decision && existing.newTemplateId === d.newTemplateId) return { record: existing, changed: false };
        return { error: 'not-open' as const, status: existing.status };
      }
      this.append({ type: 'refinement_decided', ...d }, atMs);
      return { record: this.refinement(d.refinementId)!, changed: true };
    });
    if ('error' in result) {
      if (result.error === 'not-found') throw new RefinementNotFound(d.refinementId);
      throw new RefinementNotOpen(d.refinementId, result.status!);
    }
    if (result.changed) await this.root.flushed;
    return result;
  }

  /**
   * Records one verified run exactly once. In one transaction: the run_id check, the decision
   * lookup, implicit registration, the log append and every derived update. Resolves once the
   * transaction is durable.
   * @throws ObservationConflict when run_id was recorded with different content.
   * @throws DecisionNotFound when decision_id names no recorded decision.
   */
  async observe(content: ObserveContent, receivedAtMs: number): Promise<ObserveResult> {
    const result = await this.root.transaction(() => {
      const existing = decode<RunRecord>(this.dbs.runs.get(content.runId), 'run index');
      if (existing !== undefined) {
        const prior = this.event(existing.seq) as ObservationEvent & LoggedEvent;
        const differing = differingFields(prior.content, content);
        if (differing.length > 0) return { kind: 'conflict' as const, differing };
        return { kind: 'duplicate' as const, seq: existing.seq, observation: prior.observation };
      }
      let { templateId, taskClass, repo } = content;
      if (content.decisionId !== '') {
        const decision = this.decision(content.decisionId);
        if (decision === undefined) return { kind: 'no-decision' as const };
        // The decision supplies what the run record left empty; what it states wins.
        templateId ||= decision.decision.chosen;
        taskClass ||= decision.decision.context.taskClass;
        repo ||= decision.decision.context.repo;
      }
      this.ensureTemplate(templateId, receivedAtMs);
      const observation: Observation = {
        runId: content.runId,
        decisionId: content.decisionId,
        armId: asArmId(templateId),
        context: { taskClass, repo },
        taskId: content.taskId,
        attempt: content.attempt,
        outcome: content.outcome,
        retries: content.retries,
        durationSeconds: content.durationSeconds,
        failureReason: content.failureReason,
        finishedAtMs: content.finishedAtMs ?? receivedAtMs,
        agent: content.agent,
        model: content.model,
      };
      const { seq } = this.append({ type: 'observation', content, observation }, receivedAtMs);
      return { kind: 'applied' as const, seq, observation };
    });
    if (result.kind === 'conflict') throw new ObservationConflict(content.runId, result.differing);
    if (result.kind === 'no-decision') throw new DecisionNotFound(content.decisionId);
    if (result.kind === 'applied') await this.root.flushed;
    return result;
  }

  /**
   * Records a decision (and registers unseen candidates). When `requestId` already has a decision,
   * that one is returned instead and nothing is written.
   */
  async recordDecision(
    decision: Decision,
    requestId: string,
    candidates: readonly string[],
    atMs: number,
  ): Promise<DecisionEvent & LoggedEvent> {
    // Templates are never deleted, so only candidates not known already need the check (and
    // possibly a registration) inside the transaction.
    const unseen = this.unknownTemplates(candidates);
    const result = await this.root.transaction(() => {
      if (requestId !== '') {
        const earlier = this.decisionForRequest(requestId);
        if (earlier !== undefined) return { event: earlier, appended: false };
      }
      for (const id of unseen) this.ensureTemplate(id, atMs);
      return { event: this.append({ type: 'decision', requestId, candidates, decision }, atMs), appended: true };
    });
    if (result.appended) await this.root.flushed;
    return result.event as DecisionEvent & LoggedEvent;
  }

  /**
   * Registers a template version or changes its status or description.
   * @returns the record and whether it was new.
   * @throws TemplateConflict when the parent differs from the registered one or forms a cycle.
   */
  async registerTemplate(input: RegisterInput, atMs: number): Promise<{ record: TemplateRecord; created: boolean }> {
    const result = await this.root.transaction(() => {
      const existing = this.template(input.templateId);
      if (input.parentTemplateId !== '') {
        if (existing !== undefined && existing.parentTemplateId !== '' && existing.parentTemplateId !== input.parentTemplateId) {
          return { conflict: `already has parent ${JSON.stringify(existing.parentTemplateId)}` };
        }
        for (let id: string | undefined = input.parentTemplateId, n = 0; id; n++) {
          if (id === input.templateId || n > 64) return { conflict: `would form a parent cycle through ${JSON.stringify(input.parentTemplateId)}` };
          id = this.template(id)?.parentTemplateId;
        }
        this.ensureTemplate(input.parentTemplateId, atMs);
      }
      const unchanged =
        existing !== undefined &&
        existing.status === input.status &&
        existing.description === input.description &&
        existing.parentTemplateId === input.parentTemplateId &&
        !existing.implicit;
      if (!unchanged) this.append({ type: 'template', ...input, implicit: false }, atMs);
      return { record: this.template(input.templateId)!, created: existing === undefined };
    });
    if ('conflict' in result) throw new TemplateConflict(input.templateId, result.conflict!);
    await this.root.flushed;
    return result;
  }

  /** Recomputes all derived state from the log, in one transaction. @returns events replayed. */
  async rebuild(): Promise<number> {
    return this.root.transaction(() => {
      // Key by key rather than clearSync: dropping a database would also drop its shared record
      // structures, which other processes on the folder keep using.
      for (const name of DERIVED_DBS) for (const key of [...this.dbs[name].getKeys({})]) this.dbs[name].remove(key);
      let n = 0;
      for (const event of this.events()) {
        this.apply(event);
        n++;
      }
      this.dbs.meta.put('policy', this.policy);
      this.dbs.meta.put('format', FOLDER_FORMAT);
      return n;
    });
  }

  /** Every derived record, for comparing live state with a rebuild. */
  derivedSnapshot(): Record<string, Array<[unknown, unknown]>> {
    const out: Record<string, Array<[unknown, unknown]>> = {};
    for (const name of DERIVED_DBS) {
      out[name] = [...this.dbs[name].getRange({})].map(({ key, value }) => [key, value]);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.flushed;
    await this.root.close();
  }

  // ---- inside a write transaction --------------------------------------------------------

  private ensureTemplate(templateId: string, atMs: number): void {
    if (this.dbs.templates.get(templateId) !== undefined) return;
    this.append(
      { type: 'template', templateId, parentTemplateId: '', status: 'active', description: '', implicit: true, actor: '' },
      atMs,
    );
  }

  private append(body: EventBody, atMs: number): LoggedEvent {
    const seq = this.head() + 1;
    const event = { ...body, seq, atMs } as LoggedEvent;
    this.dbs.events.put(seq, encode(event));
    this.apply(event);
    return event;
  }

  /** The one place events become derived state: used live and by rebuild. */
  private apply(event: LoggedEvent): void {
    this.dbs.meta.put('head', event.seq);
    // Every event but a decision may change templates or stats; read caches key on this.
    if (event.type !== 'decision') this.dbs.meta.put('stateHead', event.seq);
    switch (event.type) {
      case 'template':
        this.dbs.meta.put('templatesHead', event.seq);
        return this.applyTemplate(event);
      case 'decision':
        this.dbs.decisions.put(event.decision.decisionId, encode({ seq: event.seq }));
        if (event.requestId !== '') this.dbs.requests.put(event.requestId, encode({ decisionId: event.decision.decisionId }));
        return;
      case 'observation':
        return this.applyObservation(event);
      case 'refinement_opened':
      case 'refinement_decided':
        return this.applyRefinement(event);
    }
  }

  private applyRefinement(event: (RefinementOpenedEvent | RefinementDecidedEvent) & LoggedEvent): void {
    if (event.type === 'refinement_opened') {
      const record: RefinementRecord = {
        refinementId: event.refinementId,
        templateId: event.templateId,
        status: 'open',
        trigger: event.trigger,
        summary: event.summary,
        evidence: event.evidence,
        openedAtMs: event.atMs,
        decidedAtMs: 0,
        actor: '',
        reason: '',
        newTemplateId: '',
      };
      this.dbs.refinements.put(event.refinementId, encode(record));
      return;
    }
    const prev = this.refinement(event.refinementId);
    if (prev === undefined) return;
    this.dbs.refinements.put(
      event.refinementId,
      encode<RefinementRecord>({ ...prev, status: event.decision, decidedAtMs: event.atMs, actor: event.actor, reason: event.reason, newTemplateId: event.newTemplateId }),
    );
  }

  private applyTemplate(event: TemplateEvent & LoggedEvent): void {
    const existing = this.template(event.templateId);
    const record: TemplateRecord = {
      templateId: event.templateId,
      parentTemplateId: event.parentTemplateId || existing?.parentTemplateId || '',
      status: event.status,
      description: event.description,
      implicit: event.implicit && (existing?.implicit ?? true),
      registeredAtMs: existing?.registeredAtMs ?? event.atMs,
      updatedAtMs: event.atMs,
    };
    this.dbs.templates.put(event.templateId, encode(record));
  }

  private applyObservation(event: ObservationEvent & LoggedEvent): void {
    const o = event.observation;
    this.dbs.runs.put(o.runId, encode({ seq: event.seq }));
    const reward = rewardOf(o.outcome, this.policy);
    for (const key of segmentKeys(o.armId, o.context.taskClass, o.context.repo)) {
      const prev = this.stats(key);
      const evidence = prev?.evidence ?? EMPTY_EVIDENCE;
      this.dbs.stats.put(
        key,
        encode<StatsRecord>({
          evidence: reward === null ? evidence : addReward(evidence, reward, o.finishedAtMs, this.policy.decay),
          counters: countRun(prev?.counters ?? EMPTY_COUNTERS, o),
        }),
      );
    }
  }
}

function differingFields(a: ObserveContent, b: ObserveContent): string[] {
  return (Object.keys(a) as Array<keyof ObserveContent>).filter((k) => a[k] !== b[k]);
}
