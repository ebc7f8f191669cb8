/** The event log's entries: what every adapter stores and every projection reads. */
import type { ArmStatus, Decision, Observation, RunFacts } from './types.js';

/** A template version's registration, or a later change of its status or description. */
export interface TemplateEvent {
  readonly type: 'template';
  readonly templateId: string;
  readonly parentTemplateId: string;
  readonly status: ArmStatus;
  readonly description: string;
  /** True when first seen in Observe or Recommend rather than registered. */
  readonly implicit: boolean;
  /** Who asked, when known (e.g. the approver of a refinement). */
  readonly actor: string;
  /**
   * The task classes the template is for, as registered (sorted, distinct); absent means every
   * class, so logs written before scopes existed replay unchanged.
   */
  readonly taskClasses?: readonly string[];
}

/** The fields of an Observe request as the client sent them: the idempotency content. */
export interface ObserveContent extends RunFacts {
  readonly runId: string;
  readonly decisionId: string;
  readonly templateId: string;
  readonly taskClass: string;
  readonly repo: string;
  /** Undefined when the client sent none. */
  readonly finishedAtMs: number | undefined;
}

/** One verified run: what the client sent, and the observation as resolved and learned from. */
export interface ObservationEvent {
  readonly type: 'observation';
  readonly content: ObserveContent;
  readonly observation: Observation;
}

/** One Recommend decision, with the candidate set and the response as returned. */
export interface DecisionEvent {
  readonly type: 'decision';
  readonly requestId: string;
  readonly candidates: readonly string[];
  readonly decision: Decision;
}

/** A refinement item opened for a template, with the evidence a person needs to decide. */
export interface RefinementOpenedEvent {
  readonly type: 'refinement_opened';
  readonly refinementId: string;
  readonly templateId: string;
  /** Why: 'below_threshold', 'regression', or both joined by '+'. */
  readonly trigger: string;
  readonly summary: string;
  /** JSON-safe evidence (scorecard, trend, failure patterns, remediations). */
  readonly evidence: unknown;
}

/** A person's decision on a refinement item. */
export interface RefinementDecidedEvent {
  readonly type: 'refinement_decided';
  readonly refinementId: string;
  readonly decision: 'accepted' | 'rejected';
  readonly actor: string;
  readonly reason: string;
  /** The template version registered on acceptance ('' when rejected). */
  readonly newTemplateId: string;
}

export type EventBody = TemplateEvent | ObservationEvent | DecisionEvent | RefinementOpenedEvent | RefinementDecidedEvent;

/** An entry of the append-only log: its position, when the server accepted it, and its body. */
export type LoggedEvent = EventBody & { readonly seq: number; readonly atMs: number };
