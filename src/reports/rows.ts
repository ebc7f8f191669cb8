/**
 * The typed rows reports read. The CLI turns the event log into these; reports never touch the
 * store, the file system or the clock, so the same rows and `asOfMs` give the same report.
 */
import type { ArmStatus, Observation, RunFacts } from '../bandit/index.js';

/** One observed run, as recorded in the log. */
export interface RunRow extends RunFacts {
  readonly runId: string;
  readonly templateId: string;
  readonly taskClass: string;
  readonly repo: string;
  /** When the run finished, ms since the epoch (from the run record, not the import). */
  readonly finishedAtMs: number;
}

/** The report row of an observation in the log. */
export function runRowOf(o: Observation): RunRow {
  return {
    runId: o.runId,
    templateId: o.armId,
    taskClass: o.context.taskClass,
    repo: o.context.repo,
    taskId: o.taskId,
    attempt: o.attempt,
    outcome: o.outcome,
    retries: o.retries,
    durationSeconds: o.durationSeconds,
    failureReason: o.failureReason,
    finishedAtMs: o.finishedAtMs,
    agent: o.agent,
    model: o.model,
  };
}

/** A template version and its lineage. */
export interface TemplateRow {
  readonly templateId: string;
  readonly parentTemplateId: string;
  /** Its status now. */
  readonly status: ArmStatus;
  /** Its status as each registration in the log set it, oldest first (absent: `status` throughout). */
  readonly statusChanges?: ReadonlyArray<{ readonly atMs: number; readonly status: ArmStatus }>;
}

/**
 * The templates as their statuses stood at `asOfMs`, so a later retire does not rewrite a past
 * report: each takes the status of its last registration at or before then. A template first
 * registered later (its older runs were imported after the date) takes the status it was first
 * registered with.
 */
export function templatesAsOf(templates: readonly TemplateRow[], asOfMs: number): TemplateRow[] {
  return templates.map((t) => {
    const changes = t.statusChanges ?? [];
    const then = changes.filter((c) => c.atMs <= asOfMs).at(-1) ?? changes[0];
    return then === undefined ? t : { templateId: t.templateId, parentTemplateId: t.parentTemplateId, status: then.status };
  });
}

export type RefinementStatus = 'open' | 'accepted' | 'rejected';

/** A refinement item as the queue holds it. */
export interface RefinementRow {
  readonly refinementId: string;
  readonly templateId: string;
  readonly status: RefinementStatus;
  readonly trigger: string;
  readonly summary: string;
  readonly openedAtMs: number;
  readonly decidedAtMs: number;
  readonly actor: string;
  readonly reason: string;
  readonly newTemplateId: string;
}

/** What most reports read from the log: its runs, template lineage and refinement items. */
export interface LogRows {
  readonly rows: readonly RunRow[];
  readonly templates: readonly TemplateRow[];
  readonly refinements: readonly RefinementRow[];
}

/**
 * Items that were open at `asOfMs`, as they stood then: opened by then and not yet decided (a later
 * decision neither hides them nor shows through).
 */
export function refinementsOpenAt(items: readonly RefinementRow[], asOfMs: number): RefinementRow[] {
  return items
    .filter((r) => r.openedAtMs <= asOfMs && (r.status === 'open' || r.decidedAtMs > asOfMs))
    .map((r) => ({ ...r, status: 'open', decidedAtMs: 0, actor: '', reason: '', newTemplateId: '' }));
}

/** Rows that had finished by `asOfMs` (inclusive): a report as of a date ignores later runs. */
export function rowsAsOf(rows: readonly RunRow[], asOfMs: number): RunRow[] {
  return rows.filter((r) => r.finishedAtMs <= asOfMs);
}

/** The task a row belongs to: its task id, or the run itself when it names none. */
export const taskKey = (r: RunRow): string => (r.taskId !== '' ? r.taskId : `run:${r.runId}`);

/** Byte-order string comparison, the same on every machine (localeCompare is not). */
export const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
