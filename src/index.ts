/** learnloop's public surface for TypeScript programs. */
export { createClient, errorCode } from './client.js';
export type { ClientOptions, LearnLoopClient } from './client.js';
export { EvidenceLevel, Outcome, RefinementDecision, RefinementStatus, TemplateStatus } from './gen/learnloop/v1/learnloop.js';
export type {
  DecideRefinementRequest,
  DecideRefinementResponse,
  GetScoresRequest,
  GetScoresResponse,
  Lift,
  ListRefinementsRequest,
  ListRefinementsResponse,
  ListTemplatesRequest,
  ListTemplatesResponse,
  ObserveRequest,
  ObserveResponse,
  PosteriorSummary,
  RankedTemplate,
  Refinement,
  RecommendRequest,
  RecommendResponse,
  RegisterTemplateRequest,
  RegisterTemplateResponse,
  Scorecard,
  Template,
} from './gen/learnloop/v1/learnloop.js';
export { loadConfig } from './config.js';
export type { Config } from './config.js';
export { startServer } from './server/index.js';
export type { RunningServer } from './server/index.js';
