import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, Option } from 'commander';
import type { ServiceError } from '@grpc/grpc-js';
import { createClient } from '../client.js';
import { ConfigError, loadConfig, SETTINGS, type Config, type Flags } from '../config.js';
import {
  EvidenceLevel,
  ObserveRequest,
  ObserveResponse,
  Outcome,
  RecommendResponse,
  type PosteriorSummary,
} from '../gen/learnloop/v1/learnloop.js';
import { startServer } from '../server/index.js';
import { createLogger } from '../server/logging.js';
import { observeFromProto } from '../server/mapping.js';
import { LearnLoop } from '../service/learnloop.js';
import { LmdbStore } from '../store/index.js';
import { fixed, pct, table } from './format.js';
import { importRunsCommand, registerAnalytics, type CliHelpers } from './commands/analytics.js';
import { registerBenchCommands } from './commands/bench.js';

/** Raised for a failure the user can fix; printed without a stack. */
class UserError extends Error {}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function withSettings(cmd: Command, names?: readonly string[]): Command {
  for (const [flag, env, fallback, meaning] of SETTINGS) {
    if (names && !names.includes(flag)) continue;
    cmd.addOption(new Option(`--${flag} <value>`, `${meaning} [env ${env}, default ${JSON.stringify(fallback)}]`));
  }
  return cmd;
}

function configFrom(opts: Record<string, unknown>): Config {
  const flags: Record<string, string | undefined> = {};
  for (const [flag] of SETTINGS) {
    const v = opts[camel(flag)];
    if (typeof v === 'string') flags[flag] = v;
  }
  return loadConfig(process.env, flags as Flags);
}

async function withLearnLoop<T>(opts: Record<string, unknown>, fn: (ll: LearnLoop) => Promise<T>): Promise<T> {
  const config = configFrom(opts);
  // Beside a running server, use the policy the folder was built with, so the numbers agree.
  const store = await LmdbStore.open(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
  try {
    return await fn(new LearnLoop({ store, limits: config.limits }));
  } finally {
    await store.close();
  }
}

const OUTCOME_NAMES = ['pass', 'partial', 'fail', 'timeout', 'infra-error', 'unverified'] as const;

function outcomeFlag(name: string): Outcome {
  const i = OUTCOME_NAMES.indexOf(name.toLowerCase() as (typeof OUTCOME_NAMES)[number]);
  if (i < 0) throw new UserError(`--outcome: must be one of ${OUTCOME_NAMES.join(', ')}; got ${JSON.stringify(name)}`);
  return (i + 1) as Outcome;
}

const LEVEL_WORDS: Record<number, string> = {
  [EvidenceLevel.EVIDENCE_LEVEL_PRIOR]: 'prior',
  [EvidenceLevel.EVIDENCE_LEVEL_GLOBAL]: 'global',
  [EvidenceLevel.EVIDENCE_LEVEL_TASK_CLASS]: 'task class',
  [EvidenceLevel.EVIDENCE_LEVEL_REPO_TASK_CLASS]: 'repo+class',
};

const interval = (p: PosteriorSummary | undefined) => (p ? `${pct(p.ciLow, 0)}–${pct(p.ciHigh, 0)}` : '');

function clientFrom(opts: { addr: string; token?: string; tlsCa?: string; tls?: boolean }) {
  const tls = opts.tlsCa ? { caPath: opts.tlsCa } : opts.tls === true;
  return createClient(opts.addr, { ...(opts.token ? { token: opts.token } : {}), tls });
}

function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--addr <host:port>', 'server address', process.env.LEARNLOOP_ADDR ?? '127.0.0.1:50051')
    .option('--token <token>', 'bearer token [env LEARNLOOP_TOKEN]', process.env.LEARNLOOP_TOKEN)
    .option('--tls', 'connect with TLS (system roots)')
    .option('--tls-ca <file>', 'connect with TLS, trusting this PEM certificate')
    .option('--json', 'print JSON for scripts');
}

function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

export function buildProgram(): Command {
  const program = new Command('learnloop')
    .description('Template recommendations that learn from verified coding-agent runs.')
    .showHelpAfterError();

  withSettings(program.command('serve').description('run the gRPC server')).action(async (opts) => {
    const config = configFrom(opts);
    const log = createLogger(config.logLevel);
    const server = await startServer(config, log);
    const stop = (signal: string) => {
      log.info({ signal }, 'signal received');
      server.shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

  addClientOptions(program.command('recommend').description('ask a running server which template to use'))
    .option('--task-class <class>', 'task class, e.g. bug-fix', '')
    .option('--repo <repo>', 'repository, e.g. org/repo', '')
    .option('--candidates <ids>', 'comma-separated template ids (default: every active template)', '')
    .option('--top-k <n>', 'ranked templates to show (0 = all)', '0')
    .option('--request-id <id>', 'idempotency key: the same id returns the same decision', '')
    .action(async (opts) => {
      const client = clientFrom(opts);
      try {
        const res = await client.recommend({
          taskClass: opts.taskClass,
          repo: opts.repo,
          candidateTemplateIds: String(opts.candidates).split(',').map((s) => s.trim()).filter(Boolean),
          topK: Number(opts.topK),
          requestId: opts.requestId,
        });
        print(opts.json === true, RecommendResponse.toJSON(res), () =>
          [
            `chosen: ${res.chosenTemplateId}  (propensity ${fixed(res.propensity)}, decision ${res.decisionId})`,
            '',
            table(
              ['template', 'mean', '95% CI', 'runs', 'evidence', 'P(best)'],
              res.ranking.map((r) => [
                r.templateId,
                pct(r.posterior?.mean ?? 0),
                interval(r.posterior),
                fixed(r.posterior?.observations ?? 0, 1),
                LEVEL_WORDS[r.posterior?.evidenceLevel ?? 0] ?? '',
                fixed(r.probBest),
              ]),
            ),
            '',
            `lift vs uniform: ${res.lift ? `${(res.lift.absolute * 100).toFixed(1)} points (95% CI ${(res.lift.ciLow * 100).toFixed(1)} to ${(res.lift.ciHigh * 100).toFixed(1)})` : 'n/a'}`,
            res.rationale,
          ].join('\n'),
        );
      } finally {
        client.close();
      }
    });

  addClientOptions(program.command('observe').description("report a verified run's outcome to a running server"))
    .requiredOption('--run-id <id>', 'unique id of this run (idempotency key)')
    .requiredOption('--outcome <outcome>', OUTCOME_NAMES.join(' | '))
    .option('--decision-id <id>', 'the decision that led to this run', '')
    .option('--template <id>', 'template id (default: the decision\'s choice)', '')
    .option('--task-class <class>', 'task class', '')
    .option('--repo <repo>', 'repository', '')
    .option('--task-id <id>', 'task (bead) id', '')
    .option('--attempt <n>', 'attempt number, from 1', '0')
    .option('--retries <n>', 'retries within the run', '0')
    .option('--duration <seconds>', 'run duration in seconds', '0')
    .option('--failure-reason <text>', 'why it failed', '')
    .option('--finished-at <iso>', 'finish time, ISO 8601 (default: now)')
    .option('--agent <name>', 'agent', '')
    .option('--model <name>', 'model', '')
    .action(async (opts) => {
      const finishedAt = opts.finishedAt === undefined ? undefined : new Date(opts.finishedAt);
      if (finishedAt !== undefined && Number.isNaN(finishedAt.getTime())) throw new UserError(`--finished-at: not a date: ${opts.finishedAt}`);
      const client = clientFrom(opts);
      try {
        const res = await client.observe({
          runId: opts.runId,
          decisionId: opts.decisionId,
          templateId: opts.template,
          taskClass: opts.taskClass,
          repo: opts.repo,
          taskId: opts.taskId,
          attempt: Number(opts.attempt),
          outcome: outcomeFlag(opts.outcome),
          retries: Number(opts.retries),
          durationSeconds: Number(opts.duration),
          failureReason: opts.failureReason,
          finishedAt,
          agent: opts.agent,
          model: opts.model,
        });
        print(opts.json === true, ObserveResponse.toJSON(res), () => {
          const p = res.posterior;
          const state = res.duplicate ? 'duplicate (already recorded; nothing changed)' : 'recorded';
          return `${state}; posterior now ${pct(p?.mean ?? 0)} (95% CI ${interval(p)}) from ${fixed(p?.observations ?? 0, 1)} runs`;
        });
      } finally {
        client.close();
      }
    });

  const templates = program.command('templates').description('list or register templates (directly on --db)');
  withSettings(templates.command('list').description('list templates'), ['db'])
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const list = await withLearnLoop(opts, async (ll) => ll.listTemplates());
      print(opts.json === true, list, () =>
        table(
          ['template', 'status', 'parent', 'implicit', 'registered'],
          list.map((t) => [t.templateId, t.status, t.parentTemplateId, t.implicit ? 'yes' : '', new Date(t.registeredAtMs).toISOString()]),
        ),
      );
    });
  withSettings(templates.command('register <templateId>').description('register a template version'), ['db'])
    .option('--parent <id>', 'the version it refines (inherits discounted evidence)', '')
    .addOption(new Option('--status <status>', 'lifecycle status').choices(['active', 'candidate', 'retired']).default('active'))
    .option('--description <text>', 'what changed', '')
    .option('--json', 'print JSON')
    .action(async (templateId: string, opts) => {
      const r = await withLearnLoop(opts, (ll) =>
        ll.registerTemplate({ templateId, parentTemplateId: opts.parent, status: opts.status, description: opts.description }),
      );
      print(opts.json === true, r, () => `${r.created ? 'registered' : 'updated'} ${templateId} (${r.record.status})`);
    });

  withSettings(program.command('scores').description('per-template scorecards for a segment'))
    .option('--task-class <class>', 'task class (empty = all)', '')
    .option('--repo <repo>', 'repository (empty = all)', '')
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const cards = await withLearnLoop(opts, async (ll) => ll.scores(opts.taskClass, opts.repo));
      print(opts.json === true, cards, () =>
        table(
          ['template', 'runs', 'pass rate', 'posterior', '95% CI', 'evidence', 'retry', 'timeout', 'mean s'],
          cards.map((c) => [
            c.templateId,
            c.counters.runs,
            pct(c.passRate),
            pct(c.posterior.mean),
            `${pct(c.posterior.ciLow, 0)}–${pct(c.posterior.ciHigh, 0)}`,
            c.posterior.evidenceLevel,
            pct(c.retryRate),
            pct(c.timeoutRate),
            fixed(c.meanDurationSeconds, 0),
          ]),
        ),
      );
    });

  withSettings(program.command('rebuild').description('recompute all derived state from the event log'))
    .option('--json', 'print JSON')
    .action(async (opts) => {
      const config = configFrom(opts);
      const started = performance.now();
      const store = await LmdbStore.open(config.dbPath, { policy: config.policy, onPolicyChange: 'adopt' });
      try {
        const events = await store.rebuild();
        const seconds = (performance.now() - started) / 1000;
        print(opts.json === true, { events, seconds, eventsPerSecond: events / seconds }, () =>
          `rebuilt derived state from ${events} events in ${seconds.toFixed(2)} s`,
        );
      } finally {
        await store.close();
      }
    });

  const helpers: CliHelpers = { withSettings, withLearnLoop, print, userError: (m) => new UserError(m) };
  withSettings(
    program
      .command('import <file...>')
      .usage('[options] FILE.jsonl | runs PATH...')
      .description('import observations: one ObserveRequest per line (proto3 JSON); `import runs PATH...` reads dispatcher run records'),
  )
    .option('--field-map <file>', 'import runs: JSON file mapping run-record fields of another dispatcher')
    .option('--no-scan', 'import runs: do not scan for refinement items afterwards')
    .option('--json', 'print JSON')
    .action(async (files: string[], opts) => {
      if (files[0] === 'runs') return importRunsCommand(files.slice(1), opts, helpers);
      if (files.length !== 1) throw new UserError('import: name one JSONL file of ObserveRequests, or `import runs PATH...`');
      const file = files[0]!;
      const summary = await withLearnLoop(opts, (ll) => importObservations(ll, file));
      print(opts.json === true, summary, () =>
        [
          `${summary.applied} applied, ${summary.duplicates} duplicates, ${summary.rejected.length} rejected (of ${summary.lines} lines)`,
          ...summary.rejected.slice(0, 20).map((r) => `  line ${r.line}: ${r.reason}`),
          ...(summary.rejected.length > 20 ? [`  ... and ${summary.rejected.length - 20} more (use --json)`] : []),
        ].join('\n'),
      );
      if (summary.rejected.length > 0) process.exitCode = 1;
    });

  // Report subcommands (lift, scores, trend, failures, weekly) attach to this group.
  program.command('report').description('reports derived from the event log');
  registerAnalytics(program, helpers);
  registerBenchCommands(program);

  return program;
}

export interface ImportSummary {
  lines: number;
  applied: number;
  duplicates: number;
  rejected: Array<{ line: number; reason: string }>;
}

/** Imports a JSONL file of ObserveRequests in order; observations in flight at once share a commit. */
export async function importObservations(ll: LearnLoop, file: string): Promise<ImportSummary> {
  const summary: ImportSummary = { lines: 0, applied: 0, duplicates: 0, rejected: [] };
  const batch: Array<Promise<void>> = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of lines) {
    const line = ++summary.lines;
    if (text.trim() === '') continue;
    let params;
    try {
      params = observeFromProto(ObserveRequest.fromJSON(JSON.parse(text)));
    } catch (err) {
      summary.rejected.push({ line, reason: `not valid JSON: ${(err as Error).message}` });
      continue;
    }
    batch.push(
      ll.observe(params).then(
        (r) => {
          if (r.applied) summary.applied++;
          else summary.duplicates++;
        },
        (err: unknown) => {
          summary.rejected.push({ line, reason: (err as Error).message });
        },
      ),
    );
    if (batch.length >= 256) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}

/** Runs the command line; exits non-zero with a one-line message on user errors. */
export async function main(argv: readonly string[]): Promise<void> {
  // `learnloop ... | head` closes stdout early; that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UserError) {
      process.stderr.write(`learnloop: ${err.message}\n`);
      process.exitCode = 2;
    } else if (isServiceError(err)) {
      process.stderr.write(`learnloop: ${statusName(err.code)}: ${err.details}\n`);
      process.exitCode = 1;
    } else if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('LL_')) {
      process.stderr.write(`learnloop: ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      throw err;
    }
  }
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as ServiceError).code === 'number' && 'details' in err;
}

const STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
];
const statusName = (code: number) => STATUS_NAMES[code] ?? String(code);
