/**
 * The write rules, as plans over the store port's StateView: what an Observe, a Recommend's log
 * entry, a registration or a refinement decision appends, given the state it applies to. Adapters
 * run a plan and its appends atomically (re-planning when needed), so a rule is checked against
 * exactly the state it changes.
 */
import {
  asArmId,
  DecisionNotFound,
  InvalidArgument,
  RequestConflict,
  TemplateLimit,
  TemplateNotFound,
  type Limits,
  type Violation,
  ObservationConflict,
  project,
  RefinementNotFound,
  RefinementNotOpen,
  TemplateConflict,
  type Decision,
  type DecisionEvent,
  type EventBody,
  type LoggedEvent,
  type Observation,
  type ObservationEvent,
  type ObserveContent,
  type RefinementDecidedEvent,
  type RefinementOpenedEvent,
  type RefinementRecord,
  type TemplateEvent,
  type TemplateRecord,
} from '../bandit/index.js';
import type { Plan, Planner, StateView, Store } from '../store/port.js';

export interface RegisterInput {
  readonly templateId: string;
  /** '' keeps the registered parent (none for a new template). */
  readonly parentTemplateId: string;
  /** Undefined keeps a registered template's status; a new or implicit one becomes active. */
  readonly status?: TemplateRecord['status'] | undefined;
  /** '' keeps a registered template's description. */
  readonly description: string;
  readonly actor: string;
  /** Empty or absent keeps a registered template's task classes; a new one takes its parent's (none: every class). */
  readonly taskClasses?: readonly string[] | undefined;
}

export type ObserveResult =
  | { readonly kind: 'applied'; readonly observation: Observation }
  | { readonly kind: 'duplicate'; readonly seq: number; readonly observation: Observation };

/** Deepest parent chain walked when checking for a cycle. */
const MAX_PARENT_CHAIN = 64;

/**
 * A template first seen in Observe or Recommend: registered as a candidate, marked implicit. It is
 * recommended only where named until someone registers or activates it, so a typo never becomes a
 * default option. (Logs written before this rule hold implicit templates registered active.)
 */
export const implicitTemplate = (templateId: string): TemplateEvent => ({
  type: 'template',
  templateId,
  parentTemplateId: '',
  status: 'candidate',
  description: '',
  implicit: true,
  actor: '',
});

/**
 * The registration rules for ids no one registered: refused in strict mode, else at most
 * `maxNewTemplatesPerCall` per call and `maxTemplates` in all.
 * @param unknown the ids the call would register
 * @throws TemplateNotFound (strict), TemplateLimit
 */
export async function assertRoomFor(store: Pick<Store, 'templates'>, limits: Limits, unknown: readonly string[], field = 'template_id'): Promise<void> {
  if (unknown.length === 0) return;
  if (limits.strictTemplates) throw new TemplateNotFound(field, unknown);
  if (unknown.length > limits.maxNewTemplatesPerCall) {
    throw new TemplateLimit(`${field}: ${unknown.length} ids are not registered; one call may register at most ${limits.maxNewTemplatesPerCall} (--max-new-templates-per-call); register them first`);
  }
  // Counted only when a call would register something; templates are never deleted. Calls in flight
  // at once may each pass this check: the limit can be overshot by their new templates, never more.
  const held = (await store.templates()).length;
  if (held + unknown.length > limits.maxTemplates) {
    throw new TemplateLimit(`${field}: the store holds ${held} templates; registering ${unknown.length} more would pass --max-templates (${limits.maxTemplates})`);
  }
}

/** The template ids a commit registered implicitly (answers say which ids were new). */
export const implicitlyRegistered = (events: readonly EventBody[]): string[] =>
  events.flatMap((e) => (e.type === 'template' && e.implicit ? [e.templateId] : []));

/** What a Recommend repeating a request_id must repeat. */
export interface RequestContent {
  readonly taskClass: string;
  readonly repo: string;
  readonly candidateTemplateIds: readonly string[];
  readonly topK: number;
}

/**
 * The fields in which a Recommend differs from the decision logged for its request_id. An empty
 * candidate list repeats whatever set the first call resolved; top_k is compared through the
 * ranking's length, which is all the log keeps of it.
 */
export function requestDifferences(earlier: DecisionEvent, r: RequestContent): string[] {
  const out: string[] = [];
  const d = earlier.decision;
  if (d.context.taskClass !== r.taskClass) out.push('task_class');
  if (d.context.repo !== r.repo) out.push('repo');
  const named = r.candidateTemplateIds;
  if (named.length > 0 && (named.length !== earlier.candidates.length || !named.every((id) => earlier.candidates.includes(id)))) {
    out.push('candidate_template_ids');
  }
  const n = earlier.candidates.length;
  if (d.ranking.length !== (r.topK > 0 ? Math.min(r.topK, n) : n)) out.push('top_k');
  return out;
}

/** The earlier decision for a request_id, when the request repeats it. @throws RequestConflict when it differs. */
export function replayOf(earlier: DecisionEvent & LoggedEvent, requestId: string, r: RequestContent): DecisionEvent & LoggedEvent {
  const differing = requestDifferences(earlier, r);
  if (differing.length > 0) throw new RequestConflict(requestId, differing);
  return earlier;
}

/** What `project` makes of events, read back for one record: the answer a write returns. */
function projected<K extends 'template' | 'refinement'>(
  kind: K,
  key: string,
  events: readonly EventBody[],
  prior: K extends 'template' ? TemplateRecord | undefined : RefinementRecord | undefined,
  atMs: number,
): K extends 'template' ? TemplateRecord : RefinementRecord {
  let record: unknown = prior;
  for (const body of events) {
    const reader = {
      template: () => (kind === 'template' ? (record as TemplateRecord | undefined) : undefined),
      stats: () => undefined,
      refinement: () => (kind === 'refinement' ? (record as RefinementRecord | undefined) : undefined),
    };
    // The policy only shapes stats, which no answer here reads.
    for (const c of project({ ...body, seq: 0, atMs } as LoggedEvent, reader, undefined as never)) {
      if (c.kind === kind && c.key === key) record = c.value;
    }
  }
  return record as K extends 'template' ? TemplateRecord : RefinementRecord;
}

/** How a run's stated template and context contradict the decision it names (empty fields defer to it). */
function decisionConflicts(content: ObserveContent, decision: DecisionEvent): Violation[] {
  const d = decision.decision;
  const out: Violation[] = [];
  // Short sentences: a message carries all of them, each with both values, within the trailer's budget.
  const check = (field: string, stated: string, decided: string, what: string) => {
    if (stated !== '' && stated !== decided) out.push({ field, description: `is ${JSON.stringify(stated)} but the decision ${what} ${JSON.stringify(decided)}` });
  };
  check('template_id', content.templateId, d.chosen, 'chose');
  check('task_class', content.taskClass, d.context.taskClass, 'was made for task_class');
  check('repo', content.repo, d.context.repo, 'was made for repo');
  if (out.length > 0) {
    const fields = out.map((v) => v.field);
    const list = fields.length === 1 ? fields[0]! : `${fields.slice(0, -1).join(', ')} and ${fields.at(-1)!}`;
    const one = fields.length === 1;
    out.unshift({ field: 'decision_id', description: `names a decision that ${list} contradict${one ? 's' : ''}; leave ${one ? 'it' : 'them'} empty or state the decision's` });
  }
  return out;
}

/**
 * The fields in which a resent run differs from the recorded one. A template, task class or repository left empty
 * for the named decision to supply is the value the decision supplied: stating it or leaving it empty is the same run.
 */
function runDifferences(prior: ObservationEvent, content: ObserveContent): string[] {
  const o = prior.observation;
  // The recorded run's decision settled these (a stated value had to agree with it).
  const supplied: Partial<Record<keyof ObserveContent, string>> =
    content.decisionId !== '' && content.decisionId === prior.content.decisionId ? { templateId: o.armId, taskClass: o.context.taskClass, repo: o.context.repo } : {};
  const value = (c: ObserveContent, k: keyof ObserveContent) => (c[k] === '' ? (supplied[k] ?? '') : c[k]);
  return (Object.keys(content) as Array<keyof ObserveContent>).filter((k) => value(prior.content, k) !== value(content, k)).map(protoField);
}

/** An ObserveContent key as the proto names the field, as every error message does (finishedAtMs is finished_at). */
const protoField = (k: keyof ObserveContent): string => (k === 'finishedAtMs' ? 'finished_at' : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));

/**
 * One verified run, exactly once per run_id: a resend with the same content is a duplicate, with
 * other content a conflict. The decision (if named) fills what the run left empty; what the run
 * states must agree with it. An unknown template is registered implicitly, as a candidate.
 * @throws ObservationConflict, DecisionNotFound, InvalidArgument (the run contradicts its decision)
 */
export function observePlan(content: ObserveContent, receivedAtMs: number): Planner<ObserveResult> {
  return async (view) => {
    const prior = await view.run(content.runId);
    if (prior !== undefined) {
      const differing = runDifferences(prior, content);
      if (differing.length > 0) throw new ObservationConflict(content.runId, differing);
      return { events: [], result: { kind: 'duplicate', seq: prior.seq, observation: prior.observation } };
    }
    let { templateId, taskClass, repo } = content;
    if (content.decisionId !== '') {
      const decision = await view.decision(content.decisionId);
      if (decision === undefined) throw new DecisionNotFound(content.decisionId);
      const conflicts = decisionConflicts(content, decision);
      if (conflicts.length > 0) throw new InvalidArgument(conflicts);
      templateId ||= decision.decision.chosen;
      taskClass ||= decision.decision.context.taskClass;
      repo ||= decision.decision.context.repo;
    }
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
    const register = (await view.unknownTemplates([templateId])).map(implicitTemplate);
    const event: ObservationEvent = { type: 'observation', content, observation };
    return { events: [...register, event], result: { kind: 'applied', observation } };
  };
}

/**
 * Logs a decision and registers unseen candidates; when `requestId` already has a decision for
 * the same request, that one is the answer and nothing is written. The answer is undefined when
 * the new one was logged.
 * @throws RequestConflict when `requestId` was used for a different request.
 */
export function decisionPlan(
  decision: Decision,
  requestId: string,
  request: RequestContent,
  candidates: readonly string[],
): Planner<(DecisionEvent & LoggedEvent) | undefined> {
  return async (view) => {
    if (requestId !== '') {
      const earlier = await view.decisionForRequest(requestId);
      if (earlier !== undefined) return { events: [], result: replayOf(earlier, requestId, request) };
    }
    const register = (await view.unknownTemplates(candidates)).map(implicitTemplate);
    const event: DecisionEvent = { type: 'decision', requestId, candidates, decision };
    return { events: [...register, event], result: undefined };
  };
}

/**
 * Registers a template version or changes its status or description. What a registration of an
 * existing template leaves out (no status, an empty description, parent or task classes) keeps its
 * registered value, so changing the status never erases the description and adding a description
 * never reactivates a retired template. A new version named without task classes takes its
 * parent's, so a refinement of a bug-fix template stays a bug-fix template. The parent, if named
 * and unknown, is registered implicitly.
 * @throws TemplateConflict when the parent differs from the registered one or forms a cycle.
 */
export async function registerEvents(
  view: StateView,
  input: RegisterInput,
  atMs: number,
): Promise<Plan<{ record: TemplateRecord; created: boolean }>> {
  const existing = await view.template(input.templateId);
  const events: EventBody[] = [];
  if (input.parentTemplateId !== '') {
    if (existing !== undefined && existing.parentTemplateId !== '' && existing.parentTemplateId !== input.parentTemplateId) {
      throw new TemplateConflict(input.templateId, `already has parent ${JSON.stringify(existing.parentTemplateId)}`);
    }
    for (let id: string | undefined = input.parentTemplateId, n = 0; id; n++) {
      if (id === input.templateId || n > MAX_PARENT_CHAIN) {
        throw new TemplateConflict(input.templateId, `would form a parent cycle through ${JSON.stringify(input.parentTemplateId)}`);
      }
      id = (await view.template(id))?.parentTemplateId;
    }
    events.push(...(await view.unknownTemplates([input.parentTemplateId])).map(implicitTemplate));
  }
  // An implicit template was never registered by a person: registering it makes it active unless told otherwise.
  const status = input.status ?? (existing === undefined || existing.implicit ? 'active' : existing.status);
  const description = input.description === '' ? (existing?.description ?? '') : input.description;
  const parentTemplateId = input.parentTemplateId || (existing?.parentTemplateId ?? '');
  const named = [...new Set(input.taskClasses ?? [])].sort();
  const taskClasses =
    named.length > 0 ? named : existing !== undefined ? existing.taskClasses : parentTemplateId === '' ? undefined : (await view.template(parentTemplateId))?.taskClasses;
  const unchanged =
    existing !== undefined &&
    existing.status === status &&
    existing.description === description &&
    existing.parentTemplateId === parentTemplateId &&
    JSON.stringify(existing.taskClasses ?? []) === JSON.stringify(taskClasses ?? []) &&
    !existing.implicit;
  const { taskClasses: _asNamed, ...rest } = input;
  const own: TemplateEvent[] = unchanged
    ? []
    : [{ type: 'template', ...rest, status, description, parentTemplateId, implicit: false, ...(taskClasses === undefined ? {} : { taskClasses }) }];
  events.push(...own);
  return { events, result: { record: own.length === 0 ? existing! : projected('template', input.templateId, own, existing, atMs), created: existing === undefined } };
}

export const registerPlan = (input: RegisterInput, atMs: number): Planner<{ record: TemplateRecord; created: boolean }> => (view) =>
  registerEvents(view, input, atMs);

/**
 * Opens a refinement item unless the id exists or an item is already open for the template.
 * @returns the item and whether it was opened now.
 */
export function openRefinementPlan(item: Omit<RefinementOpenedEvent, 'type'>, atMs: number): Planner<{ record: RefinementRecord; created: boolean }> {
  return async (view) => {
    const existing = (await view.refinement(item.refinementId)) ?? (await view.openRefinementFor(item.templateId));
    if (existing !== undefined) return { events: [], result: { record: existing, created: false } };
    const event: RefinementOpenedEvent = { type: 'refinement_opened', ...item };
    return { events: [event], result: { record: projected('refinement', item.refinementId, [event], undefined, atMs), created: true } };
  };
}

/** What a decision answers: the item, the template accepting registered, and whether this was a resend that changed nothing. */
export interface DecideResult {
  readonly record: RefinementRecord;
  readonly template: TemplateRecord | undefined;
  readonly duplicate: boolean;
}

/**
 * A person's decision on an open item; accepting registers the new template version (with the
 * item's template as parent) in the same commit. A resend (the same decision, actor, reason and
 * new template) changes nothing and answers `duplicate`; any other decision on a decided item is
 * refused, so a second person is never told their decision was recorded.
 * @throws RefinementNotFound; RefinementNotOpen when it was already decided and this is not a resend;
 * TemplateConflict when accepting into a template that is already registered.
 */
export function decideRefinementPlan(
  d: Omit<RefinementDecidedEvent, 'type'>,
  template: Omit<RegisterInput, 'templateId' | 'parentTemplateId' | 'actor'> | undefined,
  atMs: number,
): Planner<DecideResult> {
  return async (view) => {
    const item = await view.refinement(d.refinementId);
    if (item === undefined) throw new RefinementNotFound(d.refinementId);
    if (item.status !== 'open') {
      if (item.status === d.decision && item.newTemplateId === d.newTemplateId && item.actor === d.actor && item.reason === d.reason) {
        return { events: [], result: { record: item, template: d.newTemplateId === '' ? undefined : await view.template(d.newTemplateId), duplicate: true } };
      }
      throw new RefinementNotOpen(d.refinementId, item.status, item.actor, item.decidedAtMs > 0 ? new Date(item.decidedAtMs).toISOString() : '');
    }
    const events: EventBody[] = [];
    let record: TemplateRecord | undefined;
    if (d.decision === 'accepted' && template !== undefined) {
      // The new version is written for this item: accepting must not take over a template that exists.
      if ((await view.unknownTemplates([d.newTemplateId])).length === 0) {
        throw new TemplateConflict(d.newTemplateId, 'is already registered; name a new template version to accept into');
      }
      const registered = await registerEvents(
        view,
        { ...template, templateId: d.newTemplateId, parentTemplateId: item.templateId, actor: d.actor },
        atMs,
      );
      events.push(...registered.events);
      record = registered.result.record;
    }
    const decided: RefinementDecidedEvent = { type: 'refinement_decided', ...d };
    events.push(decided);
    return { events, result: { record: projected('refinement', d.refinementId, [decided], item, atMs), template: record, duplicate: false } };
  };
}
