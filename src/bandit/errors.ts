import type { Violation } from './types.js';

/** Stable error codes; docs/errors.md lists each one (kept in sync by a test). */
export const ERROR_CODES = {
  invalidArgument: 'LL_INVALID_ARGUMENT',
  decisionNotFound: 'LL_DECISION_NOT_FOUND',
  observationConflict: 'LL_OBSERVATION_CONFLICT',
  templateConflict: 'LL_TEMPLATE_CONFLICT',
  noCandidates: 'LL_NO_CANDIDATES',
  unavailable: 'LL_UNAVAILABLE',
  invariantViolation: 'LL_INVARIANT_VIOLATION',
  refinementNotFound: 'LL_REFINEMENT_NOT_FOUND',
  refinementNotOpen: 'LL_REFINEMENT_NOT_OPEN',
  requestConflict: 'LL_REQUEST_CONFLICT',
  templateNotFound: 'LL_TEMPLATE_NOT_FOUND',
  templateLimit: 'LL_TEMPLATE_LIMIT',
  storageFull: 'LL_STORAGE_FULL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Base of every domain error. Knows nothing about gRPC; src/server/errors.ts maps it. */
export abstract class LearnLoopError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message?: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is malformed; `violations` names every offending field. */
/** One violation as people read it; one of the request as a whole (a body that does not decode) names no field. */
export const violationText = (v: Violation): string => (v.field === '' ? v.description : `${v.field}: ${v.description}`);

export class InvalidArgument extends LearnLoopError {
  readonly code = ERROR_CODES.invalidArgument;
  constructor(readonly violations: readonly Violation[]) {
    super(violations.map(violationText).join('; '));
  }
}

/** Observe named a decision_id that was never recorded. */
export class DecisionNotFound extends LearnLoopError {
  readonly code = ERROR_CODES.decisionNotFound;
  constructor(readonly decisionId: string) {
    super(`decision_id: no decision ${JSON.stringify(decisionId)} was recorded`);
  }
}

/** The same run_id was already recorded with different content. */
export class ObservationConflict extends LearnLoopError {
  readonly code = ERROR_CODES.observationConflict;
  constructor(readonly runId: string, readonly differingFields: readonly string[]) {
    super(
      `run_id: ${JSON.stringify(runId)} was already recorded with different content` +
        (differingFields.length > 0 ? ` (${differingFields.join(', ')} differ)` : ''),
    );
  }
}

/** A template was registered again with a different parent. */
export class TemplateConflict extends LearnLoopError {
  readonly code = ERROR_CODES.templateConflict;
  constructor(readonly templateId: string, detail: string) {
    super(`template_id: ${JSON.stringify(templateId)} ${detail}`);
  }
}

/** Recommend named no candidates and no template is active (for its task class, when it names one). */
export class NoCandidates extends LearnLoopError {
  readonly code = ERROR_CODES.noCandidates;
  constructor(taskClass = '') {
    super(
      taskClass === ''
        ? 'candidate_template_ids: empty, and no template is active; name candidates or register templates'
        : `candidate_template_ids: empty, and no active template is for task class ${JSON.stringify(taskClass)}; name candidates or register templates for it`,
    );
  }
}

/** The service is shutting down or its store is closed. */
export class Unavailable extends LearnLoopError {
  readonly code = ERROR_CODES.unavailable;
}

/** Stored or computed state broke an invariant (e.g. an undecodable record). */
export class InvariantViolation extends LearnLoopError {
  readonly code = ERROR_CODES.invariantViolation;
}

/** A refinement decision named an item that was never opened. */
export class RefinementNotFound extends LearnLoopError {
  readonly code = ERROR_CODES.refinementNotFound;
  constructor(readonly refinementId: string) {
    super(`refinement_id: no refinement item ${JSON.stringify(refinementId)} was opened`);
  }
}

/**
 * A refinement item was already decided, and this decision is not a resend of that one (another
 * decision, person, reason or new template). The message says who decided it and when.
 */
export class RefinementNotOpen extends LearnLoopError {
  readonly code = ERROR_CODES.refinementNotOpen;
  /** @param decidedAt when, as an ISO time ('' if unknown): the core reads no clock and makes no dates. */
  constructor(
    readonly refinementId: string,
    readonly status: string,
    readonly actor = '',
    readonly decidedAt = '',
  ) {
    const by = actor === '' ? '' : ` by ${JSON.stringify(actor)}`;
    const at = decidedAt === '' ? '' : ` at ${decidedAt}`;
    super(`refinement_id: item ${JSON.stringify(refinementId)} was already ${status}${by}${at}; nothing changed (only the same decision by the same person with the same reason repeats it)`);
  }
}

/** A Recommend reused a request_id with different content (context, candidates or top_k). */
export class RequestConflict extends LearnLoopError {
  readonly code = ERROR_CODES.requestConflict;
  constructor(readonly requestId: string, readonly differingFields: readonly string[]) {
    super(`request_id: ${JSON.stringify(requestId)} was already used with different content (${differingFields.join(', ')} differ)`);
  }
}

/** Strict mode: a call named template ids no one registered. */
export class TemplateNotFound extends LearnLoopError {
  readonly code = ERROR_CODES.templateNotFound;
  constructor(readonly field: string, readonly templateIds: readonly string[]) {
    const shown = templateIds.slice(0, 5).map((id) => JSON.stringify(id)).join(', ');
    super(`${field}: ${shown}${templateIds.length > 5 ? ` and ${templateIds.length - 5} more` : ''} ${templateIds.length === 1 ? 'is' : 'are'} not registered (--strict-templates); register ${templateIds.length === 1 ? 'it' : 'them'} first`);
  }
}

/** A call would create more templates than one call, or the folder, may hold. */
export class TemplateLimit extends LearnLoopError {
  readonly code = ERROR_CODES.templateLimit;
}

/** The store's disk (or LMDB map) is full: writes fail until space returns; reads keep working. */
export class StorageFull extends LearnLoopError {
  readonly code = ERROR_CODES.storageFull;
}

/** A failure of the store (a full disk, a database gone), not of the request or the input line that met it. */
export function isStoreFault(err: unknown): err is StorageFull | Unavailable {
  return err instanceof StorageFull || err instanceof Unavailable;
}
