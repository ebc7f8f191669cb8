/**
 * Dispatcher run records -> Observe parameters. Pure: the caller reads the files.
 *
 * The default field names are those of athena-workspace's run record (state/schemas/run.schema.json);
 * a field map renames them for other dispatchers. One record is one attempt at one task (bead):
 * a retried bead is several records with the same bead and rising attempt numbers, each its own
 * run, so the first-try pass rate and the retry rate come out right.
 */
import type { ObserveParams } from '../service/learnloop.js';
import { parseTimeText } from '../time.js';
import { classifyOutcome, parseVerification } from './outcome.js';
import { classifyTaskText } from './task-class.js';

/** The canonical fields a run record may carry; a field map maps each to a source path. */
export const RUN_FIELDS = [
  'run_id',
  'bead',
  'agent',
  'model',
  'repo',
  'template_name',
  'task_class',
  'status',
  'attempt',
  'exit_code',
  'failure_reason',
  'started_at',
  'finished_at',
  'duration_seconds',
  'verification',
  'prompt',
  'prompt_full',
] as const;
export type RunField = (typeof RUN_FIELDS)[number];

/**
 * How another dispatcher's records map onto the canonical fields.
 * `fields` maps a canonical field to a dotted path in the source record ("task.id");
 * `status` maps the source's status words to done | failed | timeout | running.
 */
export interface FieldMap {
  readonly fields?: Partial<Record<RunField, string>>;
  readonly status?: Readonly<Record<string, 'done' | 'failed' | 'timeout' | 'running'>>;
}

export type Normalized =
  | { readonly kind: 'run'; readonly params: ObserveParams; readonly taskClassSource: 'record' | 'classifier' }
  | { readonly kind: 'skip'; readonly reason: string; /** A run not finished yet: skipped, but nothing wrong with the record. */ readonly running?: true };

/** Checks a parsed field-map file. @returns a list of problems (empty when valid). */
export function validateFieldMap(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['field map must be a JSON object'];
  const out: string[] = [];
  const m = raw as Record<string, unknown>;
  for (const key of Object.keys(m)) if (key !== 'fields' && key !== 'status') out.push(`unknown key ${JSON.stringify(key)} (expected fields, status)`);
  if (m.fields !== undefined) {
    if (typeof m.fields !== 'object' || m.fields === null) out.push('fields must be an object');
    else
      for (const [k, v] of Object.entries(m.fields)) {
        if (!(RUN_FIELDS as readonly string[]).includes(k)) out.push(`fields.${k}: not a run field (one of ${RUN_FIELDS.join(', ')})`);
        if (typeof v !== 'string' || v === '') out.push(`fields.${k}: must be a non-empty path string`);
      }
  }
  if (m.status !== undefined) {
    if (typeof m.status !== 'object' || m.status === null) out.push('status must be an object');
    else
      for (const [k, v] of Object.entries(m.status)) {
        if (!['done', 'failed', 'timeout', 'running'].includes(v as string)) out.push(`status.${k}: must be done, failed, timeout or running`);
      }
  }
  return out;
}

function pick(record: Record<string, unknown>, map: FieldMap, field: RunField): unknown {
  const path = map.fields?.[field] ?? field;
  let v: unknown = record;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');

/**
 * Whether a record names the template it ran, the one thing a result record lacks: only such a
 * record is a run a result can complete (athena's watch-status and feedback files share the bead).
 */
export function namesTemplate(raw: unknown, map: FieldMap = {}): boolean {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && text(pick(raw as Record<string, unknown>, map, 'template_name')) !== '';
}

/** A record's time field: ms, or s, since the epoch, or a date string; 'invalid' when present but not a time. */
function timeMs(v: unknown): number | undefined | 'invalid' {
  if (typeof v === 'number') return Number.isFinite(v) ? (v > 1e12 ? v : v * 1000) : 'invalid';
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return parseTimeText(v) ?? 'invalid';
}

/**
 * A repository name without the machine it was checked out on: "$HOME/athena-web" and
 * "/home/u/src/athena-web" are both "athena-web"; "org/repo" and URLs keep owner and name.
 */
export function normalizeRepo(repo: string): string {
  const r = repo.trim().replace(/\.git$/, '').replace(/\/+$/, '');
  const url = /^(?:https?:\/\/|git@)[^/:]+[/:]([^/]+\/[^/]+)$/.exec(r);
  if (url) return url[1]!;
  if (/^[\w.-]+\/[\w.-]+$/.test(r)) return r;
  return r.split('/').pop() ?? r;
}

/**
 * One run record as Observe parameters, or why it is skipped.
 * The run id is the record's own when the field map names one; otherwise `bead#attempt@started_at`,
 * so the same record imported again is a duplicate and a retry is a new run.
 */
export function normalizeRunRecord(raw: unknown, map: FieldMap = {}): Normalized {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { kind: 'skip', reason: 'not a JSON object' };
  const rec = raw as Record<string, unknown>;
  const bead = text(pick(rec, map, 'bead'));
  if (bead === '') return { kind: 'skip', reason: 'no bead (task id)' };
  const rawStatus = text(pick(rec, map, 'status')).toLowerCase();
  const status = map.status?.[rawStatus] ?? rawStatus;
  if (status === 'running') return { kind: 'skip', reason: `${bead}: still running`, running: true };
  if (status !== 'done' && status !== 'failed' && status !== 'timeout') {
    return { kind: 'skip', reason: rawStatus === '' ? `${bead}: no status` : `${bead}: unknown status ${JSON.stringify(rawStatus)}` };
  }
  const templateId = text(pick(rec, map, 'template_name'));
  if (templateId === '') return { kind: 'skip', reason: `${bead}: no template_name, so no template to credit` };
  const attemptRaw = pick(rec, map, 'attempt');
  const attempt = attemptRaw === undefined || attemptRaw === null ? 1 : Number(attemptRaw);
  if (!Number.isInteger(attempt) || attempt < 1) return { kind: 'skip', reason: `${bead}: attempt must be an integer >= 1; got ${String(attemptRaw)}` };
  const startedAtRaw = text(pick(rec, map, 'started_at'));
  const startedMs = timeMs(pick(rec, map, 'started_at'));
  if (startedMs === 'invalid') return { kind: 'skip', reason: `${bead}: started_at is not a time (or names a day that does not exist): ${JSON.stringify(pick(rec, map, 'started_at'))}` };
  let durationRaw = pick(rec, map, 'duration_seconds');
  // Time comes from the record, never from the import: without a finish time the run is skipped.
  let finishedMs = timeMs(pick(rec, map, 'finished_at'));
  if (finishedMs === 'invalid') return { kind: 'skip', reason: `${bead}: finished_at is not a time (or names a day that does not exist): ${JSON.stringify(pick(rec, map, 'finished_at'))}` };
  if (finishedMs === undefined && startedMs !== undefined && typeof durationRaw === 'number') finishedMs = startedMs + durationRaw * 1000;
  if (finishedMs === undefined) return { kind: 'skip', reason: `${bead}: no finished_at (nor started_at + duration_seconds)` };
  if (typeof durationRaw !== 'number' && startedMs !== undefined) durationRaw = Math.max(0, (finishedMs - startedMs) / 1000);
  const durationSeconds = typeof durationRaw === 'number' && Number.isFinite(durationRaw) && durationRaw >= 0 ? durationRaw : 0;
  const exitRaw = pick(rec, map, 'exit_code');
  const exitCode = typeof exitRaw === 'number' ? exitRaw : typeof exitRaw === 'string' && /^-?\d+$/.test(exitRaw) ? Number(exitRaw) : null;
  const classified = classifyOutcome({
    status,
    exitCode,
    failureReason: text(pick(rec, map, 'failure_reason')),
    verification: parseVerification(pick(rec, map, 'verification')),
  });
  const recordClass = text(pick(rec, map, 'task_class'));
  const prompt = text(pick(rec, map, 'prompt_full')) || text(pick(rec, map, 'prompt'));
  const runId = text(pick(rec, map, 'run_id')) || `${bead}#${attempt}@${startedAtRaw || new Date(finishedMs).toISOString()}`;
  return {
    kind: 'run',
    taskClassSource: recordClass !== '' ? 'record' : 'classifier',
    params: {
      runId,
      decisionId: '',
      templateId,
      taskClass: recordClass !== '' ? recordClass : classifyTaskText(prompt),
      repo: normalizeRepo(text(pick(rec, map, 'repo'))),
      taskId: bead,
      attempt,
      outcome: classified.outcome,
      retries: 0,
      durationSeconds,
      failureReason: classified.failureReason,
      finishedAtMs: finishedMs,
      agent: text(pick(rec, map, 'agent')),
      model: text(pick(rec, map, 'model')),
    },
  };
}
