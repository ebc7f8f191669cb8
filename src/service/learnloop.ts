import { createHash, randomUUID } from 'node:crypto';
import {
  asDecisionId,
  candidatePosteriors,
  EMPTY_COUNTERS,
  NoCandidates,
  InvalidArgument,
  isWithinLength,
  rates,
  isInScope,
  recommend,
  summarizePosterior,
  validateObserveRequest,
  validateRecommendRequest,
  validateTemplateRegistration,
  type ArmStatus,
  type Counters,
  type Limits,
  type ObserveRequestInput,
  type Outcome,
  type PolicyConfig,
  type Posterior,
  type PosteriorSummary,
  type RecommendRequestInput,
  type CandidateSet,
  type PolicyCaches,
  type SetSummary,
  type Violation,
  hashHex,
} from '../bandit/index.js';
import type { DecisionEvent, LoggedEvent, ObserveContent, TemplateRecord } from '../bandit/index.js';
import type { Store } from '../store/port.js';
import { assertRoomFor, decisionPlan, implicitlyRegistered, observePlan, registerPlan, replayOf } from './rules.js';
import { Lru } from './lru.js';
import { RunRows } from './run-rows.js';
import { evidenceLabel, metricsOf, type Metrics } from '../reports/metrics.js';
import { passRateVersusParent, type VersionEffect } from '../reports/outcomes.js';

/** Candidates each policy cache holds at most (a few hundred bytes each): 4,096 sets of 8, or 32 of 1,000. */
const CACHED_CANDIDATES = 32_768;

/**
 * Most active templates the posterior in Observe's reply fits its base prior and pooling strengths
 * over. Up to this many it is every active template; beyond, this many chosen by a hash of their
 * ids (fixed, blind to evidence), so the reply costs the same with 10,000 active templates as with
 * 32 (docs/performance.md). The reply is an estimate shown to people, not a decision: a fit over 32
 * templates, more than most Recommends fit over, is enough for it.
 */
export const REPLY_POPULATION = 32;

/** The template list as ListTemplates and the reply's population read it, computed once per list. */
interface TemplateIndex {
  /** By status ('all' for every template), each in id order (JavaScript string order). */
  readonly byStatus: ReadonlyMap<ArmStatus | 'all', readonly TemplateRecord[]>;
  /** The active template ids the reply's posterior is pooled across (see REPLY_POPULATION), in id order. */
  readonly population: readonly string[];
}

const byId = (a: TemplateRecord, b: TemplateRecord) => (a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0);

function indexTemplates(records: readonly TemplateRecord[]): TemplateIndex {
  const all = [...records].sort(byId);
  const byStatus = new Map<ArmStatus | 'all', TemplateRecord[]>([['all', all], ['active', []], ['candidate', []], ['retired', []]]);
  for (const t of all) byStatus.get(t.status)!.push(t);
  const active = byStatus.get('active')!.map((t) => t.templateId);
  let population = active;
  if (active.length > REPLY_POPULATION) {
    const rank = new Map(active.map((id) => [id, hashHex(id)]));
    const chosen = new Set([...active].sort((a, b) => (rank.get(a)! < rank.get(b)! ? -1 : rank.get(a)! > rank.get(b)! ? 1 : a < b ? -1 : 1)).slice(0, REPLY_POPULATION));
    population = active.filter((id) => chosen.has(id));
  }
  return { byStatus, population };
}

/** A page of ListTemplates. */
export interface TemplatePage {
  readonly templates: readonly TemplateRecord[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

/** Page tokens are the last id listed, base64url-encoded (opaque to callers; any later id is a valid start). */
const pageToken = (afterId: string) => Buffer.from(afterId, 'utf8').toString('base64url');
function afterIdOf(token: string): string | undefined {
  const id = Buffer.from(token, 'base64url').toString('utf8');
  return pageToken(id) === token ? id : undefined;
}

export interface LearnLoopDeps {
  readonly store: Store;
  readonly limits: Limits;
  /** Wall clock in ms; injected so tests can fix time. */
  readonly now?: () => number;
  readonly newDecisionId?: () => string;
}

export interface RecommendParams {
  readonly taskClass: string;
  readonly repo: string;
  readonly candidateTemplateIds: readonly string[];
  readonly topK: number;
  readonly requestId: string;
}

export interface ObserveParams extends Omit<ObserveContent, 'outcome'> {
  /** An Outcome name; anything else is rejected by validation. */
  readonly outcome: Outcome | string;
}

export interface ObserveReply {
  readonly applied: boolean;
  readonly duplicate: boolean;
  readonly posterior: PosteriorSummary;
  readonly seq: number;
  /** True when this call registered the template implicitly (no one had). */
  readonly newTemplate: boolean;
}

/** A logged decision, with the candidates this call registered implicitly. */
export type RecommendReply = DecisionEvent & LoggedEvent & { readonly newTemplateIds: readonly string[] };

export interface Scorecard {
  readonly templateId: string;
  readonly posterior: PosteriorSummary;
  /** The posterior's evidence level as every output labels it (src/reports/metrics.ts). */
  readonly evidenceLabel: string;
  readonly counters: Counters;
  /** The segment's runs of this template under the shared definitions (docs/reports.md). */
  readonly metrics: Metrics;
  /** metrics.passRate, metrics.retryRate and metrics.timeoutRate, kept for callers that read them here. */
  readonly passRate: number;
  readonly retryRate: number;
  readonly timeoutRate: number;
  readonly meanDurationSeconds: number;
  /** A version with a parent: its pass rate in the segment against its parent's, new − parent with a 95% interval. */
  readonly vsParent?: VersionEffect & { readonly parentTemplateId: string };
}

/**
 * The application service behind every transport: validate, consult the core, persist.
 * The gRPC server and the command line's direct-database commands both call it.
 */
export class LearnLoop {
  private readonly store: Store;
  readonly policy: PolicyConfig;
  readonly limits: Limits;
  private readonly now: () => number;
  private readonly newDecisionId: () => string;
  /** Recent candidate sets and Monte Carlo summaries (see PolicyCaches), bounded by candidates held. */
  /** The log's runs, read incrementally, for the scorecards' shared definitions. */
  private readonly runRows: RunRows;
  /** Template indexes by the list they index: a store that caches its list (LMDB, PostgreSQL) is indexed once per change. */
  private readonly indexes = new WeakMap<readonly TemplateRecord[], TemplateIndex>();
  private readonly caches: PolicyCaches = {
    sets: new Lru<CandidateSet>(CACHED_CANDIDATES, (s) => s.posteriors.length),
    summaries: new Lru<SetSummary>(CACHED_CANDIDATES, (s) => s.probBest.length),
  };

  constructor(deps: LearnLoopDeps) {
    this.store = deps.store;
    this.runRows = new RunRows(deps.store, deps.store.policy.partialReward);
    this.policy = deps.store.policy;
    this.limits = deps.limits;
    this.now = deps.now ?? Date.now;
    this.newDecisionId = deps.newDecisionId ?? randomUUID;
  }

  /**
   * Ranks the candidates, picks one by Thompson sampling and logs the decision.
   * @throws InvalidArgument naming every bad field; NoCandidates when none are named or active;
   *   RequestConflict when request_id was used for another request; TemplateNotFound (strict), TemplateLimit.
   */
  async recommend(params: RecommendParams): Promise<RecommendReply> {
    const violations = validateRecommendRequest(params as RecommendRequestInput, this.limits);
    if (violations.length > 0) throw new InvalidArgument(violations);
    if (params.requestId !== '') {
      const earlier = await this.store.decisionForRequest(params.requestId);
      if (earlier !== undefined) return { ...replayOf(earlier, params.requestId, params), newTemplateIds: [] };
    }
    const named = params.candidateTemplateIds.length > 0;
    const candidates = named
      ? [...params.candidateTemplateIds]
      : (await this.store.templates()).filter((t) => t.status === 'active' && isInScope(t, params.taskClass)).map((t) => t.templateId);
    if (candidates.length === 0) throw new NoCandidates(params.taskClass);
    if (candidates.length > this.limits.maxCandidates) {
      throw new InvalidArgument([
        { field: 'candidate_template_ids', description: `${candidates.length} active templates exceed the limit of ${this.limits.maxCandidates}; name the candidates` },
      ]);
    }
    if (named) await assertRoomFor(this.store, this.limits, await this.store.unknownTemplates(candidates), 'candidate_template_ids');
    const context = { taskClass: params.taskClass, repo: params.repo };
    const nowMs = this.now();
    const decision = recommend(
      {
        decisionId: asDecisionId(params.requestId === '' ? this.newDecisionId() : decisionIdForRequest(params.requestId)),
        context,
        arms: await this.store.armEvidence(candidates, context),
        nowMs,
        topK: params.topK,
      },
      this.policy,
      this.caches,
    );
    const { result, events } = await this.store.commit(nowMs, decisionPlan(decision, params.requestId, params, candidates));
    if (result !== undefined) return { ...result, newTemplateIds: [] };
    return { ...(events.at(-1) as DecisionEvent & LoggedEvent), newTemplateIds: implicitlyRegistered(events) };
  }

  /**
   * Records one verified run, exactly once per run_id.
   * @throws InvalidArgument, DecisionNotFound, ObservationConflict, TemplateNotFound (strict), TemplateLimit
   */
  async observe(params: ObserveParams): Promise<ObserveReply> {
    const receivedAtMs = this.now();
    const violations = validateObserveRequest(params as ObserveRequestInput, this.limits, receivedAtMs);
    if (violations.length > 0) throw new InvalidArgument(violations);
    if (params.templateId !== '') await assertRoomFor(this.store, this.limits, await this.store.unknownTemplates([params.templateId]));
    const { result, events } = await this.store.commit(receivedAtMs, observePlan(params as ObserveContent, receivedAtMs));
    const o = result.observation;
    return {
      applied: result.kind === 'applied',
      duplicate: result.kind === 'duplicate',
      posterior: await this.posterior(o.armId, o.context.taskClass, o.context.repo),
      seq: result.kind === 'duplicate' ? result.seq : events.at(-1)!.seq,
      newTemplate: implicitlyRegistered(events).length > 0,
    };
  }

  /**
   * Registers a template, or changes a registered one's status or description. For a registered
   * template, no status keeps its status and an empty description keeps its description; a new
   * (or implicit) template becomes active unless a status is given.
   * @throws InvalidArgument, TemplateConflict, TemplateLimit; TemplateNotFound (strict) for an unregistered parent
   */
  async registerTemplate(params: {
    templateId: string;
    parentTemplateId: string;
    status?: ArmStatus | undefined;
    description: string;
    actor?: string;
    /** The task classes it is for; empty keeps a registered template's (see registerEvents). */
    taskClasses?: readonly string[];
  }): Promise<{ record: TemplateRecord; created: boolean }> {
    const violations = validateTemplateRegistration(params, this.limits);
    if (violations.length > 0) throw new InvalidArgument(violations);
    // Registering an id is always allowed (strict mode is about ids nobody registered), within the store's limit.
    const unknown = await this.store.unknownTemplates([params.templateId]);
    await assertRoomFor(this.store, { ...this.limits, strictTemplates: false }, unknown);
    if (params.parentTemplateId !== '') await assertRoomFor(this.store, this.limits, await this.store.unknownTemplates([params.parentTemplateId]), 'parent_template_id');
    const atMs = this.now();
    return (await this.store.commit(atMs, registerPlan({ ...params, actor: params.actor ?? '' }, atMs))).result;
  }

  private async templateIndex(): Promise<TemplateIndex> {
    const records = await this.store.templates();
    let index = this.indexes.get(records);
    if (index === undefined) this.indexes.set(records, (index = indexTemplates(records)));
    return index;
  }

  async listTemplates(status?: ArmStatus): Promise<readonly TemplateRecord[]> {
    return (await this.templateIndex()).byStatus.get(status ?? 'all')!;
  }

  /**
   * A page of templates in id order; costs O(log templates + page) once the list is indexed.
   * @param pageSize 0 for every template from the token on
   * @throws InvalidArgument for a negative page_size or a page_token this server did not give
   */
  async listTemplatesPage(q: { status?: ArmStatus | undefined; pageSize: number; pageToken: string }): Promise<TemplatePage> {
    const violations: Violation[] = [];
    if (!Number.isInteger(q.pageSize) || q.pageSize < 0) violations.push({ field: 'page_size', description: `must be 0 (all) or a positive count, got ${q.pageSize}` });
    const after = q.pageToken === '' ? '' : afterIdOf(q.pageToken);
    if (after === undefined || !isWithinLength(after, this.limits.maxIdLength)) violations.push({ field: 'page_token', description: 'is not a next_page_token this server gave; leave it empty to start at the first template' });
    if (violations.length > 0) throw new InvalidArgument(violations);
    const list = await this.listTemplates(q.status);
    // First template after the token's id: binary search, since the list is in id order.
    let lo = 0;
    if (after !== '') {
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (list[mid]!.templateId <= after!) lo = mid + 1;
        else hi = mid;
      }
    }
    const end = q.pageSize > 0 ? Math.min(list.length, lo + q.pageSize) : list.length;
    const templates = list.slice(lo, end);
    return { templates, nextPageToken: end < list.length ? pageToken(list[end - 1]!.templateId) : '' };
  }

  /**
   * One template's posterior in a context, pooled as a Recommend over the active templates would
   * see it: the base prior and pooling strengths fitted over them (at most REPLY_POPULATION of them).
   */
  async posterior(templateId: string, taskClass: string, repo: string): Promise<PosteriorSummary> {
    const { population } = await this.templateIndex();
    const all = [templateId, ...population.filter((id) => id !== templateId)];
    const context = { taskClass, repo };
    const posteriors = candidatePosteriors(
      await this.store.armEvidence(all, context),
      this.policy,
      this.now(),
    );
    return summarizePosterior(posteriors[0]!, this.policy.partialReward);
  }

  /**
   * The posteriors a segment's scorecards show, in template id order: every template with runs
   * there (in the store's stats, or among `ranIds`) and every active one, fitted over that set. The
   * dashboard's matrix reads the same, so a cell shows what GetScores shows for its segment.
   */
  async segmentPosteriors(
    taskClass: string,
    repo: string,
    ranIds: readonly string[],
  ): Promise<Array<{ templateId: string; posterior: PosteriorSummary; evidenceLabel: string; counters: Counters | undefined; pooled: Posterior }>> {
    const counters = new Map<string, Counters | undefined>((await this.store.statsForSegment(taskClass, repo)).map((s) => [s.templateId, s.stats.counters]));
    // Active templates out of scope for the class are left out, as Recommend leaves them out; one with runs here stays.
    for (const t of await this.listTemplates('active')) if (!counters.has(t.templateId) && isInScope(t, taskClass)) counters.set(t.templateId, undefined);
    for (const id of ranIds) if (!counters.has(id)) counters.set(id, undefined);
    const ids = [...counters.keys()].sort();
    const posteriors = candidatePosteriors(await this.store.armEvidence(ids, { taskClass, repo }), this.policy, this.now());
    return ids.map((templateId, i) => {
      const posterior = summarizePosterior(posteriors[i]!, this.policy.partialReward);
      return { templateId, posterior, evidenceLabel: evidenceLabel(posterior.evidenceLevel), counters: counters.get(templateId), pooled: posteriors[i]! };
    });
  }

  /**
   * Scorecards for a segment ('' widens it): every template with runs there, and every active one
   * in scope for its task class.
   * Sorted by posterior mean, best first.
   */
  async scores(taskClass: string, repo: string): Promise<Scorecard[]> {
    const violations = validateRecommendRequest(
      { taskClass, repo, candidateTemplateIds: [], topK: 0, requestId: '' },
      this.limits,
    );
    if (violations.length > 0) throw new InvalidArgument(violations);
    const runs = await this.runRows.segmentMetrics(taskClass, repo);
    const segment = await this.segmentPosteriors(taskClass, repo, [...runs.keys()]);
    const parents = new Map((await this.listTemplates()).map((t) => [t.templateId, t.parentTemplateId]));
    const metricsOfTemplate = (id: string) => runs.get(id) ?? metricsOf([], this.policy.partialReward);
    const cards = segment.map(({ templateId, posterior, evidenceLabel, counters }): Scorecard => {
      const c = counters ?? EMPTY_COUNTERS;
      const metrics = metricsOfTemplate(templateId);
      const parentTemplateId = parents.get(templateId) ?? '';
      return {
        ...(parentTemplateId === '' ? {} : { vsParent: { parentTemplateId, ...passRateVersusParent(metricsOfTemplate(parentTemplateId), metrics) } }),
        templateId,
        posterior,
        evidenceLabel,
        counters: c,
        metrics,
        passRate: metrics.passRate,
        retryRate: metrics.retryRate,
        timeoutRate: metrics.timeoutRate,
        meanDurationSeconds: rates(c).meanDurationSeconds,
      };
    });
    return cards.sort((a, b) => b.posterior.mean - a.posterior.mean || (a.templateId < b.templateId ? -1 : 1));
  }
}

/**
 * The decision id a request id stands for: a UUID (RFC 9562 version 8) from SHA-256 of the request
 * id. A retry of a request whose first attempt never committed (the server died, the reply was lost)
 * then gets the same id, hence the same pick on the same evidence, and two replicas answering the
 * same request agree; a request id names at most one decision, so ids stay unique.
 */
export function decisionIdForRequest(requestId: string): string {
  const b = createHash('sha256').update(`learnloop-request:${requestId}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
