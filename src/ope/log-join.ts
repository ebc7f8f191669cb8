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
  /** result()'s counts, without its decisions. */
  counts(): Pick<LogJoin, 'unobserved' | 'invalid'>;
  /** Changes whenever result() would: a caller may keep what it made of a result while this stays. */
  readonly version: number;
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
  readonly propensities: ArrayLike<number>;
  readonly atMs: ArrayLike<number>;
  /** NaN while the decision has no outcome. */
  readonly rewards: ArrayLike<number>;
}

/** A JoinerState whose columns may each be a function that gives it, called when first needed (a restored joiner that is only read needs none of them). */
export type JoinerFrom = { readonly [K in keyof JoinerState]: JoinerState[K] | (() => JoinerState[K]) };

/** The fields of a JoinerState (the type makes the list complete). */
export const JOINER_FIELDS = Object.keys({ invalid: 0, ids: 0, contexts: 0, candidates: 0, chosen: 0, propensities: 0, atMs: 0, rewards: 0 } satisfies Record<keyof JoinerState, 0>) as Array<keyof JoinerState>;

type Decision = LoggedDecision & { readonly atMs: number };

/** The columns of a joiner's decisions. */
const JOINED = JOINER_FIELDS.filter((k) => k !== 'invalid');

/**
 * Joins each logged decision with the first observation of its chosen template that teaches a
 * reward (infra errors teach nothing). Observations of another template under the same decision
 * are someone overriding the recommendation and are not the logged policy's outcome.
 *
 * The decisions are kept column by column, in log order; each joined one is made into an object
 * when a result first needs it, and kept until its decision changes.
 */
export function decisionJoiner(policy: PolicyConfig, from?: JoinerFrom): DecisionJoiner {
  type Columns = { ids: string[]; contexts: string[]; candidates: Array<readonly string[]>; chosen: string[]; propensities: number[]; atMs: number[]; rewards: number[] };
  type Column = keyof Columns;
  // Each column given (a restored joiner's) is read when first needed, then copied into an array that grows.
  const columns: Partial<Columns> = {};
  const col = <K extends Column>(k: K): Columns[K] => {
    let c = columns[k] as Columns[K] | undefined;
    if (c === undefined) {
      const g = from === undefined ? [] : (read(from[k]) as ArrayLike<unknown>);
      if (g.length !== count) throw new RangeError(`a joiner state's ${k} differ in number from its decisions`);
      columns[k] = c = Array.from(g) as Columns[K];
    }
    return c;
  };
  // Rewards are NaN while a decision has no outcome (a state's are the same).
  let count = 0;
  let rewarded = 0;
  let invalid = from === undefined ? 0 : read(from.invalid);
  let version = 0;
  const made: Array<Decision | undefined> = [];
  let last: { version: number; join: LogJoin } | undefined;
  if (from !== undefined) {
    const rewards = read(from.rewards);
    count = rewards.length;
    for (let i = 0; i < count; i++) if (!Number.isNaN(rewards[i])) rewarded++;
  }
  let index: Map<string, number> | undefined;
  const indexOf = () => (index ??= new Map(col('ids').map((id, i) => [id, i])));
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
  let lastList: readonly string[] = [];
  const listOf = (candidates: readonly string[]) => {
    // Mostly the last decision's list: comparing its strings is cheaper than hashing each one again.
    if (candidates.length === lastList.length && candidates.every((a, i) => a === lastList[i])) return lastList;
    let node = lists;
    for (const a of candidates) {
      let next = node.next.get(a);
      if (next === undefined) node.next.set(a, (next = { list: undefined, next: new Map() }));
      node = next;
    }
    return (lastList = node.list ??= candidates);
  };
  return {
    add(e) {
      if (e.type === 'decision') {
        const d = e.decision;
        version++;
        if (!(d.propensity > 0 && d.propensity <= 1)) {
          invalid++;
          return;
        }
        // A decision id logged again replaces the first in its place (as a map would).
        const m = indexOf();
        const rewards = col('rewards');
        let at = m.get(d.decisionId);
        if (at === undefined) {
          (JOINED.filter((k) => k !== 'ids') as Column[]).forEach(col);
          m.set(d.decisionId, (at = count++));
          col('ids').push(d.decisionId);
        } else {
          if (!Number.isNaN(rewards[at]!)) rewarded--;
          made[at] = undefined;
        }
        col('contexts')[at] = contextOf(d.context.taskClass, d.context.repo);
        col('candidates')[at] = listOf(e.candidates);
        col('chosen')[at] = d.chosen;
        col('propensities')[at] = d.propensity;
        col('atMs')[at] = e.atMs;
        rewards[at] = NaN;
      } else if (e.type === 'observation') {
        const o = e.observation;
        if (o.decisionId === '') return;
        const at = indexOf().get(o.decisionId);
        if (at === undefined) return;
        const rewards = col('rewards');
        if (!Number.isNaN(rewards[at]!) || col('chosen')[at] !== o.armId) return;
        // An outcome that teaches nothing (an infra error) leaves the decision waiting for one that does.
        const reward = rewardOf(o.outcome, policy);
        if (reward === null) return;
        rewards[at] = reward;
        rewarded++;
        made[at] = undefined;
        version++;
      }
    },
    get version() {
      return version;
    },
    counts() {
      return { unobserved: count - rewarded, invalid };
    },
    result() {
      if (last?.version === version) return last.join;
      const decisions: Decision[] = [];
      if (rewarded > 0) {
        const [rewards, contexts, candidates, chosen, propensities, atMs] = [col('rewards'), col('contexts'), col('candidates'), col('chosen'), col('propensities'), col('atMs')];
        for (let i = 0; i < count; i++) {
          const reward = rewards[i]!;
          if (Number.isNaN(reward)) continue;
          let d = made[i];
          if (d === undefined) made[i] = d = { context: contexts[i]!, candidates: candidates[i]!, chosen: chosen[i]!, propensity: propensities[i]!, atMs: atMs[i]!, reward };
          decisions.push(d);
        }
      }
      last = { version, join: { decisions, unobserved: count - rewarded, invalid } };
      return last.join;
    },
    state() {
      return Object.fromEntries(JOINER_FIELDS.map((k) => [k, this.stateOf(k)])) as unknown as JoinerState;
    },
    stateOf<K extends keyof JoinerState>(field: K): JoinerState[K] {
      if (field === 'invalid') return invalid as JoinerState[K];
      const c = col(field as Column);
      return (field === 'propensities' || field === 'atMs' || field === 'rewards' ? Float64Array.from(c as number[]) : [...c]) as unknown as JoinerState[K];
    },
  };
}

const read = <T>(v: T | (() => T)): T => (typeof v === 'function' ? (v as () => T)() : v);

/** decisionJoiner over a whole log. */
export async function joinDecisions(events: AsyncIterable<LoggedEvent> | Iterable<LoggedEvent>, policy: PolicyConfig): Promise<LogJoin> {
  const joiner = decisionJoiner(policy);
  for await (const e of events) joiner.add(e);
  return joiner.result();
}
