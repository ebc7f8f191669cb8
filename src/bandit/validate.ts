import { MAX_RUN_COUNT, OUTCOMES, type Violation } from './types.js';

/** Size limits and registration rules enforced on every request. */
export interface Limits {
  /** Longest id-like string (template, task class, repo, run, decision, request ids), in characters (code points); at most 3 UTF-8 bytes each. */
  readonly maxIdLength: number;
  /** Longest free-text string (failure_reason), in characters (code points); at most 3 UTF-8 bytes each. */
  readonly maxTextLength: number;
  /** Most candidates one Recommend may name. */
  readonly maxCandidates: number;
  /** How far past the server's clock an Observe's finished_at may be, in ms (clocks drift; years-ahead dates would pin decayed estimates). */
  readonly maxFutureSkewMs: number;
  /** Reject template ids no one registered, instead of registering them as implicit candidates. */
  readonly strictTemplates: boolean;
  /** Most templates a store may hold; a call that would register more is refused. */
  readonly maxTemplates: number;
  /** Most templates one call may register implicitly (a Recommend's unknown candidates). */
  readonly maxNewTemplatesPerCall: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxIdLength: 256,
  maxTextLength: 8192,
  maxCandidates: 1000,
  maxFutureSkewMs: 300_000,
  strictTemplates: false,
  maxTemplates: 100_000,
  maxNewTemplatesPerCall: 100,
});

/** A Recommend request in the core's terms; fields are unchecked until validated. */
export interface RecommendRequestInput {
  readonly taskClass: unknown;
  readonly repo: unknown;
  readonly candidateTemplateIds: unknown;
  readonly topK: unknown;
  readonly requestId: unknown;
}

/** An Observe request in the core's terms; `outcome` is an Outcome name, or anything else when invalid. */
export interface ObserveRequestInput {
  readonly runId: unknown;
  readonly decisionId: unknown;
  readonly templateId: unknown;
  readonly taskClass: unknown;
  readonly repo: unknown;
  readonly taskId: unknown;
  readonly attempt: unknown;
  readonly outcome: unknown;
  readonly retries: unknown;
  readonly durationSeconds: unknown;
  readonly failureReason: unknown;
  readonly finishedAtMs: unknown;
  readonly agent: unknown;
  readonly model: unknown;
}

/**
 * Bidirectional formatting characters (marks, embeddings, overrides, isolates), as a character-class
 * body: they reorder the text around them. Ids refuse them; text printed for people shows them escaped.
 */
export const BIDI_FORMATTING = '\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
// Control characters make ids unprintable in logs and tables, and drive terminals (ESC, and the C1
// controls that are ESC sequences in one character); bidirectional formatting characters make an id
// read as another (U+202E shows "1v@live" for "evil@v1" and reorders the rest of its line). Nothing
// legitimate needs them in an id; right-to-left letters themselves are kept.
const CONTROL = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${BIDI_FORMATTING}]`);
// A lone UTF-16 surrogate has no UTF-8 form: stored, it would become U+FFFD and collide with other ids.
const LONE_SURROGATE = /\p{Cs}/u;

// Whitespace at either end of some id in a comma-joined list (or beside a comma inside one: the slow path tells).
const EDGE_SPACE = /(^|,)\s|\s(,|$)/;

type Out = Violation[];

/** A received value for a message; objects from the wire can defeat String(). */
function show(v: unknown): string {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return typeof v === 'string' ? JSON.stringify(v) : String(v);
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}

/**
 * UTF-8 bytes a string may take per character of its limit: three, what a character of the Basic
 * Multilingual Plane takes. PostgreSQL indexes a template's stats under (template_id, task_class,
 * repo), and a btree row holds at most 2,704 bytes: three 256-character ids of 3 bytes a character
 * fit (2,328 bytes), of 4 bytes (emoji, CJK extension B) do not (3,096: the write fails).
 */
const UTF8_BYTES_PER_CHAR = 3;

/**
 * Why `s` is over `max` characters (Unicode code points) or max × 3 UTF-8 bytes; undefined when
 * within both. A UTF-16 unit is at least part of a character and at most 3 bytes, so a string of at
 * most `max` units is within both without counting (every ASCII or BMP id that fits).
 */
function overLength(s: string, max: number): string | undefined {
  if (s.length <= max) return undefined;
  let chars = 0;
  let bytes = 0;
  for (const c of s) {
    const cp = c.codePointAt(0) ?? 0;
    chars++;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  const maxBytes = max * UTF8_BYTES_PER_CHAR;
  if (chars <= max && bytes <= maxBytes) return undefined;
  return `must be at most ${max} characters and ${maxBytes} bytes in UTF-8; got ${chars} characters, ${bytes} bytes`;
}

/** Whether `s` is within a length limit as requests are checked: `max` characters and 3 UTF-8 bytes for each. */
export function isWithinLength(s: string, max: number): boolean {
  return overLength(s, max) === undefined;
}

function str(out: Out, field: string, v: unknown, max: number, opts: { required?: boolean; id?: boolean } = {}): void {
  if (typeof v !== 'string') {
    out.push({ field, description: `must be a string; got ${typeof v}` });
    return;
  }
  if (opts.required && v.length === 0) out.push({ field, description: 'is required; got an empty string' });
  const over = overLength(v, max);
  if (over !== undefined) out.push({ field, description: over });
  else if (LONE_SURROGATE.test(v)) out.push({ field, description: 'must be valid Unicode (it holds a lone surrogate)' });
  else if (opts.id && CONTROL.test(v)) out.push({ field, description: 'must not contain control or bidirectional formatting characters' });
  // "bug-fix@v1 " would be a second template beside "bug-fix@v1", and "  " a blank one that ranks and reads as nothing.
  else if (opts.id && v.trim() !== v) out.push({ field, description: `must not ${v.trim() === '' ? 'be only whitespace' : 'begin or end with whitespace'}; got ${JSON.stringify(v)}` });
}

function count(out: Out, field: string, v: unknown, max = 2 ** 31 - 1): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    out.push({ field, description: `must be an integer in [0, ${max}]; got ${show(v)}` });
  }
}

/**
 * Longest run an Observe may report, in seconds (about 31 years). Any finite double was taken, and
 * two runs near the largest one made a segment's duration sum, and its mean, Infinity: null in
 * `scores --json`, Infinity in GetScores. Below this, no count of runs a store can hold overflows.
 */
export const MAX_DURATION_SECONDS = 1_000_000_000;

// Years 1970 to 9999, the range a protobuf Timestamp allows after the epoch.
const MAX_TIME_MS = 253402300799000;
const isLogTime = (t: unknown): t is number => typeof t === 'number' && Number.isFinite(t) && t >= 0 && t <= MAX_TIME_MS;

/**
 * Every problem with a Recommend request (never throws).
 * @returns field violations named by proto path; empty when the request is valid.
 */
export function validateRecommendRequest(r: RecommendRequestInput, limits: Limits): Violation[] {
  const out: Out = [];
  str(out, 'task_class', r.taskClass, limits.maxIdLength, { id: true });
  str(out, 'repo', r.repo, limits.maxIdLength, { id: true });
  str(out, 'request_id', r.requestId, limits.maxIdLength, { id: true });
  count(out, 'top_k', r.topK, limits.maxCandidates);
  const ids = r.candidateTemplateIds;
  if (!Array.isArray(ids)) {
    out.push({ field: 'candidate_template_ids', description: 'must be a list of strings' });
    return out;
  }
  if (ids.length > limits.maxCandidates) {
    out.push({ field: 'candidate_template_ids', description: `must name at most ${limits.maxCandidates} templates; got ${ids.length}` });
    return out;
  }
  const seen = new Set<string>();
  // The common case, fine new ids, skips naming fields and testing ids one by one (a Recommend may list 1,000).
  const joined = ids.every((id) => typeof id === 'string') ? ids.join(',') : null;
  const printable = joined !== null && !CONTROL.test(joined) && !LONE_SURROGATE.test(joined) && !EDGE_SPACE.test(joined);
  ids.forEach((id: unknown, i) => {
    if (printable && typeof id === 'string' && id.length > 0 && isWithinLength(id, limits.maxIdLength) && !seen.has(id)) {
      seen.add(id);
      return;
    }
    const field = `candidate_template_ids[${i}]`;
    str(out, field, id, limits.maxIdLength, { required: true, id: true });
    if (typeof id === 'string') {
      if (seen.has(id)) out.push({ field, description: `duplicates ${JSON.stringify(id)}` });
      seen.add(id);
    }
  });
  return out;
}

/**
 * Every problem with an Observe request (never throws).
 * `template_id` may be empty only when `decision_id` supplies it.
 * @param nowMs the server's clock; finished_at may be at most limits.maxFutureSkewMs past it.
 */
export function validateObserveRequest(o: ObserveRequestInput, limits: Limits, nowMs?: number): Violation[] {
  const out: Out = [];
  str(out, 'run_id', o.runId, limits.maxIdLength, { required: true, id: true });
  str(out, 'decision_id', o.decisionId, limits.maxIdLength, { id: true });
  str(out, 'template_id', o.templateId, limits.maxIdLength, { id: true });
  if (o.templateId === '' && o.decisionId === '') {
    out.push({ field: 'template_id', description: 'is required when decision_id is empty' });
  }
  str(out, 'task_class', o.taskClass, limits.maxIdLength, { id: true });
  str(out, 'repo', o.repo, limits.maxIdLength, { id: true });
  str(out, 'task_id', o.taskId, limits.maxIdLength, { id: true });
  str(out, 'agent', o.agent, limits.maxIdLength, { id: true });
  str(out, 'model', o.model, limits.maxIdLength, { id: true });
  str(out, 'failure_reason', o.failureReason, limits.maxTextLength);
  count(out, 'attempt', o.attempt, MAX_RUN_COUNT);
  count(out, 'retries', o.retries, MAX_RUN_COUNT);
  if (!(OUTCOMES as readonly unknown[]).includes(o.outcome)) {
    out.push({
      field: 'outcome',
      description: `must be one of OUTCOME_PASS, OUTCOME_PARTIAL, OUTCOME_FAIL, OUTCOME_TIMEOUT, OUTCOME_INFRA_ERROR, OUTCOME_UNVERIFIED; got ${show(o.outcome)}`,
    });
  }
  const d = o.durationSeconds;
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
    out.push({ field: 'duration_seconds', description: `must be a finite number >= 0; got ${show(d)}` });
  } else if (d > MAX_DURATION_SECONDS) {
    out.push({ field: 'duration_seconds', description: `must be at most ${MAX_DURATION_SECONDS} (about 31 years); got ${show(d)}` });
  }
  const t = o.finishedAtMs;
  if (t !== undefined && !isLogTime(t)) {
    out.push({ field: 'finished_at', description: `must be a time between 1970 and 9999; got ${show(t)}` });
  } else if (typeof t === 'number' && nowMs !== undefined && t > nowMs + limits.maxFutureSkewMs) {
    out.push({
      field: 'finished_at',
      description: `is ${t - nowMs} ms past the server's clock; at most ${limits.maxFutureSkewMs} ms is allowed (--max-future-skew-ms)`,
    });
  }
  return out;
}

/** Every problem with a template registration (never throws). */
export function validateTemplateRegistration(
  r: { readonly templateId: unknown; readonly parentTemplateId: unknown; readonly description: unknown; readonly taskClasses?: unknown },
  limits: Limits,
): Violation[] {
  const out: Out = [];
  str(out, 'template_id', r.templateId, limits.maxIdLength, { required: true, id: true });
  str(out, 'parent_template_id', r.parentTemplateId, limits.maxIdLength, { id: true });
  str(out, 'description', r.description, limits.maxTextLength);
  const taskClasses = r.taskClasses ?? [];
  if (!Array.isArray(taskClasses)) out.push({ field: 'task_classes', description: `must be a list of task classes; got ${show(taskClasses)}` });
  // Each is a task class as Recommend takes one; an empty one would name no class.
  else taskClasses.forEach((c: unknown, i) => str(out, `task_classes[${i}]`, c, limits.maxIdLength, { required: true, id: true }));
  if (typeof r.templateId === 'string' && r.templateId !== '' && r.templateId === r.parentTemplateId) {
    out.push({ field: 'parent_template_id', description: 'must differ from template_id' });
  }
  return out;
}

/** A DecideRefinement request in the core's terms (new_template_id and description matter only to accept). */
export interface RefinementDecisionInput {
  readonly refinementId: unknown;
  readonly actor: unknown;
  readonly reason: unknown;
  readonly newTemplateId?: unknown;
  readonly description?: unknown;
}

/** Every problem with a refinement decision (never throws); accepting also requires new_template_id. */
export function validateRefinementDecision(r: RefinementDecisionInput, limits: Limits, accept: boolean): Violation[] {
  const out: Out = [];
  const blank = (v: unknown) => typeof v === 'string' && v.trim() === '';
  // A blank required field gets one violation (required), not a second one for its whitespace.
  const required = (field: string, v: unknown, max: number, why: string, id: boolean) => {
    if (blank(v)) out.push({ field, description: why });
    else str(out, field, v, max, { id });
  };
  // A refinement id is "<template_id>#<n>": room for the longest template id and its number.
  required('refinement_id', r.refinementId, limits.maxIdLength + 12, 'is required', true);
  required('actor', r.actor, limits.maxIdLength, 'is required: who decides', true);
  required('reason', r.reason, limits.maxTextLength, 'is required: why', false);
  if (accept) {
    required('new_template_id', r.newTemplateId, limits.maxIdLength, 'is required to accept: name the new template version', true);
    str(out, 'description', r.description, limits.maxTextLength);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every problem with one event of a log read from a file (`import events`), so that nothing a live
 * write could not have logged enters an append-only log, where it would stay: each field the
 * projection and the reports read, with its type and range (outcomes and statuses by name, counts
 * whole, durations finite and >= 0, times within 1970 to 9999). Lengths are not checked: the log
 * was written under its own server's limits; nor is the presence of a field that is not a key, which
 * an earlier version's log may lack. Fields are named by their path in the event.
 */
export function validateLoggedEvent(e: Record<string, unknown>): Violation[] {
  const out: Out = [];
  const strings = (o: Record<string, unknown>, at: string, names: readonly string[], required: readonly string[] = []) => {
    for (const name of names) {
      const v = o[name];
      // Absent is allowed where not required: a log written by an earlier version may lack a later field.
      if (v === undefined && !required.includes(name)) continue;
      if (typeof v !== 'string') out.push({ field: `${at}${name}`, description: `must be a string; got ${show(v)}` });
      else if (required.includes(name) && v === '') out.push({ field: `${at}${name}`, description: 'is required; got an empty string' });
    }
  };
  const oneOf = (field: string, v: unknown, names: readonly string[]) => {
    if (!names.includes(v as string)) out.push({ field, description: `must be one of ${names.join(', ')}; got ${show(v)}` });
  };
  const part = (o: Record<string, unknown>, name: string): Record<string, unknown> | undefined => {
    if (isObject(o[name])) return o[name];
    out.push({ field: name, description: `must be an object; got ${show(o[name])}` });
    return undefined;
  };
  const run = (o: Record<string, unknown>, at: string) => {
    strings(o, at, ['runId', 'decisionId', 'taskId', 'failureReason', 'agent', 'model'], ['runId']);
    count(out, `${at}attempt`, o.attempt, MAX_RUN_COUNT);
    count(out, `${at}retries`, o.retries, MAX_RUN_COUNT);
    oneOf(`${at}outcome`, o.outcome, OUTCOMES);
    const d = o.durationSeconds;
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) out.push({ field: `${at}durationSeconds`, description: `must be a finite number >= 0; got ${show(d)}` });
  };
  if (!isLogTime(e.atMs)) out.push({ field: 'atMs', description: `must be a time between 1970 and 9999; got ${show(e.atMs)}` });
  switch (e.type) {
    case 'template':
      strings(e, '', ['templateId', 'parentTemplateId', 'description', 'actor'], ['templateId']);
      oneOf('status', e.status, ['active', 'candidate', 'retired']);
      if (e.implicit !== undefined && typeof e.implicit !== 'boolean') out.push({ field: 'implicit', description: `must be true or false; got ${show(e.implicit)}` });
      if (e.taskClasses !== undefined && (!Array.isArray(e.taskClasses) || !e.taskClasses.every((c) => typeof c === 'string' && c !== ''))) {
        out.push({ field: 'taskClasses', description: 'must be absent or a list of task classes' });
      }
      break;
    case 'observation': {
      const content = part(e, 'content');
      if (content !== undefined) {
        run(content, 'content.');
        strings(content, 'content.', ['templateId', 'taskClass', 'repo']);
        if (content.finishedAtMs !== undefined && !isLogTime(content.finishedAtMs)) {
          out.push({ field: 'content.finishedAtMs', description: `must be absent or a time between 1970 and 9999; got ${show(content.finishedAtMs)}` });
        }
      }
      const o = part(e, 'observation');
      if (o !== undefined) {
        run(o, 'observation.');
        strings(o, 'observation.', ['armId'], ['armId']);
        if (!isLogTime(o.finishedAtMs)) out.push({ field: 'observation.finishedAtMs', description: `must be a time between 1970 and 9999; got ${show(o.finishedAtMs)}` });
        if (isObject(o.context)) strings(o.context, 'observation.context.', ['taskClass', 'repo']);
        else out.push({ field: 'observation.context', description: `must be an object; got ${show(o.context)}` });
      }
      break;
    }
    case 'decision': {
      strings(e, '', ['requestId']);
      if (!Array.isArray(e.candidates) || !e.candidates.every((c) => typeof c === 'string')) out.push({ field: 'candidates', description: 'must be a list of strings' });
      const d = part(e, 'decision');
      if (d === undefined) break;
      strings(d, 'decision.', ['decisionId', 'chosen', 'policyVersion'], ['decisionId']);
      if (isObject(d.context)) strings(d.context, 'decision.context.', ['taskClass', 'repo']);
      else out.push({ field: 'decision.context', description: `must be an object; got ${show(d.context)}` });
      const p = d.propensity;
      if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) out.push({ field: 'decision.propensity', description: `must be a finite number >= 0; got ${show(p)}` });
      if (!Array.isArray(d.ranking) || !d.ranking.every((r) => isObject(r) && typeof r.armId === 'string')) {
        out.push({ field: 'decision.ranking', description: 'must be a list of ranked templates, each with its armId' });
      }
      break;
    }
    case 'refinement_opened':
      strings(e, '', ['refinementId', 'templateId', 'trigger', 'summary'], ['refinementId', 'templateId']);
      break;
    case 'refinement_decided':
      strings(e, '', ['refinementId', 'actor', 'reason', 'newTemplateId'], ['refinementId']);
      oneOf('decision', e.decision, ['accepted', 'rejected']);
      break;
    default:
      out.push({ field: 'type', description: `must be one of template, observation, decision, refinement_opened, refinement_decided; got ${show(e.type)}` });
  }
  return out;
}
