/**
 * The store port: what the service, the refinement queue, reports, metrics and OPE depend on.
 * Adapters (LMDB, memory, PostgreSQL) implement it; business rules stay out of them. An adapter
 * keeps an append-only event log and the derived state `project` (src/bandit/projection.ts) makes
 * of it, updated in the same transaction as each append.
 */
import type {
  ArmEvidence,
  Context,
  DecisionEvent,
  EventBody,
  LoggedEvent,
  ObservationEvent,
  PolicyConfig,
  RefinementRecord,
  StatsKey,
  StatsRecord,
  TemplateRecord,
} from '../bandit/index.js';
import type { SnapshotBody } from './snapshot.js';

/**
 * What --db names is not a learnloop store this build may use: an LMDB folder whose data file is
 * cut short or is another program's environment, a PostgreSQL schema `learnloop` that another
 * program made, or a store a newer learnloop wrote (a later folder format or schema version). The
 * message names it and what is wrong; nothing was written to it. The operator's to fix, not a fault
 * of a call: the command line exits 2 with the message on one line.
 */
export class UnusableStore extends Error {}

/** The records a write decides on, as of one consistent state. */
export interface StateView {
  template(templateId: string): Promise<TemplateRecord | undefined>;
  /** Of `templateIds`, the ones not registered (templates are never deleted). */
  unknownTemplates(templateIds: readonly string[]): Promise<string[]>;
  /** The observation recorded for a run id. */
  run(runId: string): Promise<(ObservationEvent & LoggedEvent) | undefined>;
  /** The stored decision (as it was returned). */
  decision(decisionId: string): Promise<(DecisionEvent & LoggedEvent) | undefined>;
  decisionForRequest(requestId: string): Promise<(DecisionEvent & LoggedEvent) | undefined>;
  refinement(refinementId: string): Promise<RefinementRecord | undefined>;
  /** The open refinement item of a template, if any (at most one is open per template). */
  openRefinementFor(templateId: string): Promise<RefinementRecord | undefined>;
}

/** What a write appends, and what it answers. */
export interface Plan<T> {
  readonly events: readonly EventBody[];
  readonly result: T;
}

/** Decides a write from the state it will apply to; must read only through `view` and be free of side effects (it may run more than once). */
export type Planner<T> = (view: StateView) => Promise<Plan<T>>;

export interface Store extends StateView {
  /** The policy the derived state is computed under. */
  readonly policy: PolicyConfig;
  /** Where the store lives, for logs (a folder, or a URL without its password). */
  readonly location: string;
  /** Sequence number of the newest event (0 for an empty log). */
  head(): Promise<number>;
  /** Every template, in id order. */
  templates(): Promise<readonly TemplateRecord[]>;
  stats(key: StatsKey): Promise<StatsRecord | undefined>;
  /** Every stats record of a segment ('' = any), one per template that has runs there. */
  statsForSegment(taskClass: string, repo: string): Promise<Array<{ templateId: string; stats: StatsRecord }>>;
  /** What the policy knows about each template in `context`, with its parent chain (callers must not mutate it). */
  armEvidence(templateIds: readonly string[], context: Context): Promise<ArmEvidence[]>;
  /** The log in order, from `fromSeq` (inclusive). */
  events(fromSeq?: number): AsyncIterable<LoggedEvent>;
  /**
   * Up to `limit` events from `fromSeq` (inclusive) in order, read at once: a reader that folds the
   * log in pages (the dashboard) pays no await per event and lets other requests run between pages.
   */
  eventPage(fromSeq: number, limit: number): Promise<LoggedEvent[]>;
  /** Every refinement item, in id order. */
  refinements(): Promise<RefinementRecord[]>;
  /**
   * The snapshot `name` of state a reader derives from the log by itself (the dashboard's fold), as
   * of log position `seq`: kept beside the log, never part of it, so the reader checks `seq` and the
   * format inside `body` and ignores what does not fit. Undefined when there is none or it cannot be read.
   */
  loadSnapshot(name: string): Promise<{ seq: number; body: Uint8Array } | undefined>;
  /**
   * Replaces the snapshot `name` (letters, digits and '-') with `body`, whole or as its pieces in
   * order (taken as they come: a body whose pieces fail leaves the old snapshot). A failure (a full
   * disk) rejects and harms neither the log nor the store's health: the reader goes on without a snapshot.
   */
  saveSnapshot(name: string, seq: number, body: SnapshotBody): Promise<void>;
  /**
   * Runs `plan` against the current state and appends the events it returns, with their derived
   * changes, all or nothing, as if no other write ran in between (adapters serialise or re-plan).
   * Resolves once the events are durable, with them as logged (seq and atMs set).
   */
  commit<T>(atMs: number, plan: Planner<T>): Promise<{ result: T; events: LoggedEvent[] }>;
  /** Writes what opening deferred (with StoreOptions.deferWrites); a no-op otherwise. */
  prepare?(): Promise<void>;
  /** Recomputes all derived state from the log. @returns events replayed. */
  rebuild(): Promise<number>;
  /** Every derived record in a canonical form, for comparing live state with a rebuild. */
  derivedSnapshot(): Promise<Record<string, Array<[unknown, unknown]>>>;
  close(): Promise<void>;
  /**
   * Closes the store, and removes what opening it made (a PostgreSQL schema) when nothing else uses
   * it: for a command that made the store and then failed. A folder is removed by its path instead
   * (the command line's removingCreatedOnFailure), since it can be removed whether or not it opened.
   */
  discardMade?(): Promise<void>;
  /**
   * Why this process cannot serve writes on the store now, or undefined when it can; the server
   * asks every second and its health follows (a folder: its writes fail for lack of space; a
   * database: it does not answer, or its derived state is under another policy than this process's).
   * Cheap: no more than one small read.
   */
  healthProblem?(): Promise<string | undefined>;
}

export interface StoreOptions {
  readonly policy: PolicyConfig;
  /** Skip fsync on commit (tests and benchmarks only: a machine crash can lose acknowledged writes). */
  readonly noSync?: boolean;
  /**
   * When the store's derived state was computed under another policy: 'rebuild' recomputes it
   * under `policy` (the server); 'adopt' uses the store's policy instead, so commands that open
   * it beside a running server compute the same numbers it does.
   */
  readonly onPolicyChange?: 'rebuild' | 'adopt';
  /** Write nothing until prepare() (a server: until its port is bound). */
  readonly deferWrites?: boolean;
}
