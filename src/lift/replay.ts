/**
 * Replay on full-information outcomes: per seed, K systems drawn at random are the candidates and
 * T tasks drawn with replacement are the stream. Every policy sees the same candidates and stream
 * and learns only its pick's real result.
 */
import { createRng, DEFAULT_POLICY_CONFIG, type Context, type PolicyConfig } from '../bandit/index.js';
import type { OutcomeTable, Task } from './data.js';
import { policyFactory, policySeed } from './policies.js';

export type ContextMode = 'none' | 'repo' | 'repo+difficulty';
export const CONTEXT_MODES: readonly ContextMode[] = ['none', 'repo', 'repo+difficulty'];

export interface ReplayOptions {
  readonly arms: number | 'all';
  readonly steps: number;
  readonly seeds: number;
  /** The first seed (default 1): seeds firstSeed … firstSeed + seeds − 1, e.g. to check a result on seeds disjoint from the ones it was judged on. */
  readonly firstSeed?: number;
  readonly context: ContextMode;
  readonly policies: readonly string[];
  readonly config?: PolicyConfig;
  /** Overrides of `config` for `learnloop-variant`, when `policies` names it. */
  readonly variant?: Partial<PolicyConfig>;
  /** Called after each (seed, policy) run; for progress on stderr. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Steps at which cumulative reward is recorded (about 100 points per run, plus the last step). */
export function checkpoints(steps: number): number[] {
  const every = Math.max(1, Math.ceil(steps / 100));
  const out: number[] = [];
  for (let s = every; s < steps; s += every) out.push(s);
  out.push(steps);
  return out;
}

export interface SeedResult {
  readonly seed: number;
  readonly candidates: readonly string[];
  /** Expected reward of a uniform pick over the stream, best fixed candidate and per-context best, in hindsight. */
  readonly uniform: number;
  readonly bestFixed: number;
  readonly perContextOracle: number;
  /** Mean reward per policy over the stream. */
  readonly policies: Record<string, number>;
  /** Cumulative reward per policy at `checkpoints(steps)`. */
  readonly curves: Record<string, number[]>;
  /** Distinct candidates each policy tried. */
  readonly armsTried: Record<string, number>;
}

export function contextOf(task: Task, mode: ContextMode): Context {
  if (mode === 'none') return { taskClass: '', repo: '' };
  if (mode === 'repo') return { taskClass: '', repo: task.repo };
  return { taskClass: task.difficulty, repo: task.repo };
}

/** Oracle segments: the run's context, or the repository when the run has none. */
const oracleKey = (task: Task, mode: ContextMode) => (mode === 'repo+difficulty' ? `${task.difficulty}\u0000${task.repo}` : task.repo);

/** Fisher–Yates prefix: k distinct indices of 0..n-1 in random order. */
function sampleIndices(n: number, k: number, rng: { next(): number }): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k);
}

export function replaySeed(table: OutcomeTable, seed: number, opts: ReplayOptions, progress?: () => void): SeedResult {
  const config = opts.config ?? DEFAULT_POLICY_CONFIG;
  const nTasks = table.tasks.length;
  const k = opts.arms === 'all' ? table.systems.length : Math.min(opts.arms, table.systems.length);
  const rng = createRng(`replay\u0000${seed}`);
  const systems = sampleIndices(table.systems.length, k, rng);
  const stream = Array.from({ length: opts.steps }, () => Math.floor(rng.next() * nTasks));
  const outcome = (arm: number, task: number) => table.resolved[systems[arm]! * nTasks + task]!;

  // References in hindsight on this seed's candidates and stream.
  const totals = new Float64Array(k);
  const bySegment = new Map<string, Float64Array>();
  for (const t of stream) {
    const key = oracleKey(table.tasks[t]!, opts.context);
    let seg = bySegment.get(key);
    if (seg === undefined) bySegment.set(key, (seg = new Float64Array(k)));
    for (let a = 0; a < k; a++) {
      const r = outcome(a, t);
      totals[a]! += r;
      seg[a]! += r;
    }
  }
  const T = opts.steps;
  const uniform = totals.reduce((s, x) => s + x, 0) / k / T;
  const bestFixed = Math.max(...totals) / T;
  let oracle = 0;
  for (const seg of bySegment.values()) oracle += Math.max(...seg);

  const armIds = systems.map((s) => table.systems[s]!);
  const parents = armIds.map(() => undefined);
  const available = Array.from({ length: k }, (_, i) => i);
  const contexts = stream.map((t) => contextOf(table.tasks[t]!, opts.context));
  const marks = checkpoints(T);
  const policies: Record<string, number> = {};
  const curves: Record<string, number[]> = {};
  const armsTried: Record<string, number> = {};
  for (const name of opts.policies) {
    const policy = policyFactory(name, opts.variant)({ armIds, parents, seed: policySeed(name, seed), config });
    const tried = new Uint8Array(k);
    const curve: number[] = [];
    let sum = 0;
    let m = 0;
    for (let step = 0; step < T; step++) {
      const ctx = contexts[step]!;
      const arm = policy.pick(available, ctx, step);
      tried[arm] = 1;
      const r = outcome(arm, stream[step]!);
      sum += r;
      policy.learn(arm, ctx, { reward: r, outcome: r === 1 ? 'pass' : 'fail', retries: 0 }, step);
      if (step + 1 === marks[m]) {
        curve.push(sum);
        m++;
      }
    }
    policies[name] = sum / T;
    curves[name] = curve;
    armsTried[name] = tried.reduce((s, x) => s + x, 0);
    progress?.();
  }
  return { seed, candidates: armIds, uniform, bestFixed, perContextOracle: oracle / T, policies, curves, armsTried };
}

/** A report names its first seed only when it is not the default 1, so default runs read as before. */
export const firstSeedOf = (run: { readonly firstSeed?: number | undefined }): { firstSeed?: number } =>
  run.firstSeed === undefined || run.firstSeed === 1 ? {} : { firstSeed: run.firstSeed };

export function replay(table: OutcomeTable, opts: ReplayOptions): SeedResult[] {
  const total = opts.seeds * opts.policies.length;
  let done = 0;
  const out: SeedResult[] = [];
  const first = opts.firstSeed ?? 1;
  for (let seed = first; seed < first + opts.seeds; seed++) {
    out.push(replaySeed(table, seed, opts, () => opts.onProgress?.(++done, total)));
  }
  return out;
}
