/** Off-policy evaluation: pure estimators over logged decisions. */
export {
  effectiveSampleSize,
  estimate,
  ESTIMATORS,
  fitRewardModel,
  liftOverUniform,
  LiftFold,
  LIFT_METHOD,
  loggingPolicy,
  uniformPolicy,
} from './estimators.js';
export type { EstimatorName, Interval, LiftEstimate, LiftFoldState, LiftMethod, LoggedDecision, RewardModelState, TargetPolicy } from './estimators.js';
export { decisionJoiner, joinDecisions, JOINER_FIELDS } from './log-join.js';
export type { DecisionJoiner, JoinerFrom, JoinerState, LogJoin } from './log-join.js';
