/** The pure core: no I/O, no clock, no Math.random. */
export { DEFAULT_POLICY_CONFIG, POLICY_CODE_VERSION, policyVersion, validatePolicyConfig } from './config.js';
export type { DecayConfig, PolicyConfig } from './config.js';
export { betaCdf, betaInterval, betaMean, betaVariance, sampleBeta, sampleGamma, sampleNormal } from './distributions.js';
export {
  DecisionNotFound,
  ERROR_CODES,
  InvalidArgument,
  InvariantViolation,
  isStoreFault,
  LearnLoopError,
  NoCandidates,
  RefinementNotFound,
  RefinementNotOpen,
  ObservationConflict,
  RequestConflict,
  StorageFull,
  TemplateConflict,
  TemplateLimit,
  TemplateNotFound,
  Unavailable,
  violationText,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { addReward, effectiveEvidence, EMPTY_EVIDENCE, evidenceAt, learnRun, onTemplateClock, rewardOf, subtractEvidence } from './evidence.js';
export { hashHex } from './hash.js';
export { dominantLevel, fitBasePrior, fitPoolStrengths, logGamma, pooledPosterior } from './pooling.js';
export type { BasePrior, PoolStrengths } from './pooling.js';
export { analyse, candidatePosteriors, candidateSetKey, choose, horizonClips, pickRule, recommend } from './recommend.js';
export type { CandidateSet, Choice, Memo, PolicyCaches, RecommendInput } from './recommend.js';
export { createRng, rngForDecision } from './rng.js';
export type { Rng, Stream } from './rng.js';
export { summarizePosterior } from './summary.js';
export { quantileSorted, satisficingPick, summarizeSet, thompsonPick } from './thompson.js';
export type { BetaParams, PickRule, SetSummary } from './thompson.js';
export { asArmId, asDecisionId, MAX_RUN_COUNT, OUTCOMES } from './types.js';
export type {
  ArmEvidence,
  ArmId,
  ArmStatus,
  BorrowedEvidence,
  Context,
  Decision,
  DecisionId,
  Evidence,
  EvidenceLevel,
  EvidenceSources,
  Lift,
  Observation,
  Outcome,
  Posterior,
  PooledEvidence,
  PosteriorSummary,
  RankedArm,
  RunFacts,
  Violation,
} from './types.js';
export { BIDI_FORMATTING, DEFAULT_LIMITS, isWithinLength, validateLoggedEvent, validateObserveRequest, validateRecommendRequest, validateRefinementDecision, validateTemplateRegistration } from './validate.js';
export type { Limits, ObserveRequestInput, RecommendRequestInput, RefinementDecisionInput } from './validate.js';
export { countRun, EMPTY_COUNTERS, rates } from './scorecard.js';
export type { Counters } from './scorecard.js';
export { armEvidenceOf, DERIVED_GROUPS, isInScope, project, projectAll, segmentKeys } from './projection.js';
export type { DerivedChange, DerivedReader, RefinementRecord, StatsKey, StatsRecord, TemplateRecord } from './projection.js';
export type {
  DecisionEvent,
  EventBody,
  LoggedEvent,
  ObservationEvent,
  ObserveContent,
  RefinementDecidedEvent,
  RefinementOpenedEvent,
  TemplateEvent,
} from './events.js';
