/** The `bench lift` entry points: run a replay or a scenario and shape the report. */
import { readFileSync } from 'node:fs';
import { DEFAULT_POLICY_CONFIG, policyVersion, type PolicyConfig } from '../bandit/index.js';
import { parseOutcomes } from './data.js';
import { capturedDiff, f3, pointsDiff, variantName } from './matrix.js';
import { lineChart } from './plot.js';
import { POLICY_NAMES, recordedOverrides, VARIANT, variantSettings, withVariant, type VariantSettings } from './policies.js';
import { checkpoints, firstSeedOf, replay, type ContextMode } from './replay.js';
import { hasGap, summarize, type LiftSummary, type SeedOutcome } from './report.js';
import { NO_CONTEXT, simulate, validateScenario, type Scenario } from './scenario.js';
import { mean, pairedInterval, quantile } from './stats.js';

export interface LiftResult extends LiftSummary {
  arms: number;
  steps: number;
  seeds: number;
  /** The first seed, when not 1 (the seeds are firstSeed … firstSeed + seeds − 1). */
  firstSeed?: number;
  mode: 'replay' | 'scenario';
  /** Data file (replay) or scenario name. */
  source: string;
  context: ContextMode | 'scenario';
  policyVersion: string;
  /** learnloop's configuration where it differs from the production default. */
  policyOverrides: Record<string, unknown>;
  /** Steps at which the curves are sampled. */
  checkpoints: number[];
  /** Mean over seeds of the cumulative pass rate (replay) or cumulative regret (scenario) per policy. */
  curves: Record<string, number[]>;
  /** Replay: mean number of distinct candidates each policy tried per seed. */
  armsTried?: Record<string, number>;
  /** Scenario: per regression event, mean steps until the regressed template's share of picks fell below 10%. */
  recoverySteps?: Record<string, number[]>;
  /** Scenario: per template arriving during the run, how each policy treated it (means over seeds; majority and drop steps also as medians). */
  arrivals?: Record<string, Array<{ template: string; majoritySteps: number; majorityStepsMedian: number; dropSteps: number; dropStepsMedian: number; share: number }>>;
  /** The command line that produced it, when run from the CLI. */
  command?: string;
  perSeed: Array<{ seed: number; uniform: number; bestFixed: number; perContextOracle: number; policies: Record<string, number> }>;
  /**
   * Present when learnloop-variant ran (`--variant-config`): its overrides of learnloop's configuration (null: a field
   * removed), its policy version, and variant − learnloop paired over seeds with a 95% normal interval (as the
   * validation matrix pairs a baseline): in captured fraction (the seeds with something to capture) and in mean reward.
   */
  variant?: VariantSettings & {
    captured: { mean: number; low: number; high: number; seeds: number };
    reward: { mean: number; low: number; high: number };
  };
  seconds: number;
}

/** learnloop-variant's run settings and its difference from learnloop, paired over the seeds. */
function variantOf(seeds: readonly SeedOutcome[], config: PolicyConfig, overrides: Partial<PolicyConfig>): NonNullable<LiftResult['variant']> {
  const gapped = seeds.filter((s) => hasGap(s.bestFixed - s.uniform));
  const diff = (s: SeedOutcome) => s.policies[VARIANT]! - s.policies['learnloop']!;
  const [cm, cl, ch] = pairedInterval(gapped.map((s) => diff(s) / (s.bestFixed - s.uniform)));
  const [rm, rl, rh] = pairedInterval(seeds.map(diff));
  return {
    ...variantSettings(config, overrides),
    captured: { mean: cm, low: cl, high: ch, seeds: gapped.length },
    reward: { mean: rm, low: rl, high: rh },
  };
}

export interface ReplayRun {
  readonly data: string;
  readonly arms: number | 'all';
  readonly steps: number;
  readonly seeds: number;
  readonly firstSeed?: number;
  readonly context: ContextMode;
  readonly policies?: readonly string[];
  readonly config?: PolicyConfig;
  /** Overrides of `config` for learnloop-variant, run beside the policies (which must include learnloop). */
  readonly variant?: Partial<PolicyConfig>;
  readonly onProgress?: (done: number, total: number) => void;
}

function overridesOf(config: PolicyConfig): Record<string, unknown> {
  const defaults = DEFAULT_POLICY_CONFIG as unknown as Record<string, unknown>;
  return recordedOverrides(Object.fromEntries(Object.entries(config).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(defaults[k]))));
}

const meanCurve = (curves: readonly number[][]) => curves[0]!.map((_, j) => mean(curves.map((c) => c[j]!)));

export function runReplay(run: ReplayRun): LiftResult {
  const started = performance.now();
  const table = parseOutcomes(readFileSync(run.data, 'utf8'));
  const policies = withVariant(run.policies ?? POLICY_NAMES, run.variant);
  const config = run.config ?? DEFAULT_POLICY_CONFIG;
  const seeds = replay(table, {
    arms: run.arms,
    steps: run.steps,
    seeds: run.seeds,
    ...firstSeedOf(run),
    context: run.context,
    policies,
    config,
    ...(run.variant ? { variant: run.variant } : {}),
    ...(run.onProgress ? { onProgress: run.onProgress } : {}),
  });
  const marks = checkpoints(run.steps);
  const curves: Record<string, number[]> = {};
  const armsTried: Record<string, number> = {};
  for (const p of policies) {
    curves[p] = meanCurve(seeds.map((s) => s.curves[p]!)).map((c, j) => c / marks[j]!);
    armsTried[p] = mean(seeds.map((s) => s.armsTried[p]!));
  }
  const summary = summarize(seeds, policies, `replay\u0000${run.arms}\u0000${run.steps}\u0000${run.context}`);
  return {
    arms: seeds[0]!.candidates.length,
    steps: run.steps,
    seeds: run.seeds,
    ...firstSeedOf(run),
    mode: 'replay',
    source: run.data,
    context: run.context,
    policyVersion: policyVersion(config),
    policyOverrides: overridesOf(config),
    ...summary,
    checkpoints: marks,
    curves,
    armsTried,
    perSeed: seeds.map(({ seed, uniform, bestFixed, perContextOracle, policies: p }) => ({ seed, uniform, bestFixed, perContextOracle, policies: p })),
    ...(run.variant ? { variant: variantOf(seeds, config, run.variant) } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

export function loadScenario(path: string): Scenario {
  return validateScenario(JSON.parse(readFileSync(path, 'utf8')));
}

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly seeds?: number;
  readonly firstSeed?: number;
  readonly steps?: number;
  readonly policies?: readonly string[];
  /** Overrides of the scenario's configuration for learnloop-variant, run beside the policies (which must include learnloop). */
  readonly variant?: Partial<PolicyConfig>;
  readonly onProgress?: (done: number, total: number) => void;
}

export function runScenario(run: ScenarioRun): LiftResult {
  const started = performance.now();
  const sc = run.steps !== undefined ? { ...run.scenario, steps: run.steps } : run.scenario;
  const nSeeds = run.seeds ?? sc.seeds ?? 20;
  const policies = withVariant(run.policies ?? [...POLICY_NAMES, NO_CONTEXT], run.variant);
  const seeds = simulate(sc, nSeeds, policies, run.onProgress, run.firstSeed, run.variant);
  const curves: Record<string, number[]> = {};
  const recoverySteps: Record<string, number[]> = {};
  const arrivals: NonNullable<LiftResult['arrivals']> = {};
  for (const p of policies) {
    curves[p] = meanCurve(seeds.map((s) => s.regret[p]!));
    recoverySteps[p] = (sc.events ?? []).map((_, i) => mean(seeds.map((s) => s.recovery[p]![i]!)));
    arrivals[p] = seeds[0]!.arrivals[p]!.map((a, i) => {
      const of = (f: (x: (typeof a)) => number) => seeds.map((s) => f(s.arrivals[p]![i]!));
      return {
        template: a.template,
        majoritySteps: mean(of((x) => x.majoritySteps)),
        majorityStepsMedian: quantile(of((x) => x.majoritySteps), 0.5),
        dropSteps: mean(of((x) => x.dropSteps)),
        dropStepsMedian: quantile(of((x) => x.dropSteps), 0.5),
        share: mean(of((x) => x.share)),
      };
    });
  }
  const config = { ...DEFAULT_POLICY_CONFIG, ...(sc.policyConfig ?? {}) };
  return {
    arms: sc.templates.length,
    steps: sc.steps,
    seeds: nSeeds,
    ...firstSeedOf(run),
    mode: 'scenario',
    source: sc.name,
    context: 'scenario',
    policyVersion: policyVersion(config),
    policyOverrides: overridesOf(config),
    ...summarize(seeds, policies, `scenario\u0000${sc.name}`),
    checkpoints: checkpoints(sc.steps),
    curves,
    recoverySteps,
    ...(Object.values(arrivals).some((v) => v.length > 0) ? { arrivals } : {}),
    perSeed: seeds.map(({ seed, uniform, bestFixed, perContextOracle, policies: p }) => ({ seed, uniform, bestFixed, perContextOracle, policies: p })),
    ...(run.variant ? { variant: variantOf(seeds, config, run.variant) } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

const signed = (x: number, d = 1) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(d)}`;

/** Rows of the readable summary: one per policy, then the references. */
export function summaryRows(r: LiftResult): { headers: string[]; rows: string[][] } {
  const headers = ['policy', 'mean reward', 'lift vs uniform (pp, 95% CI)', 'relative', 'captured mean', 'p10', 'p50', 'p90', 'of oracle'];
  if (r.recoverySteps && Object.values(r.recoverySteps).some((v) => v.length > 0)) headers.push('recovery steps');
  if (r.arrivals) headers.push('new version: steps to majority / to dropped (median), share after arrival');
  if (r.armsTried) headers.push('arms tried');
  const rows = Object.entries(r.policies).map(([name, p]) => {
    const row = [
      name,
      f3(p.meanReward),
      `${signed(p.liftVsUniform.mean)} [${signed(p.liftVsUniform.ciLow)}, ${signed(p.liftVsUniform.ciHigh)}]`,
      `${signed(p.liftVsUniform.relative, 0)}%`,
      f3(p.capturedFraction.mean),
      f3(p.capturedFraction.p10),
      f3(p.capturedFraction.p50),
      f3(p.capturedFraction.p90),
      f3(p.capturedOfOracle),
    ];
    if (headers.includes('recovery steps')) row.push((r.recoverySteps?.[name] ?? []).map((x) => x.toFixed(0)).join(', '));
    if (r.arrivals) row.push((r.arrivals[name] ?? []).map((a) => `${a.template}: ${a.majorityStepsMedian.toFixed(0)} / ${a.dropStepsMedian.toFixed(0)}, ${(a.share * 100).toFixed(1)}%`).join('; '));
    if (r.armsTried) row.push((r.armsTried[name] ?? 0).toFixed(1));
    return row;
  });
  return { headers, rows };
}

export function referenceLine(r: LiftResult): string {
  return `references: uniform ${f3(r.reference.uniform)}, best fixed in hindsight ${f3(r.reference.bestFixed)}, per-context oracle ${f3(r.reference.perContextOracle)}`;
}

/** learnloop-variant − learnloop in words (undefined when no variant ran). */
export function variantLine(r: LiftResult): string | undefined {
  const v = r.variant;
  if (v === undefined) return undefined;
  return `${variantName(v)} − learnloop, paired over seeds (95% CI): captured ${capturedDiff(v.captured.mean, v.captured.low, v.captured.high)} (${v.captured.seeds} seeds), mean reward ${pointsDiff(v.reward.mean, v.reward.low, v.reward.high)} points`;
}

export function plot(r: LiftResult): string {
  const series = Object.entries(r.curves).map(([name, values]) => ({ name, values }));
  if (r.mode === 'replay') {
    const refs = [
      { name: 'best fixed (hindsight)', values: r.checkpoints.map(() => r.reference.bestFixed) },
      { name: 'uniform (expected)', values: r.checkpoints.map(() => r.reference.uniform) },
    ];
    return lineChart(`Cumulative pass rate: ${r.arms} arms, ${r.seeds} seeds, context ${r.context}`, 'cumulative pass rate', r.checkpoints, series, refs);
  }
  return lineChart(`Cumulative regret vs per-context oracle: ${r.source} (${r.seeds} seeds)`, 'cumulative expected regret', r.checkpoints, series);
}
