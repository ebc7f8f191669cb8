/**
 * The projection: how the event log becomes derived state. One pure function shared by every
 * adapter, used live (in the transaction that appends an event) and by rebuild, so the two agree
 * by construction. Adapters only read prior records and write the changes it returns.
 */
import type { LoggedEvent } from './events.js';
import { EMPTY_EVIDENCE, learnRun, onTemplateClock, rewardOf } from './evidence.js';
import type { PolicyConfig } from './config.js';
import { countRun, EMPTY_COUNTERS, type Counters } from './scorecard.js';
import { keepsChangePoints, updateChanges, updateWindows } from './changes.js';
import { addLogLikelihood, EMPTY_GROUP_SUMS, EMPTY_PARENT_RATE_SUMS, groupLogLikelihood, replaceGroup, type SpreadRecord } from './spread.js';
import { asArmId, type ArmEvidence, type ArmStatus, type ChangeRecord, type Context, type Evidence, type WindowCounts } from './types.js';

export interface TemplateRecord {
  readonly templateId: string;
  readonly parentTemplateId: string;
  readonly status: ArmStatus;
  readonly description: string;
  readonly implicit: boolean;
  readonly registeredAtMs: number;
  readonly updatedAtMs: number;
  /** The task classes it is for (TemplateEvent.taskClasses); absent means every class. */
  readonly taskClasses?: readonly string[];
}

/** Whether a template is offered by default for `taskClass` ('' is no task class: every template is). */
export function isInScope(t: Pick<TemplateRecord, 'taskClasses'>, taskClass: string): boolean {
  return taskClass === '' || t.taskClasses === undefined || t.taskClasses.includes(taskClass);
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
  /** Task-class and global records under `groupSpread: 'learned'`: how the groups one level down differ (spread.ts). */
  readonly spread?: SpreadRecord;
  /** Under decay with change points (policy /8): the record's runs since each of the template's kept change points. */
  readonly windows?: WindowCounts;
  /** Global records under decay with change points: the template's change-point posterior (changes.ts). */
  readonly changes?: ChangeRecord;
}

/** A segment of one template's runs: ('', '') is every run, '' widens a field. */
export type StatsKey = readonly [templateId: string, taskClass: string, repo: string];

/** The segments one observation counts in: overall, task class, repository, and both. */
export function segmentKeys(templateId: string, taskClass: string, repo: string): StatsKey[] {
  const keys: StatsKey[] = [[templateId, '', '']];
  if (taskClass !== '') keys.push([templateId, taskClass, '']);
  if (repo !== '') keys.push([templateId, '', repo]);
  if (taskClass !== '' && repo !== '') keys.push([templateId, taskClass, repo]);
  return keys;
}

/** The prior derived records the projection reads (synchronously: adapters prefetch or read in place). */
export interface DerivedReader {
  template(templateId: string): TemplateRecord | undefined;
  stats(key: StatsKey): StatsRecord | undefined;
  refinement(refinementId: string): RefinementRecord | undefined;
}

/** One derived record to write (records are only ever written whole, never deleted). */
export type DerivedChange =
  | { readonly kind: 'template'; readonly key: string; readonly value: TemplateRecord }
  | { readonly kind: 'stats'; readonly key: StatsKey; readonly value: StatsRecord }
  /** run_id -> the seq of its observation (exactly-once index). */
  | { readonly kind: 'run'; readonly key: string; readonly value: { readonly seq: number } }
  /** decision_id -> the seq of its decision. */
  | { readonly kind: 'decision'; readonly key: string; readonly value: { readonly seq: number } }
  /** request_id -> its decision (idempotency index). */
  | { readonly kind: 'request'; readonly key: string; readonly value: { readonly decisionId: string } }
  | { readonly kind: 'refinement'; readonly key: string; readonly value: RefinementRecord };

/** Each kind of derived record, under the name of its group (a snapshot's key, a database or table name). */
export const DERIVED_GROUPS = {
  template: 'templates',
  stats: 'stats',
  run: 'runs',
  decision: 'decisions',
  request: 'requests',
  refinement: 'refinements',
} as const satisfies Record<DerivedChange['kind'], string>;

/** The derived records one event changes, given the records before it. */
export function project(event: LoggedEvent, prior: DerivedReader, policy: PolicyConfig): DerivedChange[] {
  switch (event.type) {
    case 'template': {
      const existing = prior.template(event.templateId);
      const value: TemplateRecord = {
        templateId: event.templateId,
        parentTemplateId: event.parentTemplateId || existing?.parentTemplateId || '',
        status: event.status,
        description: event.description,
        implicit: event.implicit && (existing?.implicit ?? true),
        registeredAtMs: existing?.registeredAtMs ?? event.atMs,
        updatedAtMs: event.atMs,
        // The event carries the resolved scope (registerEvents), as it does the description.
        ...(event.taskClasses === undefined ? {} : { taskClasses: event.taskClasses }),
      };
      return [{ kind: 'template', key: event.templateId, value }];
    }
    case 'decision': {
      const out: DerivedChange[] = [{ kind: 'decision', key: event.decision.decisionId, value: { seq: event.seq } }];
      if (event.requestId !== '') out.push({ kind: 'request', key: event.requestId, value: { decisionId: event.decision.decisionId } });
      return out;
    }
    case 'observation': {
      const o = event.observation;
      const reward = rewardOf(o.outcome, policy);
      const out: DerivedChange[] = [{ kind: 'run', key: o.runId, value: { seq: event.seq } }];
      const keys = segmentKeys(o.armId, o.context.taskClass, o.context.repo);
      const prev = keys.map((key) => prior.stats(key));
      const before = prev.map((p) => p?.evidence ?? EMPTY_EVIDENCE);
      const after = reward === null ? before : learnRun(before, reward, o.outcome === 'pass', o.finishedAtMs, policy);
      const records = keys.map((key, i) => {
        // What the record keeps beside its sums (the spread's, the change points') stays until a learnable run changes it.
        const { evidence: _e, counters: _c, ...kept } = prev[i] ?? {};
        const value: StatsRecord = { evidence: after[i]!, counters: countRun(prev[i]?.counters ?? EMPTY_COUNTERS, o), ...kept };
        return { key, prev: prev[i], value };
      });
      if (keepsChangePoints(policy) && reward !== null) withChanges(records, reward, o.outcome === 'pass', o.finishedAtMs, policy);
      if (policy.groupSpread === 'learned' && reward !== null) withSpread(records, policy.classlessSpread === 'learned', policy.groupSpreadCounts === 'effective', policy.groupSpreadVariance === 'parent-rate');
      for (const { key, value } of records) out.push({ kind: 'stats', key, value });
      return out;
    }
    case 'refinement_opened':
      return [
        {
          kind: 'refinement',
          key: event.refinementId,
          value: {
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
          },
        },
      ];
    case 'refinement_decided': {
      const prev = prior.refinement(event.refinementId);
      if (prev === undefined) return [];
      return [
        {
          kind: 'refinement',
          key: event.refinementId,
          value: { ...prev, status: event.decision, decidedAtMs: event.atMs, actor: event.actor, reason: event.reason, newTemplateId: event.newTemplateId },
        },
      ];
    }
  }
}

type SegmentUpdate = { key: StatsKey; prev: StatsRecord | undefined; value: StatsRecord };

/** One learnable run through the template's change-point posterior (in its global record, `records[0]`) and every level's sums since its change points. */
function withChanges(records: SegmentUpdate[], reward: number, pass: boolean, finishedAtMs: number, policy: PolicyConfig): void {
  const global = records[0]!;
  const changes = updateChanges(global.prev?.changes, global.prev?.windows, reward, policy, finishedAtMs);
  for (const r of records) r.value = { ...r.value, windows: updateWindows(r.prev?.windows, changes, reward, pass) };
  global.value = { ...global.value, changes };
}

/**
 * Keeps the spread sums as one run changes a repository cell and its task class: the cell is a group of
 * its task-class record, the task class a group of the global record, whose `nested` total follows the
 * task class's repositories' log-likelihood (spread.ts). With `classless`, the run's ('', repo) record is
 * also a group of the global record's `repos` sums (how the template's repositories differ, for contexts
 * without a task class).
 */
function withSpread(records: SegmentUpdate[], classless: boolean, effective: boolean, parentRate: boolean): void {
  const find = (tc: boolean, repo: boolean) => records.find(({ key }) => (key[1] !== '') === tc && (key[2] !== '') === repo);
  const global = find(false, false)!;
  // Policy /9 keeps the sums on the grid of the sampling variance at the parent's rate (spread.ts).
  const empty = parentRate ? EMPTY_PARENT_RATE_SUMS : EMPTY_GROUP_SUMS;
  const spreadOf = (r: SegmentUpdate) => r.value.spread ?? { groups: empty };
  const repo = classless ? find(false, true) : undefined;
  if (repo !== undefined) {
    const repos = replaceGroup(global.prev?.spread?.repos ?? empty, repo.prev?.evidence, repo.value.evidence, effective);
    global.value = { ...global.value, spread: { ...spreadOf(global), repos } };
  }
  const taskClass = find(true, false);
  const cell = find(true, true);
  if (taskClass === undefined) return;
  let nested = global.value.spread?.nested;
  if (cell !== undefined) {
    const before = taskClass.prev?.spread?.groups ?? empty;
    const groups = replaceGroup(before, cell.prev?.evidence, cell.value.evidence, effective);
    taskClass.value = { ...taskClass.value, spread: { groups } };
    // At the parent's rate (policy /9) each side reads the task class's record as it was with those sums.
    nested = addLogLikelihood(nested, groupLogLikelihood(groups, taskClass.value.evidence), groupLogLikelihood(before, taskClass.prev?.evidence));
  }
  const groups = replaceGroup(global.prev?.spread?.groups ?? empty, taskClass.prev?.evidence, taskClass.value.evidence, effective);
  global.value = { ...global.value, spread: { ...spreadOf(global), groups, ...(nested === undefined ? {} : { nested }) } };
}

const statsId = (key: StatsKey) => `${key[0]}\u0000${key[1]}\u0000${key[2]}`;

/**
 * The changes of several events in order, each seeing the ones before it, merged to the last
 * write of each record. Computed before anything is written, so an adapter can size and encode
 * all of it first and then write it all or nothing.
 */
export function projectAll(events: readonly LoggedEvent[], prior: DerivedReader, policy: PolicyConfig): DerivedChange[] {
  const latest = new Map<string, DerivedChange>();
  const id = (c: { kind: string; key: string | StatsKey }) => `${c.kind}\u0001${typeof c.key === 'string' ? c.key : statsId(c.key)}`;
  const overlay: DerivedReader = {
    template: (k) => (latest.get(id({ kind: 'template', key: k }))?.value as TemplateRecord | undefined) ?? prior.template(k),
    stats: (k) => (latest.get(id({ kind: 'stats', key: k }))?.value as StatsRecord | undefined) ?? prior.stats(k),
    refinement: (k) => (latest.get(id({ kind: 'refinement', key: k }))?.value as RefinementRecord | undefined) ?? prior.refinement(k),
  };
  for (const event of events) for (const change of project(event, overlay, policy)) latest.set(id(change), change);
  return [...latest.values()];
}

/** Longest parent chain followed when inheriting evidence; deeper ancestors add little. */
const MAX_PARENT_DEPTH = 4;

/** What the policy knows about a template in `context`: its evidence at three levels, with its parent chain. */
export function armEvidenceOf(
  templateId: string,
  context: Context,
  derived: Pick<DerivedReader, 'template' | 'stats'>,
  policy: Pick<PolicyConfig, 'decay' | 'decayModel' | 'classlessSpread' | 'decayChanges' | 'dayChangeHazard'>,
  depth = 0,
): ArmEvidence {
  const { taskClass, repo } = context;
  const evidence = (tc: string, r: string) => derived.stats([templateId, tc, r])?.evidence ?? EMPTY_EVIDENCE;
  const parentId = derived.template(templateId)?.parentTemplateId ?? '';
  const globalRecord = derived.stats([templateId, '', '']);
  const spread = globalRecord?.spread;
  const changes =
    keepsChangePoints(policy) && globalRecord?.changes !== undefined
      ? {
          record: globalRecord.changes,
          global: globalRecord.windows,
          taskClass: taskClass !== '' ? derived.stats([templateId, taskClass, ''])?.windows : undefined,
          repoTaskClass: repo !== '' ? derived.stats([templateId, taskClass, repo])?.windows : undefined,
        }
      : undefined;
  // Without a task class the repository is a group of the template itself (policy /6), else of its task class.
  const classless = taskClass === '' && repo !== '' && policy.classlessSpread === 'learned';
  const repoSquares = classless ? (spread?.repos?.squares ?? 0) : taskClass !== '' ? (derived.stats([templateId, taskClass, ''])?.spread?.groups.squares ?? 0) : 0;
  const pooled = onTemplateClock(
    {
      global: evidence('', ''),
      taskClass: taskClass !== '' ? evidence(taskClass, '') : undefined,
      repoTaskClass: repo !== '' ? evidence(taskClass, repo) : undefined,
    },
    policy,
  );
  const levels = changes === undefined ? pooled : { ...pooled, changes };
  return {
    armId: asArmId(templateId),
    evidence:
      spread === undefined
        ? levels
        : {
            ...levels,
            spread: {
              repo: classless ? groupLogLikelihood(spread.repos ?? EMPTY_GROUP_SUMS, globalRecord?.evidence) : (spread.nested ?? groupLogLikelihood(EMPTY_GROUP_SUMS)),
              taskClass: groupLogLikelihood(spread.groups, globalRecord?.evidence),
              repoSquares,
              classSquares: spread.groups.squares,
            },
          },
    parent: parentId !== '' && depth < MAX_PARENT_DEPTH ? armEvidenceOf(parentId, context, derived, policy, depth + 1) : undefined,
  };
}
