/**
 * The policies the lift benchmark compares. Every policy sees the same candidates and task stream,
 * picks among the candidates available at each step, and learns only the picked candidate's result.
 */
import {
  armEvidenceOf,
  asArmId,
  asDecisionId,
  choose,
  createRng,
  DEFAULT_POLICY_CONFIG,
  policyVersion,
  project,
  sampleBeta,
  type ArmEvidence,
  type Context,
  type DerivedReader,
  type EventBody,
  type LoggedEvent,
  type Outcome,
  type PolicyConfig,
  type Rng,
  type StatsKey,
  type StatsRecord,
  type TemplateRecord,
} from '../bandit/index.js';

/** What one run teaches: the learned reward (null teaches nothing) and the run's details. */
export interface Feedback {
  readonly reward: number | null;
  readonly outcome: Outcome;
  readonly retries: number;
}

export interface BenchPolicy {
  /**
   * @param available indices (into the arm list) of the candidates offered at this step, at least one
   * @returns one of `available`
   */
  pick(available: readonly number[], context: Context, step: number): number;
  learn(arm: number, context: Context, feedback: Feedback, step: number): void;
}

export interface PolicySetup {
  /** Arm names, e.g. template versions or systems. */
  readonly armIds: readonly string[];
  /** Index of each arm's parent version, if any (only learnloop uses it). */
  readonly parents: ReadonlyArray<number | undefined>;
  /** Seed of this policy's random stream. */
  readonly seed: string;
  /** Production policy configuration for `learnloop`. */
  readonly config: PolicyConfig;
}

export type PolicyFactory = (setup: PolicySetup) => BenchPolicy;

/** Picks uniformly among the best-valued candidates (random tie-breaking, one pass). */
function argmaxRandomTies(available: readonly number[], value: (arm: number) => number, rng: Rng): number {
  let best = available[0]!;
  let bestValue = -Infinity;
  let ties = 0;
  for (const a of available) {
    const v = value(a);
    if (v > bestValue) {
      best = a;
      bestValue = v;
      ties = 1;
    } else if (v === bestValue) {
      ties++;
      if (rng.next() * ties < 1) best = a;
    }
  }
  return best;
}

const uniformPick = (available: readonly number[], rng: Rng) => available[Math.floor(rng.next() * available.length)]!;

/** Per-arm running counters shared by the classic baselines (they ignore the context). */
class Counts {
  readonly pulls: Float64Array;
  readonly rewards: Float64Array;
  total = 0;
  constructor(n: number) {
    this.pulls = new Float64Array(n);
    this.rewards = new Float64Array(n);
  }
  add(arm: number, reward: number): void {
    this.pulls[arm]! += 1;
    this.rewards[arm]! += reward;
    this.total += 1;
  }
  mean(arm: number): number {
    return this.rewards[arm]! / this.pulls[arm]!;
  }
  /** An untried candidate, if any: the classic baselines try every arm once before anything else. */
  untried(available: readonly number[], rng: Rng): number | undefined {
    const fresh = available.filter((a) => this.pulls[a] === 0);
    return fresh.length > 0 ? uniformPick(fresh, rng) : undefined;
  }
}

export const uniform: PolicyFactory = ({ seed }) => {
  const rng = createRng(seed);
  return { pick: (available) => uniformPick(available, rng), learn: () => {} };
};

/** Runs before a greedy score counts. */
export const GREEDY_MIN_RUNS = 3;

/**
 * The rule learnloop replaces: score = full-pass rate + 0.4·partial − 0.2·retry − 0.3·timeout over
 * an arm's runs, counted once it has 3 runs. Candidates with fewer runs are played first (the one
 * with the fewest runs, random among ties), so every arm gets its 3 runs and then the best score
 * wins from then on (random among tied scores).
 */
export const greedyScore: PolicyFactory = ({ armIds, seed }) => {
  const rng = createRng(seed);
  const n = armIds.length;
  const runs = new Float64Array(n);
  const pass = new Float64Array(n);
  const partial = new Float64Array(n);
  const retry = new Float64Array(n);
  const timeout = new Float64Array(n);
  const score = (a: number) => (pass[a]! + 0.4 * partial[a]! - 0.2 * retry[a]! - 0.3 * timeout[a]!) / runs[a]!;
  return {
    pick(available) {
      const unscored = available.filter((a) => runs[a]! < GREEDY_MIN_RUNS);
      if (unscored.length > 0) return argmaxRandomTies(unscored, (a) => -runs[a]!, rng);
      return argmaxRandomTies(available, score, rng);
    },
    learn(arm, _context, f) {
      if (f.outcome === 'infra_error') return;
      runs[arm]! += 1;
      if (f.outcome === 'pass') pass[arm]! += 1;
      if (f.outcome === 'partial') partial[arm]! += 1;
      if (f.outcome === 'timeout') timeout[arm]! += 1;
      if (f.retries > 0) retry[arm]! += 1;
    },
  };
};

/** ε-greedy on the mean reward after one run of every arm; ε = 0.1 explores uniformly. */
export function epsilonGreedy(epsilon = 0.1): PolicyFactory {
  return ({ armIds, seed }) => {
    const rng = createRng(seed);
    const c = new Counts(armIds.length);
    return {
      pick(available) {
        const fresh = c.untried(available, rng);
        if (fresh !== undefined) return fresh;
        if (rng.next() < epsilon) return uniformPick(available, rng);
        return argmaxRandomTies(available, (a) => c.mean(a), rng);
      },
      learn(arm, _context, f) {
        if (f.reward !== null) c.add(arm, f.reward);
      },
    };
  };
}

/** UCB1 (Auer, Cesa-Bianchi & Fischer 2002): mean + sqrt(2 ln n / nᵢ) after one run of every arm. */
export const ucb1: PolicyFactory = ({ armIds, seed }) => {
  const rng = createRng(seed);
  const c = new Counts(armIds.length);
  return {
    pick(available) {
      const fresh = c.untried(available, rng);
      if (fresh !== undefined) return fresh;
      const logN = Math.log(Math.max(1, c.total));
      return argmaxRandomTies(available, (a) => c.mean(a) + Math.sqrt((2 * logN) / c.pulls[a]!), rng);
    },
    learn(arm, _context, f) {
      if (f.reward !== null) c.add(arm, f.reward);
    },
  };
};

/** Thompson sampling with independent Beta(1, 1) priors: no pooling, no empirical Bayes, no context. */
export const thompsonFlat: PolicyFactory = ({ armIds, seed }) => {
  const rng = createRng(seed);
  const c = new Counts(armIds.length);
  return {
    pick(available) {
      let best = available[0]!;
      let bestDraw = -1;
      for (const a of available) {
        const d = sampleBeta(rng, 1 + c.rewards[a]!, 1 + c.pulls[a]! - c.rewards[a]!);
        if (d > bestDraw) {
          best = a;
          bestDraw = d;
        }
      }
      return best;
    },
    learn(arm, _context, f) {
      if (f.reward !== null) c.add(arm, f.reward);
    },
  };
};

/** Simulated clock: one run per hour, so day-based decay has a meaning in the benchmark. */
export const MS_PER_STEP = 3_600_000;

/**
 * The production policy as the service runs it: each run is an observation event through the
 * projection (`project()`, the function every store applies), and each pick reads the candidates'
 * evidence with `armEvidenceOf()` (what a store's `armEvidence()` returns to Recommend) and decides
 * through `choose()` (the decision function `recommend()` uses). The harness keeps no model of its
 * own, so what it measures is what Recommend would do on the same log, spread sums included.
 */
export const learnloop: PolicyFactory = ({ armIds, parents, seed, config }) => {
  const rng = createRng(seed);
  const templates = new Map<string, TemplateRecord>();
  const stats = new Map<string, StatsRecord>();
  const statsId = (key: StatsKey) => `${key[0]}\u0000${key[1]}\u0000${key[2]}`;
  const reader: DerivedReader = { template: (id) => templates.get(id), stats: (key) => stats.get(statsId(key)), refinement: () => undefined };
  let seq = 0;
  const apply = (body: EventBody, atMs: number) => {
    for (const c of project({ ...body, seq: ++seq, atMs } as LoggedEvent, reader, config)) {
      if (c.kind === 'template') templates.set(c.key, c.value);
      else if (c.kind === 'stats') stats.set(statsId(c.key), c.value);
    }
  };
  armIds.forEach((templateId, i) => {
    const parent = parents[i];
    apply({ type: 'template', templateId, parentTemplateId: parent === undefined ? '' : armIds[parent]!, status: 'active', description: '', implicit: false, actor: '' }, 0);
  });
  // Evidence per context and arm, read once per evidence state: a run changes only its template's records,
  // so it drops that arm's entries and those of the versions below it (armEvidenceOf reads the parent chain).
  const below = armIds.map((_, i) => {
    const out = [i];
    for (let j = 0; j < out.length; j++) parents.forEach((p, c) => p === out[j] && out.push(c));
    return out;
  });
  const cache = new Map<string, Array<ArmEvidence | undefined>>();
  const evidenceOf = (arm: number, ctx: Context): ArmEvidence => {
    const key = `${ctx.taskClass}\u0000${ctx.repo}`;
    let arms = cache.get(key);
    if (arms === undefined) cache.set(key, (arms = new Array<ArmEvidence | undefined>(armIds.length)));
    return (arms[arm] ??= armEvidenceOf(armIds[arm]!, ctx, reader, config));
  };
  return {
    pick(available, ctx, step) {
      const { index } = choose(
        available.map((a) => evidenceOf(a, ctx)),
        config,
        step * MS_PER_STEP,
        rng,
      );
      return available[index]!;
    },
    learn(arm, ctx, f, step) {
      const finishedAtMs = step * MS_PER_STEP;
      const run = `run${seq}`;
      const facts = { taskId: run, attempt: 1, outcome: f.outcome, retries: f.retries, durationSeconds: 0, failureReason: '', agent: '', model: '' };
      apply(
        {
          type: 'observation',
          content: { ...facts, runId: run, decisionId: '', templateId: armIds[arm]!, taskClass: ctx.taskClass, repo: ctx.repo, finishedAtMs },
          observation: { ...facts, runId: run, decisionId: asDecisionId(''), armId: asArmId(armIds[arm]!), context: ctx, finishedAtMs },
        },
        finishedAtMs,
      );
      for (const arms of cache.values()) for (const a of below[arm]!) arms[a] = undefined;
    },
  };
};

export const POLICIES: Readonly<Record<string, PolicyFactory>> = {
  learnloop,
  uniform,
  'greedy-score': greedyScore,
  'epsilon-greedy': epsilonGreedy(0.1),
  ucb1,
  'thompson-flat': thompsonFlat,
};

export const POLICY_NAMES = Object.keys(POLICIES);

/** learnloop under other settings (`--variant-config`), compared with learnloop paired over seeds. */
export const VARIANT = 'learnloop-variant';

/**
 * A policy's factory by name; {@link VARIANT} (given `variant`) is learnloop with these overrides of
 * the configuration the run gives learnloop.
 * @throws RangeError for a name that is no policy
 */
export function policyFactory(name: string, variant?: Partial<PolicyConfig>): PolicyFactory {
  if (name === VARIANT && variant !== undefined) return (setup) => learnloop({ ...setup, config: { ...setup.config, ...variant } });
  const factory = POLICIES[name];
  if (factory === undefined) throw new RangeError(`unknown policy ${name}`);
  return factory;
}

/** Overrides as a report records them: a field removed (undefined) shows as null, as --policy-config takes it. */
export const recordedOverrides = (overrides: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, v === undefined ? null : v]));

/** The policies a run compares: those asked for, then learnloop-variant when it runs. */
export const withVariant = (policies: readonly string[], variant: Partial<PolicyConfig> | undefined): readonly string[] =>
  variant === undefined ? policies : [...policies, VARIANT];

/** learnloop-variant as a report records it: its overrides of learnloop's configuration (null: a field removed) and its policy version. */
export interface VariantSettings {
  readonly overrides: Record<string, unknown>;
  readonly policyVersion: string;
}

export const variantSettings = (config: PolicyConfig, overrides: Partial<PolicyConfig>): VariantSettings => ({
  overrides: recordedOverrides(overrides),
  policyVersion: policyVersion({ ...config, ...overrides }),
});

/**
 * A policy's random stream on a seed. The variant draws from learnloop's, so with the same settings it
 * makes the same picks: a paired difference then measures the settings alone (common random numbers).
 */
export const policySeed = (name: string, seed: number): string => `policy\u0000${name === VARIANT ? 'learnloop' : name}\u0000${seed}`;

export { DEFAULT_POLICY_CONFIG };
