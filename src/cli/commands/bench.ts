/** `learnloop bench lift`: the offline lift benchmark (replay on outcome data, or a scenario). */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { DataError } from '../../lift/data.js';
import { POLICY_NAMES, VARIANT } from '../../lift/policies.js';
import { CONTEXT_MODES, type ContextMode } from '../../lift/replay.js';
import { ScenarioError } from '../../lift/scenario.js';
import { behindText, matrixRows, shortfallsText, matrixTableNames, runMatrix, runMatrixInWorkers, variantText, type MatrixFilter, type MatrixResult, type MatrixRun } from '../../lift/matrix.js';
import { parseOutcomes } from '../../lift/data.js';
import { loadScenario, plot, referenceLine, runReplay, runScenario, summaryRows, variantLine, type LiftResult } from '../../lift/run.js';
import { WorkerFailure } from '../../lift/worker-pool.js';
import { DEFAULT_POLICY_CONFIG, policyVersion, validatePolicyConfig, type PolicyConfig } from '../../bandit/index.js';
import { PACKAGE_ROOT } from '../../paths.js';
import { commaList } from '../context.js';
import { table } from '../format.js';
import { registerReportLift } from './report-lift.js';

export const DEFAULT_DATA = join(PACKAGE_ROOT, 'bench', 'data', 'verified.csv');

/** A problem the user can fix: printed as one line, exit code 2. */
class BenchUserError extends Error {}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BenchUserError(`${flag} must be a positive integer; got ${JSON.stringify(v)}`);
  return n;
}

/** Runs an action, turning user errors into one line on stderr and exit code 2, and a failed worker into one line and exit code 1. */
async function userErrors(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof WorkerFailure) {
      // On a terminal the progress line has no newline yet.
      process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}learnloop: ${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    // Bad input files are the user's to fix too: no stack.
    if (err instanceof BenchUserError || e.code === 'ENOENT' || err instanceof DataError || err instanceof ScenarioError || err instanceof SyntaxError) {
      process.stderr.write(`learnloop: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

/** Progress on stderr: a rewritten line on a terminal, a line per 10% otherwise. */
function progress(label: string, unit = 'policy runs'): (done: number, total: number) => void {
  const started = performance.now();
  let lastTenth = -1;
  return (done, total) => {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const msg = `${label}: ${done}/${total} ${unit}, ${secs} s`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${msg}${done === total ? '\n' : ''}`);
    } else {
      const tenth = Math.floor((10 * done) / total);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${msg}\n`);
      }
    }
  };
}

const fromText = (r: { readonly firstSeed?: number }) => (r.firstSeed === undefined ? '' : ` from seed ${r.firstSeed}`);

function render(r: LiftResult): string {
  const { headers, rows } = summaryRows(r);
  const what = r.mode === 'replay' ? `replay of ${r.source}: ${r.arms} arms, context ${r.context}` : `scenario ${r.source}: ${r.arms} templates`;
  const lines = [
    `${what}, ${r.steps} steps, ${r.seeds} seeds${fromText(r)} (policy ${r.policyVersion}, ${r.seconds.toFixed(1)} s)`,
    '',
    table(headers, rows),
    '',
    referenceLine(r),
    variantLine(r),
    'captured = (policy − uniform) / (best fixed − uniform) per seed; "of oracle" uses the per-context oracle instead.',
  ];
  return lines.filter((l) => l !== undefined).join('\n');
}

/** `bench lift`, and `report lift` on the existing report group. */
export function registerBenchCommands(program: Command): void {
  registerReportLift(program);
  const bench = program.command('bench').description('offline benchmarks');
  bench
    .command('lift')
    .description('compare learnloop with uniform, greedy and classic bandits on real outcomes (replay) or a scenario (simulation)')
    .option('--data <file.csv>', 'full-information outcomes: system,date,instance_id,repo,difficulty,resolved', DEFAULT_DATA)
    .option('--matrix', 'run the validation matrix instead: --data and its subsets by repository and era, synthetic families, K 2–all, 500/2,000/10,000 steps (--seeds, default 100)')
    .option('--scenario <file.json>', 'simulate a scenario instead of replaying --data (see bench/scenarios/README.md)')
    .option('--tables <names>', 'with --matrix: run only these tables (comma-separated, e.g. agents-41,near-ties-32), for screening')
    .option('--arms <K|all>', 'candidates drawn per seed (default 8); with --matrix, only these K (comma-separated, e.g. 8,all)')
    .option('--steps <T>', 'tasks per seed (scenario default: the scenario\'s); with --matrix, only these horizons (comma-separated)', undefined)
    .option('--seeds <N>', 'independent seeds (scenario default: the scenario\'s, else 20)', undefined)
    .option('--first-seed <n>', 'number the seeds from n (default 1): a check on seeds disjoint from a run judged on seeds 1–N')
    .addOption(new Option('--context <mode>', 'what learnloop sees as the task context (replay)').choices(CONTEXT_MODES as string[]).default('none'))
    .option('--policies <names>', `comma-separated subset of ${POLICY_NAMES.join(', ')}`)
    .option('--policy-config <json>', 'overrides of the production policy configuration for learnloop, e.g. \'{"satisficingTolerance":0}\' (ablations)')
    .option(
      '--variant-config <json>',
      `also run ${VARIANT}: learnloop with these overrides of its configuration (--policy-config's form, e.g. '{"satisficingTolerance":0}'), on learnloop's random stream; reported as its difference from learnloop paired over seeds (95% CI), in captured fraction and mean reward`,
    )
    .option('--jobs <n>', 'with --matrix: run the cells on n worker threads (default 1); the report is the same apart from its timing')
    .option('--json <out>', 'write the full report as JSON ("-" for stdout)')
    .option('--plot <out.svg>', 'write an SVG plot of cumulative pass rate (replay) or regret (scenario)')
    .action((opts: BenchLiftOptions) => userErrors(() => benchLift(opts)));
}

interface BenchLiftOptions {
  data: string;
  matrix?: boolean;
  tables?: string;
  scenario?: string;
  arms?: string;
  steps?: string;
  seeds?: string;
  firstSeed?: string;
  context: string;
  policies?: string;
  policyConfig?: string;
  variantConfig?: string;
  jobs?: string;
  json?: string;
  plot?: string;
}


/**
 * A JSON object of policy configuration overrides, checked on top of `base`. null removes a field: the
 * configuration an earlier policy stored without it (e.g. {"groupSpread":null} is /4's pooling).
 */
function parseOverrides(flag: string, text: string, base: PolicyConfig): Partial<PolicyConfig> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BenchUserError(`${flag}: not JSON: ${text}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BenchUserError(`${flag}: a JSON object is required; got ${text}`);
  const overrides = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v === null ? undefined : v])) as Partial<PolicyConfig>;
  const problems = validatePolicyConfig({ ...base, ...overrides });
  if (problems.length > 0) throw new BenchUserError(`${flag}: ${problems.map((v) => `${v.field} ${v.description}`).join('; ')}`);
  return overrides;
}

async function benchLift(opts: BenchLiftOptions): Promise<void> {
  if (opts.matrix !== true && opts.tables !== undefined) throw new BenchUserError('--tables needs --matrix');
  if (opts.matrix !== true && opts.jobs !== undefined) throw new BenchUserError('--jobs needs --matrix');
  const jobs = opts.jobs === undefined ? 1 : positiveInt('--jobs', opts.jobs);
  const armsOf = (v: string): number | 'all' => (v === 'all' ? 'all' : positiveInt('--arms', v));
  const steps = opts.steps === undefined || opts.matrix === true ? undefined : positiveInt('--steps', opts.steps);
  const seeds = opts.seeds === undefined ? undefined : positiveInt('--seeds', opts.seeds);
  const firstSeed = opts.firstSeed === undefined ? undefined : positiveInt('--first-seed', opts.firstSeed);
  const from = firstSeed === undefined ? {} : { firstSeed };
  const arms = opts.matrix === true ? 8 : armsOf(opts.arms ?? '8');
  let policies: string[] | undefined;
  if (opts.policies !== undefined) {
    policies = commaList(opts.policies);
    const unknown = policies.filter((p) => !POLICY_NAMES.includes(p));
    if (unknown.length > 0) throw new BenchUserError(`--policies: unknown ${unknown.join(', ')}; choose from ${POLICY_NAMES.join(', ')}`);
  }
  const overrides = opts.policyConfig === undefined ? {} : parseOverrides('--policy-config', opts.policyConfig, DEFAULT_POLICY_CONFIG);
  const variant = opts.variantConfig === undefined ? undefined : parseOverrides('--variant-config', opts.variantConfig, { ...DEFAULT_POLICY_CONFIG, ...overrides });
  // The variant is reported as its difference from learnloop, so learnloop has to run too.
  if (variant !== undefined && opts.matrix !== true && policies !== undefined && !policies.includes('learnloop')) throw new BenchUserError('--variant-config: needs learnloop among --policies');
  const withVariant = variant === undefined ? {} : { variant };
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const command = `npx learnloop ${process.argv.slice(2).map(quote).join(' ')}`;
  if (opts.matrix === true) {
    const config = { ...DEFAULT_POLICY_CONFIG, ...overrides };
    const real = [{ name: basename(opts.data, '.csv'), table: parseOutcomes(readFileSync(opts.data, 'utf8')) }];
    const filter: MatrixFilter = {
      ...(opts.tables !== undefined ? { tables: commaList(opts.tables) } : {}),
      ...(opts.arms !== undefined ? { arms: commaList(opts.arms).map(armsOf) } : {}),
      ...(opts.steps !== undefined ? { steps: commaList(opts.steps).map((v) => positiveInt('--steps', v)) } : {}),
    };
    const names = matrixTableNames(real);
    const unknown = (filter.tables ?? []).filter((t) => !names.includes(t));
    if (unknown.length > 0) throw new BenchUserError(`--tables: unknown ${unknown.join(', ')}; choose from ${names.join(', ')}`);
    const run: MatrixRun = {
      real,
      seeds: seeds ?? 100,
      ...from,
      config,
      policyVersion: policyVersion(config),
      ...(Object.keys(filter).length > 0 ? { filter } : {}),
      ...withVariant,
      onProgress: progress('matrix', 'cells'),
    };
    const m: MatrixResult = jobs === 1 ? runMatrix(run) : await runMatrixInWorkers(run, jobs);
    m.command = command;
    if (opts.json === '-') process.stdout.write(JSON.stringify(m, null, 2) + '\n');
    else {
      const { headers, rows } = matrixRows(m);
      const subset = m.filter === undefined ? '' : ' (a subset: the target is judged on the whole matrix only)';
      process.stdout.write(`validation matrix${subset}: ${m.cells.length} cells, ${m.seeds} seeds${fromText(m)} (policy ${m.policyVersion}, ${m.seconds.toFixed(0)} s)\n\n${table(headers, rows)}\n`);
      process.stdout.write(m.shortfalls.length === 0 ? `targets met${m.filter === undefined ? '' : ' in these cells'}${m.firstSeed === undefined ? '' : ' on these seeds (the target is judged on seeds 1–100)'}: learnloop mean and p10 ≥ every baseline at K = 8 and K = all, 2,000 steps\n` : `${m.shortfalls.length} target shortfalls (K = 8 / all, 2,000 steps): ${shortfallsText(m)}\n`);
      for (const line of [behindText(m), variantText(m)]) if (line !== undefined) process.stdout.write(`${line}\n`);
      if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify(m, null, 2) + '\n');
    }
    return;
  }
  let result: LiftResult;
  if (opts.scenario !== undefined) {
    const loaded = loadScenario(opts.scenario);
    const scenario = { ...loaded, policyConfig: { ...(loaded.policyConfig ?? {}), ...overrides } };
    result = runScenario({
      scenario,
      ...(seeds !== undefined ? { seeds } : {}),
      ...from,
      ...(steps !== undefined ? { steps } : {}),
      ...(policies ? { policies } : {}),
      ...withVariant,
      onProgress: progress(`scenario ${scenario.name}`),
    });
  } else {
    result = runReplay({
      data: opts.data,
      arms,
      steps: steps ?? 2000,
      seeds: seeds ?? 20,
      ...from,
      context: opts.context as ContextMode,
      config: { ...DEFAULT_POLICY_CONFIG, ...overrides },
      ...(policies ? { policies } : {}),
      ...withVariant,
      onProgress: progress('replay'),
    });
  }
  // The exact command, so a report can say how to reproduce it.
  result.command = command;
  if (opts.json === '-') process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else {
    process.stdout.write(render(result) + '\n');
    if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify(result, null, 2) + '\n');
  }
  if (opts.plot !== undefined) writeFileSync(opts.plot, plot(result));
}
