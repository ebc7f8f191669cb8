/** learnloop's public surface for TypeScript programs. */
export { createClient } from './client.js';
export type { ClientOptions, LearnLoopClient } from './client.js';
export { EvidenceLevel, Outcome, TemplateStatus } from './gen/learnloop/v1/learnloop.js';
export type {
  GetScoresRequest,
  GetScoresResponse,
  Lift,
  ObserveRequest,
  ObserveResponse,
  PosteriorSummary,
  RankedTemplate,
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
