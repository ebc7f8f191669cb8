/** Logged decisions joined with their outcomes: the input of every off-policy estimate from the log. */
import { rewardOf, type LoggedEvent, type PolicyConfig } from '../bandit/index.js';
import type { LoggedDecision } from './estimators.js';

export interface LogJoin {
  /** Each with the time its decision was logged (reports pick a window by it). */
  readonly decisions: Array<LoggedDecision & { readonly atMs: number }>;
  /** Decisions without a learnable outcome of the chosen template (yet). */
  readonly unobserved: number;
  /** Decisions whose logged propensity is not in (0, 1] (cannot be re-weighted). */
  readonly invalid: number;
}

/** joinDecisions one event at a time, for a caller that reads the log once for several purposes. */
export interface DecisionJoiner {
  add(e: LoggedEvent): void;
  result(): LogJoin;
}

/**
 * Joins each logged decision with the first observation of its chosen template that teaches a
 * reward (infra errors teach nothing). Observations of another template under the same decision
 * are someone overriding the recommendation and are not the logged policy's outcome.
 */
export function decisionJoiner(policy: PolicyConfig): DecisionJoiner {
  const pending = new Map<string, { context: string; candidates: readonly string[]; chosen: string; propensity: number; atMs: number }>();
  const rewards = new Map<string, number>();
  let invalid = 0;
  return {
    add(e) {
      if (e.type === 'decision') {
        const d = e.decision;
        if (!(d.propensity > 0 && d.propensity <= 1)) {
          invalid++;
          return;
        }
        pending.set(d.decisionId, { context: `${d.context.taskClass}\u0000${d.context.repo}`, candidates: e.candidates, chosen: d.chosen, propensity: d.propensity, atMs: e.atMs });
      } else if (e.type === 'observation') {
        const o = e.observation;
        if (o.decisionId === '' || rewards.has(o.decisionId)) return;
        const d = pending.get(o.decisionId);
        if (d === undefined || d.chosen !== o.armId) return;
        const r = rewardOf(o.outcome, policy);
        if (r !== null) rewards.set(o.decisionId, r);
      }
    },
    result() {
      const decisions: LogJoin['decisions'] = [];
      for (const [id, d] of pending) {
        const reward = rewards.get(id);
        if (reward !== undefined) decisions.push({ ...d, reward });
      }
      return { decisions, unobserved: pending.size - decisions.length, invalid };
    },
  };
}

/** decisionJoiner over a whole log. */
export async function joinDecisions(events: AsyncIterable<LoggedEvent> | Iterable<LoggedEvent>, policy: PolicyConfig): Promise<LogJoin> {
  const joiner = decisionJoiner(policy);
  for await (const e of events) joiner.add(e);
  return joiner.result();
}
