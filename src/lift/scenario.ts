/**
 * Simulation scenarios: templates with true outcome rates per context, and events (a regression,
 * a new version arriving, late outcomes, retries). Policies learn from sampled outcomes; the report
 * scores them by the expected reward of what they picked, which is known here.
 */
import { createRng, DEFAULT_POLICY_CONFIG, rewardOf, type Context, type Outcome, type PolicyConfig, type Rng } from '../bandit/index.js';
import { policyFactory, policySeed } from './policies.js';
import { checkpoints } from './replay.js';

export interface ScenarioContext {
  readonly name: string;
  readonly taskClass?: string;
  readonly repo?: string;
  /** Relative frequency of tasks in this context; default 1. */
  readonly weight?: number;
}

/** A rate for every context, or one per context name (missing names use `default`). */
export type Rates = number | { readonly default?: number; readonly [context: string]: number | undefined };

export interface ScenarioTemplate {
  readonly id: string;
  readonly pass: Rates;
  readonly partial?: Rates;
  readonly timeout?: Rates;
  /** Probability that a run needed a retry (reported as retries = 1; only greedy-score reads it). */
  readonly retry?: Rates;
  /** The version it refines: learnloop lets it inherit discounted evidence. */
  readonly parent?: string;
  /** First step at which it is a candidate (default 0). */
  readonly arrivesAt?: number;
  /** Step from which it is no longer offered (default: never). */
  readonly retiresAt?: number;
}

export interface RegressEvent {
  readonly step: number;
  readonly type: 'regress';
  readonly template: string;
  /** The new rates from this step on (fields not given are unchanged). */
  readonly pass: Rates;
  readonly partial?: Rates;
  readonly timeout?: Rates;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly steps: number;
  readonly seeds?: number;
  readonly contexts: readonly ScenarioContext[];
  readonly templates: readonly ScenarioTemplate[];
  readonly events?: readonly RegressEvent[];
  /** Outcomes arrive this many steps after the pick (default 0). */
  readonly delay?: number;
  /** Overrides of the production policy configuration, e.g. a decay half-life. */
  readonly policyConfig?: Partial<PolicyConfig>;
}

export class ScenarioError extends Error {}

/** Checks a parsed scenario file and fills nothing in: errors name the offending field. */
export function validateScenario(raw: unknown): Scenario {
  const s = raw as Scenario;
  const fail = (msg: string): never => {
    throw new ScenarioError(msg);
  };
  if (typeof s !== 'object' || s === null) fail('scenario must be a JSON object');
  if (typeof s.name !== 'string' || s.name === '') fail('name: a non-empty string is required');
  if (!Number.isInteger(s.steps) || s.steps < 1) fail('steps: a positive integer is required');
  if (!Array.isArray(s.contexts) || s.contexts.length === 0) fail('contexts: a non-empty array is required');
  if (!Array.isArray(s.templates) || s.templates.length < 2) fail('templates: at least two are required');
  const names = new Set(s.contexts.map((c) => c.name));
  if (names.size !== s.contexts.length) fail('contexts: names must be unique');
  const ids = new Set(s.templates.map((t) => t.id));
  if (ids.size !== s.templates.length) fail('templates: ids must be unique');
  const checkRates = (r: Rates | undefined, where: string) => {
    if (r === undefined) return;
    const values = typeof r === 'number' ? [r] : Object.values(r);
    for (const v of values) if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) fail(`${where}: rates must be numbers in [0, 1]`);
    if (typeof r === 'object') for (const k of Object.keys(r)) if (k !== 'default' && !names.has(k)) fail(`${where}: unknown context ${k}`);
  };
  for (const t of s.templates) {
    checkRates(t.pass, `templates.${t.id}.pass`);
    checkRates(t.partial, `templates.${t.id}.partial`);
    checkRates(t.timeout, `templates.${t.id}.timeout`);
    checkRates(t.retry, `templates.${t.id}.retry`);
    if (t.parent !== undefined && !ids.has(t.parent)) fail(`templates.${t.id}.parent: unknown template ${t.parent}`);
  }
  if (!s.templates.some((t) => (t.arrivesAt ?? 0) === 0)) fail('templates: at least one must be available at step 0');
  for (const e of s.events ?? []) {
    if (e.type !== 'regress') fail(`events: unknown type ${String(e.type)}`);
    if (!ids.has(e.template)) fail(`events: unknown template ${e.template}`);
    if (!Number.isInteger(e.step) || e.step < 0 || e.step >= s.steps) fail('events: step must be an integer in [0, steps)');
    checkRates(e.pass, `events.${e.template}.pass`);
  }
  if (s.delay !== undefined && !(Number.isInteger(s.delay) && s.delay >= 0)) fail('delay: a non-negative integer is required');
  return s;
}

const rateIn = (r: Rates | undefined, context: string): number => {
  if (r === undefined) return 0;
  if (typeof r === 'number') return r;
  return r[context] ?? r.default ?? 0;
};

interface Truth {
  pass: Rates;
  partial: Rates | undefined;
  timeout: Rates | undefined;
  retry: Rates | undefined;
}

export interface ScenarioSeedResult {
  readonly seed: number;
  readonly uniform: number;
  readonly bestFixed: number;
  readonly perContextOracle: number;
  readonly policies: Record<string, number>;
  /** Cumulative expected regret against the per-context oracle at `checkpoints(steps)`. */
  readonly regret: Record<string, number[]>;
  /** Per regression event: steps until the regressed template's share of picks fell below 10% (censored at the end). */
  readonly recovery: Record<string, number[]>;
  /** Per template arriving after step 0, in template order: how each policy treated it ({@link Arrival}). */
  readonly arrivals: Record<string, Arrival[]>;
}

/** How a policy treated a template that arrived during the run. */
export interface Arrival {
  readonly template: string;
  /** Steps from its arrival until it held more than half of the last 20 picks (censored at the end of the run). */
  readonly majoritySteps: number;
  /** Steps from its arrival until it held under 10% of the last 20 picks (censored). */
  readonly dropSteps: number;
  /** Its share of the picks from its arrival to the end. */
  readonly share: number;
}

/** Policies run on scenarios: the standard set plus learnloop blind to the context. */
export const NO_CONTEXT = 'learnloop (no context)';

const RECOVERY_WINDOW = 50;
/** Window of a new template's share of picks: short, so taking over or being dropped is timed to within a few steps. */
const ARRIVAL_WINDOW = 20;
const RECOVERY_SHARE = 0.1;

/** @param variant overrides of the scenario's configuration for `learnloop-variant`, when `policyNames` names it */
export function simulateSeed(sc: Scenario, seed: number, policyNames: readonly string[], progress?: () => void, variant?: Partial<PolicyConfig>): ScenarioSeedResult {
  const config: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, ...(sc.policyConfig ?? {}) };
  const T = sc.steps;
  const armIds = sc.templates.map((t) => t.id);
  const index = new Map(armIds.map((id, i) => [id, i]));
  const parents = sc.templates.map((t) => (t.parent === undefined ? undefined : index.get(t.parent)));
  const rng = createRng(`scenario\u0000${sc.name}\u0000${seed}`);
  const weights = sc.contexts.map((c) => c.weight ?? 1);
  const wsum = weights.reduce((s, w) => s + w, 0);
  const drawContext = (r: Rng) => {
    let u = r.next() * wsum;
    for (let i = 0; i < weights.length; i++) if ((u -= weights[i]!) < 0) return i;
    return weights.length - 1;
  };
  const stream = Array.from({ length: T }, () => drawContext(rng));
  // truthAt[step][arm] via the events in order; precompute the rate tables per change point.
  const events = [...(sc.events ?? [])].sort((a, b) => a.step - b.step);
  const truths: Truth[] = sc.templates.map((t) => ({ pass: t.pass, partial: t.partial, timeout: t.timeout, retry: t.retry }));
  const nArms = armIds.length;
  const nCtx = sc.contexts.length;
  // expected[step] is recomputed only at change points.
  const tables: Array<{ from: number; expected: Float64Array; probs: Float64Array }> = [];
  const snapshot = (from: number) => {
    const expected = new Float64Array(nArms * nCtx);
    const probs = new Float64Array(nArms * nCtx * 4);
    for (let a = 0; a < nArms; a++) {
      for (let c = 0; c < nCtx; c++) {
        const name = sc.contexts[c]!.name;
        const p = rateIn(truths[a]!.pass, name);
        const q = rateIn(truths[a]!.partial, name);
        const to = rateIn(truths[a]!.timeout, name);
        expected[a * nCtx + c] = p + config.partialReward * q;
        probs.set([p, q, to, rateIn(truths[a]!.retry, name)], (a * nCtx + c) * 4);
      }
    }
    tables.push({ from, expected, probs });
  };
  snapshot(0);
  for (const e of events) {
    const a = index.get(e.template)!;
    truths[a] = { ...truths[a]!, pass: e.pass, partial: e.partial ?? truths[a]!.partial, timeout: e.timeout ?? truths[a]!.timeout };
    snapshot(e.step);
  }
  const tableAt = (step: number) => {
    let t = tables[0]!;
    for (const x of tables) if (x.from <= step) t = x;
    return t;
  };
  const availableAt = (step: number) =>
    sc.templates.flatMap((t, i) => ((t.arrivesAt ?? 0) <= step && (t.retiresAt === undefined || step < t.retiresAt) ? [i] : []));
  const avail = Array.from({ length: T }, (_, s) => availableAt(s));
  // Outcome randomness is shared by all policies: the u-draws per step are fixed per seed.
  const uOutcome = Float64Array.from({ length: T }, () => rng.next());
  const uRetry = Float64Array.from({ length: T }, () => rng.next());

  // References.
  let uniform = 0;
  let oracle = 0;
  const fixedTotals = new Float64Array(nArms);
  const always = sc.templates.flatMap((t, i) => ((t.arrivesAt ?? 0) === 0 && t.retiresAt === undefined ? [i] : []));
  const best = new Float64Array(T);
  for (let s = 0; s < T; s++) {
    const tb = tableAt(s);
    const c = stream[s]!;
    let sum = 0;
    let mx = -Infinity;
    for (const a of avail[s]!) {
      const v = tb.expected[a * nCtx + c]!;
      sum += v;
      mx = Math.max(mx, v);
    }
    uniform += sum / avail[s]!.length;
    oracle += mx;
    best[s] = mx;
    for (const a of always) fixedTotals[a]! += tb.expected[a * nCtx + c]!;
  }
  const bestFixed = always.length > 0 ? Math.max(...always.map((a) => fixedTotals[a]!)) : uniform;

  const marks = checkpoints(T);
  const policies: Record<string, number> = {};
  const regret: Record<string, number[]> = {};
  const recovery: Record<string, number[]> = {};
  const arrivals: Record<string, Arrival[]> = {};
  const arriving = sc.templates.flatMap((t, i) => ((t.arrivesAt ?? 0) > 0 ? [i] : []));
  const delay = sc.delay ?? 0;
  for (const name of policyNames) {
    const blind = name === NO_CONTEXT;
    const policy = policyFactory(blind ? 'learnloop' : name, variant)({ armIds, parents, seed: policySeed(name, seed), config });
    const pending: Array<{ due: number; arm: number; ctx: Context; outcome: Outcome; retries: number; step: number }> = [];
    const picks = new Int32Array(T);
    let total = 0;
    let cumRegret = 0;
    const curve: number[] = [];
    let m = 0;
    for (let s = 0; s < T; s++) {
      while (pending.length > 0 && pending[0]!.due <= s) {
        const f = pending.shift()!;
        policy.learn(f.arm, f.ctx, { reward: rewardOf(f.outcome, config), outcome: f.outcome, retries: f.retries }, f.step);
      }
      const c = stream[s]!;
      const spec = sc.contexts[c]!;
      const ctx: Context = blind ? { taskClass: '', repo: '' } : { taskClass: spec.taskClass ?? '', repo: spec.repo ?? spec.name };
      const arm = policy.pick(avail[s]!, ctx, s);
      picks[s] = arm;
      const tb = tableAt(s);
      const v = tb.expected[arm * nCtx + c]!;
      total += v;
      cumRegret += best[s]! - v;
      const o = (arm * nCtx + c) * 4;
      const u = uOutcome[s]!;
      const [p, q, to, re] = [tb.probs[o]!, tb.probs[o + 1]!, tb.probs[o + 2]!, tb.probs[o + 3]!];
      const outcome: Outcome = u < p ? 'pass' : u < p + q ? 'partial' : u < p + q + to ? 'timeout' : 'fail';
      pending.push({ due: s + 1 + delay, arm, ctx, outcome, retries: uRetry[s]! < re ? 1 : 0, step: s });
      if (s + 1 === marks[m]) {
        curve.push(cumRegret);
        m++;
      }
    }
    policies[name] = total / T;
    regret[name] = curve;
    recovery[name] = events.map((e) => {
      const a = index.get(e.template)!;
      let inWindow = 0;
      for (let s = e.step; s < T; s++) {
        if (picks[s] === a) inWindow++;
        if (s - RECOVERY_WINDOW >= e.step && picks[s - RECOVERY_WINDOW] === a) inWindow--;
        if (s - e.step + 1 >= RECOVERY_WINDOW && inWindow < RECOVERY_SHARE * RECOVERY_WINDOW) return s - e.step + 1;
      }
      return T - e.step;
    });
    arrivals[name] = arriving.map((a) => arrivalOf(sc.templates[a]!.id, picks, a, sc.templates[a]!.arrivesAt!, T));
    progress?.();
  }
  return { seed, uniform: uniform / T, bestFixed: bestFixed / T, perContextOracle: oracle / T, policies, regret, recovery, arrivals };
}

function arrivalOf(template: string, picks: Int32Array, arm: number, from: number, T: number): Arrival {
  let inWindow = 0;
  let total = 0;
  let majoritySteps = T - from;
  let dropSteps = T - from;
  for (let s = from; s < T; s++) {
    if (picks[s] === arm) (inWindow++, total++);
    if (s - ARRIVAL_WINDOW >= from && picks[s - ARRIVAL_WINDOW] === arm) inWindow--;
    if (s - from + 1 < ARRIVAL_WINDOW) continue;
    if (majoritySteps === T - from && inWindow > ARRIVAL_WINDOW / 2) majoritySteps = s - from + 1;
    if (dropSteps === T - from && inWindow < RECOVERY_SHARE * ARRIVAL_WINDOW) dropSteps = s - from + 1;
  }
  return { template, majoritySteps, dropSteps, share: total / Math.max(1, T - from) };
}

export function simulate(
  sc: Scenario,
  seeds: number,
  policyNames: readonly string[],
  onProgress?: (done: number, total: number) => void,
  firstSeed = 1,
  variant?: Partial<PolicyConfig>,
): ScenarioSeedResult[] {
  const total = seeds * policyNames.length;
  let done = 0;
  const out: ScenarioSeedResult[] = [];
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) out.push(simulateSeed(sc, seed, policyNames, () => onProgress?.(++done, total), variant));
  return out;
}
