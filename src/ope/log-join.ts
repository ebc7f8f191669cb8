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
  /** What the joiner holds, to pick up from later (decisionJoiner's `from`). */
  state(): JoinerState;
  /** One field of state() (a caller saving a large joiner a column at a time). */
  stateOf<K extends keyof JoinerState>(field: K): JoinerState[K];
}

/** A joiner's decisions (in log order, column by column) and its count of invalid ones. */
export interface JoinerState {
  readonly invalid: number;
  readonly ids: readonly string[];
  readonly contexts: readonly string[];
  readonly candidates: ReadonlyArray<readonly string[]>;
  readonly chosen: readonly string[];
  readonly propensities: readonly number[];
  readonly atMs: readonly number[];
  /** null while the decision has no outcome. */
  readonly rewards: ReadonlyArray<number | null>;
}

/** The fields of a JoinerState (the type makes the list complete). */
export const JOINER_FIELDS = Object.keys({ invalid: 0, ids: 0, contexts: 0, candidates: 0, chosen: 0, propensities: 0, atMs: 0, rewards: 0 } satisfies Record<keyof JoinerState, 0>) as Array<keyof JoinerState>;

/**
 * Joins each logged decision with the first observation of its chosen template that teaches a
 * reward (infra errors teach nothing). Observations of another template under the same decision
 * are someone overriding the recommendation and are not the logged policy's outcome.
 */
export function decisionJoiner(policy: PolicyConfig, from?: JoinerState): DecisionJoiner {
  type Pending = { context: string; candidates: readonly string[]; chosen: string; propensity: number; atMs: number; reward: number | null };
  // The decisions in log order and their ids; the map from id to place is made when first needed
  // (a joiner restored from a state that is only read never makes it).
  const pending: Pending[] = [];
  const ids: string[] = [];
  let index: Map<string, number> | undefined;
  const indexOf = () => (index ??= new Map(ids.map((id, i) => [id, i])));
  let invalid = 0;
  // A large log repeats a few contexts and candidate lists: one copy of each (the memory of a
  // million decisions is otherwise mostly copies of the same strings).
  const contexts = new Map<string, Map<string, string>>();
  const contextOf = (taskClass: string, repo: string) => {
    let byRepo = contexts.get(taskClass);
    if (byRepo === undefined) contexts.set(taskClass, (byRepo = new Map()));
    let c = byRepo.get(repo);
    if (c === undefined) byRepo.set(repo, (c = `${taskClass}\u0000${repo}`));
    return c;
  };
  type Node = { list: readonly string[] | undefined; next: Map<string, Node> };
  const lists: Node = { list: undefined, next: new Map() };
  const listOf = (candidates: readonly string[]) => {
    let node = lists;
    for (const a of candidates) {
      let next = node.next.get(a);
      if (next === undefined) node.next.set(a, (next = { list: undefined, next: new Map() }));
      node = next;
    }
    return (node.list ??= candidates);
  };
  if (from !== undefined) {
    invalid = from.invalid;
    // A state repeats a few contexts and candidate lists (often as the same objects): each looked up once.
    const contextsSeen = new Map<string, string>();
    const listsSeen = new Map<readonly string[], readonly string[]>();
    for (let i = 0; i < from.ids.length; i++) {
      const c = from.contexts[i]!;
      let context = contextsSeen.get(c);
      if (context === undefined) {
        const cut = c.indexOf('\u0000');
        contextsSeen.set(c, (context = contextOf(c.slice(0, cut), c.slice(cut + 1))));
      }
      const given = from.candidates[i]!;
      let candidates = listsSeen.get(given);
      if (candidates === undefined) listsSeen.set(given, (candidates = listOf(given)));
      ids.push(from.ids[i]!);
      pending.push({ context, candidates, chosen: from.chosen[i]!, propensity: from.propensities[i]!, atMs: from.atMs[i]!, reward: from.rewards[i]! });
    }
  }
  return {
    add(e) {
      if (e.type === 'decision') {
        const d = e.decision;
        if (!(d.propensity > 0 && d.propensity <= 1)) {
          invalid++;
          return;
        }
        const p: Pending = { context: contextOf(d.context.taskClass, d.context.repo), candidates: listOf(e.candidates), chosen: d.chosen, propensity: d.propensity, atMs: e.atMs, reward: null };
        // A decision id logged again replaces the first in its place (as a map would).
        const m = indexOf();
        const at = m.get(d.decisionId);
        if (at !== undefined) pending[at] = p;
        else {
          m.set(d.decisionId, pending.length);
          ids.push(d.decisionId);
          pending.push(p);
        }
      } else if (e.type === 'observation') {
        const o = e.observation;
        if (o.decisionId === '') return;
        const at = indexOf().get(o.decisionId);
        const d = at === undefined ? undefined : pending[at];
        if (d === undefined || d.reward !== null || d.chosen !== o.armId) return;
        d.reward = rewardOf(o.outcome, policy);
      }
    },
    result() {
      const decisions: LogJoin['decisions'] = [];
      for (const d of pending) if (d.reward !== null) decisions.push(d as Pending & { reward: number });
      return { decisions, unobserved: pending.length - decisions.length, invalid };
    },
    state() {
      return Object.fromEntries(JOINER_FIELDS.map((k) => [k, this.stateOf(k)])) as unknown as JoinerState;
    },
    stateOf<K extends keyof JoinerState>(field: K): JoinerState[K] {
      const ds = pending;
      const of: { [F in keyof JoinerState]: () => JoinerState[F] } = {
        invalid: () => invalid,
        ids: () => [...ids],
        contexts: () => ds.map((d) => d.context),
        candidates: () => ds.map((d) => d.candidates),
        chosen: () => ds.map((d) => d.chosen),
        propensities: () => ds.map((d) => d.propensity),
        atMs: () => ds.map((d) => d.atMs),
        rewards: () => ds.map((d) => d.reward),
      };
      return of[field]();
    },
  };
}

/** decisionJoiner over a whole log. */
export async function joinDecisions(events: AsyncIterable<LoggedEvent> | Iterable<LoggedEvent>, policy: PolicyConfig): Promise<LogJoin> {
  const joiner = decisionJoiner(policy);
  for await (const e of events) joiner.add(e);
  return joiner.result();
}
