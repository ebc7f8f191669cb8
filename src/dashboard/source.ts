/**
 * What the dashboard reads and does, as one narrow interface over the store port: the log and its
 * derived state in, the refinement and template actions out.
 */
import {
  type LoggedEvent,
  type PolicyConfig,
  type Posterior,
  type PosteriorSummary,
  type RefinementRecord,
  type TemplateRecord,
} from '../bandit/index.js';
import type { App } from '../compose.js';

export interface DashboardSource {
  readonly policy: PolicyConfig;
  /** Sequence number of the newest event: the dashboard aggregates once per head. */
  head(): Promise<number>;
  /** Up to `limit` events from `fromSeq` on, in log order (Store.eventPage). */
  eventPage(fromSeq: number, limit: number): Promise<LoggedEvent[]>;
  templates(): Promise<readonly TemplateRecord[]>;
  refinements(): Promise<readonly RefinementRecord[]>;
  /** A segment's posteriors as GetScores shows them (LearnLoop.segmentPosteriors), `ranIds` being templates with runs there. */
  segment(taskClass: string, repo: string, ranIds: readonly string[]): Promise<ReadonlyArray<{ templateId: string; posterior: PosteriorSummary; evidenceLabel: string; pooled: Posterior }>>;
  /** The dashboard's snapshot beside the log (Store.loadSnapshot), when the source keeps one (src/dashboard/snapshot.ts). */
  readSnapshot?(): Promise<{ seq: number; body: Uint8Array } | undefined>;
  /** Store.saveSnapshot: `body` whole or in pieces, taken as they come. */
  writeSnapshot?(seq: number, body: Uint8Array | AsyncIterable<Uint8Array>): Promise<void>;
}

/** The writes a person can make from the dashboard, each recorded with its actor. */
export interface DashboardActions {
  accept(p: { refinementId: string; actor: string; reason: string; newTemplateId: string; description: string; status: 'candidate' | 'active' }): Promise<unknown>;
  reject(p: { refinementId: string; actor: string; reason: string }): Promise<unknown>;
  /** Sets a template's status to retired, keeping its parent. */
  retire(p: { templateId: string; actor: string; reason: string }): Promise<unknown>;
}

/** The name of the dashboard's snapshot beside the log. */
const SNAPSHOT_NAME = 'dashboard';

/** An action named something that does not exist. */
export class NotFound extends Error {}

/** The dashboard over the application's store, service and refinement queue. */
export function learnLoopSource(app: App): { source: DashboardSource; actions: DashboardActions } {
  const { store, learnloop, refinements } = app;
  const source: DashboardSource = {
    policy: store.policy,
    head: () => store.head(),
    eventPage: (fromSeq, limit) => store.eventPage(fromSeq, limit),
    templates: () => store.templates(),
    refinements: () => store.refinements(),
    segment: (taskClass, repo, ranIds) => learnloop.segmentPosteriors(taskClass, repo, ranIds),
    readSnapshot: () => store.loadSnapshot(SNAPSHOT_NAME),
    writeSnapshot: (seq, body) => store.saveSnapshot(SNAPSHOT_NAME, seq, body),
  };
  const actions: DashboardActions = {
    accept: (p) => refinements.accept(p),
    reject: (p) => refinements.reject(p),
    retire: async (p) => {
      const t = await store.template(p.templateId);
      if (t === undefined) throw new NotFound(`template ${JSON.stringify(p.templateId)} is not registered`);
      // Template events carry no reason field: the reason goes into the description, the person into actor.
      const description = t.description === '' ? `retired: ${p.reason}` : `${t.description} (retired: ${p.reason})`;
      return learnloop.registerTemplate({ templateId: t.templateId, parentTemplateId: t.parentTemplateId, status: 'retired', description, actor: p.actor });
    },
  };
  return { source, actions };
}
