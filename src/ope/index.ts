/** Off-policy evaluation: pure estimators over logged decisions. */
export {
  effectiveSampleSize,
  estimate,
  ESTIMATORS,
  fitRewardModel,
  liftOverUniform,
  loggingPolicy,
  uniformPolicy,
} from './estimators.js';
export type { EstimatorName, Interval, LiftEstimate, LoggedDecision, TargetPolicy } from './estimators.js';
export { joinDecisions } from './log-join.js';
export type { LogJoin } from './log-join.js';
