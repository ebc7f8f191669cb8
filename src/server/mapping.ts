/** The one place proto types meet domain types. */
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { InvalidArgument } from '../bandit/index.js';
import { DESCRIPTOR_SET } from '../paths.js';
import type { ArmStatus, BorrowedEvidence, DecisionEvent, EvidenceLevel, RefinementRecord, TemplateRecord, Outcome as DomainOutcome, PosteriorSummary as DomainPosterior } from '../bandit/index.js';
import type { ObserveParams, ObserveReply, RecommendParams, Scorecard as DomainScorecard } from '../service/learnloop.js';
import { EVIDENCE_LABELS } from '../reports/metrics.js';
import type { AcceptParams, RejectParams } from '../service/refinement-queue.js';
import {
  DecideRefinementRequest as DecideRefinementRequestCodec,
  GetScoresRequest,
  ListRefinementsRequest,
  ListTemplatesRequest,
  ObserveRequest as ObserveRequestCodec,
  RecommendRequest as RecommendRequestCodec,
  RegisterTemplateRequest,
  EvidenceLevel as ProtoEvidenceLevel,
  Outcome,
  RefinementDecision,
  RefinementStatus,
  TemplateStatus,
  type DecideRefinementRequest,
  type Refinement,
  type GetScoresResponse,
  type ObserveRequest,
  type ObserveResponse,
  type PosteriorSummary,
  type RecommendRequest,
  type RecommendResponse,
  type Template,
} from '../gen/learnloop/v1/learnloop.js';

/** Request message codecs by RPC name. */
const REQUEST_CODECS = {
  Recommend: RecommendRequestCodec,
  Observe: ObserveRequestCodec,
  RegisterTemplate: RegisterTemplateRequest,
  ListTemplates: ListTemplatesRequest,
  GetScores: GetScoresRequest,
  ListRefinements: ListRefinementsRequest,
  DecideRefinement: DecideRefinementRequestCodec,
} as const satisfies Record<string, { decode(input: BinaryReader | Uint8Array): unknown }>;

/** Remembers which field each string came from, so a string that is not UTF-8 can be blamed on its field. */
class FieldTrackingReader extends BinaryReader {
  /** Field number of the string being read, and how many strings that field has had (repeated fields). */
  field = 0;
  readonly seen = new Map<number, number>();
  private lastVarint = 0;

  constructor(buf: Uint8Array, decodeUtf8: (bytes: Uint8Array) => string) {
    super(buf, decodeUtf8);
    // Generated decoders read each tag with uint32(), just before calling string() for its value.
    const read = this.uint32;
    this.uint32 = () => (this.lastVarint = read.call(this));
  }

  override string(): string {
    this.field = this.lastVarint >>> 3;
    this.seen.set(this.field, (this.seen.get(this.field) ?? 0) + 1);
    return super.string();
  }
}

// The default decoder replaces bad bytes with U+FFFD, so "u-\xff" and "u-\xfe" would be one id.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
class NotUtf8 extends Error {}
function decodeStrict(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new NotUtf8();
  }
}

let fieldNames: Map<string, Map<number, { name: string; repeated: boolean }>> | undefined;

/** Proto field names by RPC and number, from the descriptors the server serves (read once, on the first bad string). */
function fieldName(rpc: string, number: number, occurrence: number): string {
  fieldNames ??= (() => {
    const file = fromBinary(FileDescriptorSetSchema, readFileSync(DESCRIPTOR_SET)).file.find((f) => f.package === 'learnloop.v1');
    const out = new Map<string, Map<number, { name: string; repeated: boolean }>>();
    for (const m of file?.messageType ?? []) {
      const fields = m.field.map((f) => [f.number, { name: f.name, repeated: f.label === FieldDescriptorProto_Label.REPEATED }] as const);
      out.set(m.name.replace(/Request$/, ''), new Map(fields));
    }
    return out;
  })();
  const f = fieldNames.get(rpc)?.get(number);
  if (f === undefined) return `field ${number}`;
  return f.repeated ? `${f.name}[${occurrence - 1}]` : f.name;
}

/**
 * Decodes a request body of `rpc`.
 * @throws InvalidArgument naming the field when a string is not valid UTF-8; the decoder's own error when the bytes are not the message.
 */
export function decodeRequest(rpc: string, body: Uint8Array): unknown {
  const codec = REQUEST_CODECS[rpc as keyof typeof REQUEST_CODECS];
  if (codec === undefined) throw new Error(`no request codec for ${rpc}`);
  const reader = new FieldTrackingReader(body, decodeStrict);
  try {
    return codec.decode(reader);
  } catch (error) {
    if (!(error instanceof NotUtf8)) throw error;
    const field = fieldName(rpc, reader.field, reader.seen.get(reader.field) ?? 1);
    throw new InvalidArgument([{ field, description: 'must be valid UTF-8' }]);
  }
}

const OUTCOME_TO_DOMAIN: Partial<Record<number, DomainOutcome>> = {
  [Outcome.OUTCOME_PASS]: 'pass',
  [Outcome.OUTCOME_PARTIAL]: 'partial',
  [Outcome.OUTCOME_FAIL]: 'fail',
  [Outcome.OUTCOME_TIMEOUT]: 'timeout',
  [Outcome.OUTCOME_INFRA_ERROR]: 'infra_error',
  [Outcome.OUTCOME_UNVERIFIED]: 'unverified',
};

/** A domain outcome, or the proto name of an invalid one (validation reports it). */
export function outcomeFromProto(o: number): DomainOutcome | string {
  return OUTCOME_TO_DOMAIN[o] ?? (o === Outcome.OUTCOME_UNSPECIFIED ? 'OUTCOME_UNSPECIFIED' : `unknown enum value ${o}`);
}

export function outcomeToProto(o: DomainOutcome): Outcome {
  const entry = Object.entries(OUTCOME_TO_DOMAIN).find(([, d]) => d === o)!;
  return Number(entry[0]) as Outcome;
}

const LEVEL_TO_PROTO: Record<EvidenceLevel, ProtoEvidenceLevel> = {
  prior: ProtoEvidenceLevel.EVIDENCE_LEVEL_PRIOR,
  global: ProtoEvidenceLevel.EVIDENCE_LEVEL_GLOBAL,
  task_class: ProtoEvidenceLevel.EVIDENCE_LEVEL_TASK_CLASS,
  repo_task_class: ProtoEvidenceLevel.EVIDENCE_LEVEL_REPO_TASK_CLASS,
};

/** Borrowed sources in the labels reports use for evidence levels (src/reports/metrics.ts), plus "parent". */
const SOURCE_LABELS: Record<BorrowedEvidence['source'], string> = {
  task_class: EVIDENCE_LABELS.task_class,
  global: EVIDENCE_LABELS.global,
  prior: EVIDENCE_LABELS.prior,
  parent: 'parent',
};

const STATUS_TO_PROTO: Record<ArmStatus, TemplateStatus> = {
  active: TemplateStatus.TEMPLATE_STATUS_ACTIVE,
  candidate: TemplateStatus.TEMPLATE_STATUS_CANDIDATE,
  retired: TemplateStatus.TEMPLATE_STATUS_RETIRED,
};

/** Unspecified maps to undefined (the caller's default); unknown numbers to null (invalid). */
export function statusFromProto(s: number): ArmStatus | undefined | null {
  if (s === TemplateStatus.TEMPLATE_STATUS_UNSPECIFIED) return undefined;
  const entry = Object.entries(STATUS_TO_PROTO).find(([, p]) => p === s);
  return entry ? (entry[0] as ArmStatus) : null;
}

export function posteriorToProto(p: DomainPosterior): PosteriorSummary {
  return {
    mean: p.mean,
    ciLow: p.ciLow,
    ciHigh: p.ciHigh,
    passRate: p.passRate ?? 0,
    passRateCiLow: p.passRateLow ?? 0,
    passRateCiHigh: p.passRateHigh ?? 0,
    alpha: p.alpha,
    beta: p.beta,
    observations: p.observations,
    evidenceLevel: LEVEL_TO_PROTO[p.evidenceLevel],
  };
}

export function recommendFromProto(r: RecommendRequest): RecommendParams {
  return {
    taskClass: r.taskClass,
    repo: r.repo,
    candidateTemplateIds: r.candidateTemplateIds,
    topK: r.topK,
    requestId: r.requestId,
  };
}

/** @param e a logged decision; `newTemplateIds` when the call that made it registered candidates. */
export function decisionToProto(e: DecisionEvent & { readonly newTemplateIds?: readonly string[] }): RecommendResponse {
  const d = e.decision;
  return {
    decisionId: d.decisionId,
    chosenTemplateId: d.chosen,
    propensity: d.propensity,
    ranking: d.ranking.map((r) => ({
      templateId: r.armId,
      posterior: posteriorToProto(r.posterior),
      probBest: r.probBest,
      propensity: r.propensity,
      ownRuns: r.sources?.ownRuns ?? 0,
      ownPseudoRuns: r.sources?.ownPseudoRuns ?? r.sources?.ownRuns ?? 0,
      ownLevel: r.sources === undefined ? ProtoEvidenceLevel.EVIDENCE_LEVEL_UNSPECIFIED : LEVEL_TO_PROTO[r.sources.ownLevel],
      borrowed: (r.sources?.borrowed ?? []).map((b) => ({ source: SOURCE_LABELS[b.source], runs: b.runs, pseudoRuns: b.pseudoRuns })),
    })),
    lift: { ...d.lift },
    policyVersion: d.policyVersion,
    rationale: d.rationale,
    taskClass: d.context.taskClass,
    repo: d.context.repo,
    newTemplateIds: [...(e.newTemplateIds ?? [])],
  };
}

export function observeFromProto(r: ObserveRequest): ObserveParams {
  return {
    runId: r.runId,
    decisionId: r.decisionId,
    templateId: r.templateId,
    taskClass: r.taskClass,
    repo: r.repo,
    taskId: r.taskId,
    attempt: r.attempt,
    outcome: outcomeFromProto(r.outcome),
    retries: r.retries,
    durationSeconds: r.durationSeconds,
    failureReason: r.failureReason,
    finishedAtMs: r.finishedAt === undefined ? undefined : r.finishedAt.getTime(),
    agent: r.agent,
    model: r.model,
  };
}

export function observeToProto(r: ObserveReply): ObserveResponse {
  return { applied: r.applied, duplicate: r.duplicate, posterior: posteriorToProto(r.posterior), sequence: r.seq, newTemplate: r.newTemplate };
}

export function templateToProto(t: TemplateRecord): Template {
  return {
    templateId: t.templateId,
    parentTemplateId: t.parentTemplateId,
    status: STATUS_TO_PROTO[t.status],
    description: t.description,
    registeredAt: new Date(t.registeredAtMs),
    implicit: t.implicit,
    taskClasses: [...(t.taskClasses ?? [])],
  };
}

export function scoresToProto(taskClass: string, repo: string, cards: readonly DomainScorecard[]): GetScoresResponse {
  return {
    taskClass,
    repo,
    scorecards: cards.map((c) => ({
      templateId: c.templateId,
      posterior: posteriorToProto(c.posterior),
      runs: c.metrics.runs,
      passRate: c.metrics.passRate,
      retryRate: c.metrics.retryRate,
      timeoutRate: c.metrics.timeoutRate,
      meanDurationSeconds: c.meanDurationSeconds,
      medianDurationSeconds: c.metrics.medianDurationSeconds,
      passes: c.metrics.passes,
      partials: c.metrics.partials,
      fails: c.metrics.fails,
      timeouts: c.metrics.timeouts,
      infraErrors: c.metrics.infraErrors,
      unverified: c.metrics.unverified,
      judgedRuns: c.metrics.judged,
      tasks: c.metrics.tasks,
      retriedTasks: c.metrics.retriedTasks,
      judgedTasks: c.metrics.judgedTasks,
      firstTryPasses: c.metrics.firstTryPasses,
      firstTryPassRate: c.metrics.firstTryPassRate,
      expectedReward: c.metrics.expectedReward,
      evidenceLabel: c.evidenceLabel,
      vsParent:
        c.vsParent === undefined
          ? undefined
          : {
              parentTemplateId: c.vsParent.parentTemplateId,
              parentPasses: c.vsParent.parent.x,
              parentJudgedRuns: c.vsParent.parent.n,
              parentPassRate: c.vsParent.parent.rate,
              difference: c.vsParent.change.estimate,
              differenceLow: c.vsParent.change.low,
              differenceHigh: c.vsParent.change.high,
            },
    })),
  };
}

const REFINEMENT_STATUS_TO_PROTO: Record<RefinementRecord['status'], RefinementStatus> = {
  open: RefinementStatus.REFINEMENT_STATUS_OPEN,
  accepted: RefinementStatus.REFINEMENT_STATUS_ACCEPTED,
  rejected: RefinementStatus.REFINEMENT_STATUS_REJECTED,
};

/** Unspecified maps to undefined (all); unknown numbers to null (invalid). */
export function refinementStatusFromProto(s: number): RefinementRecord['status'] | undefined | null {
  if (s === RefinementStatus.REFINEMENT_STATUS_UNSPECIFIED) return undefined;
  const entry = Object.entries(REFINEMENT_STATUS_TO_PROTO).find(([, p]) => p === s);
  return entry ? (entry[0] as RefinementRecord['status']) : null;
}

/** What replaces a failure signature for callers not trusted with failure-reason text. */
export const WITHHELD_FAILURE_TEXT = '(withheld: failure text needs a token)';

/** The evidence with every failure signature (text normalised from what runs reported) withheld. */
function withoutFailureText(evidence: unknown): unknown {
  if (typeof evidence !== 'object' || evidence === null || !('topFailures' in evidence) || !Array.isArray(evidence.topFailures)) return evidence;
  return { ...evidence, topFailures: evidence.topFailures.map((f: unknown) => (typeof f === 'object' && f !== null ? { ...f, signature: WITHHELD_FAILURE_TEXT } : f)) };
}

/**
 * @param failureText false to withhold failure-reason text from the evidence (docs/api.md, "Authentication").
 */
export function refinementToProto(r: RefinementRecord, failureText = true): Refinement {
  return {
    refinementId: r.refinementId,
    templateId: r.templateId,
    status: REFINEMENT_STATUS_TO_PROTO[r.status],
    trigger: r.trigger,
    summary: r.summary,
    evidenceJson: JSON.stringify((failureText ? r.evidence : withoutFailureText(r.evidence)) ?? null),
    openedAt: new Date(r.openedAtMs),
    decidedAt: r.decidedAtMs > 0 ? new Date(r.decidedAtMs) : undefined,
    actor: r.actor,
    reason: r.reason,
    newTemplateId: r.newTemplateId,
  };
}

/** A DecideRefinement request as queue parameters, or the field that is wrong. */
export function decideRefinementFromProto(
  r: DecideRefinementRequest,
): { kind: 'accept'; params: AcceptParams } | { kind: 'reject'; params: RejectParams } | { kind: 'invalid'; field: string; description: string } {
  const base = { refinementId: r.refinementId, actor: r.actor, reason: r.reason };
  if (r.decision === RefinementDecision.REFINEMENT_DECISION_REJECT) return { kind: 'reject', params: base };
  if (r.decision !== RefinementDecision.REFINEMENT_DECISION_ACCEPT) {
    return { kind: 'invalid', field: 'decision', description: `must be REFINEMENT_DECISION_ACCEPT or REFINEMENT_DECISION_REJECT; got ${r.decision}` };
  }
  const status = statusFromProto(r.newTemplateStatus);
  if (status === null) return { kind: 'invalid', field: 'new_template_status', description: `unknown enum value ${r.newTemplateStatus}` };
  return {
    kind: 'accept',
    params: { ...base, newTemplateId: r.newTemplateId, description: r.description, ...(status !== undefined ? { status } : {}) },
  };
}
