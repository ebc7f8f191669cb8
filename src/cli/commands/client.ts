/** `learnloop recommend` and `learnloop observe`: clients of a running server. */
import { status, type ServiceError } from '@grpc/grpc-js';
import { InvalidArgumentError, type Command } from 'commander';
import { MAX_RUN_COUNT } from '../../bandit/index.js';
import { createClient, DEFAULT_PORT, withDefaultPort } from '../../client.js';
import { EvidenceLevel, ObserveResponse, Outcome, RecommendResponse, type PosteriorSummary } from '../../gen/learnloop/v1/learnloop.js';
import { EVIDENCE_LABELS } from '../../reports/metrics.js';
import { commaList, OperationError, print, UserError } from '../context.js';
import { dateFlag } from '../dates.js';
import { fixed, pct, runsColumn, table } from '../format.js';
import { completeJson } from '../proto-json.js';

const OUTCOME_NAMES = ['pass', 'partial', 'fail', 'timeout', 'infra-error', 'unverified'] as const;

function outcomeFlag(name: string): Outcome {
  const i = OUTCOME_NAMES.indexOf(name.toLowerCase() as (typeof OUTCOME_NAMES)[number]);
  if (i < 0) throw new UserError(`--outcome: must be one of ${OUTCOME_NAMES.join(', ')}; got ${JSON.stringify(name)}`);
  return (i + 1) as Outcome;
}

/** The proto enum read back as the one label every output uses (src/reports/metrics.ts). */
const LEVEL_WORDS: Record<number, string> = {
  [EvidenceLevel.EVIDENCE_LEVEL_PRIOR]: EVIDENCE_LABELS.prior,
  [EvidenceLevel.EVIDENCE_LEVEL_GLOBAL]: EVIDENCE_LABELS.global,
  [EvidenceLevel.EVIDENCE_LEVEL_TASK_CLASS]: EVIDENCE_LABELS.task_class,
  [EvidenceLevel.EVIDENCE_LEVEL_REPO_TASK_CLASS]: EVIDENCE_LABELS.repo_task_class,
};

const interval = (p: PosteriorSummary | undefined) => (p ? `${pct(p.ciLow, 0)}–${pct(p.ciHigh, 0)}` : '');
/** The expected reward and the pass rate of a posterior, each with its 95% interval. */
const reward = (p: PosteriorSummary | undefined) => `${pct(p?.mean ?? 0)} (${interval(p)})`;
const passRate = (p: PosteriorSummary | undefined) => (p ? `${pct(p.passRate)} (${pct(p.passRateCiLow, 0)}–${pct(p.passRateCiHigh, 0)})` : '');

/**
 * Checks --addr before dialling: grpc-js would wait out the deadline on an empty host and call a
 * bad port unreachable. Target URIs (dns:///, unix:) are grpc-js's to read.
 * @throws UserError naming --addr
 */
export function checkAddr(addr: string): void {
  const at = withDefaultPort(addr);
  if (at.includes('://') || /^unix(-abstract)?:/.test(at)) return;
  const m = /^\[(.*)\]:([^:]*)$/.exec(at) ?? /^([^:]*):([^:]*)$/.exec(at);
  const port = Number(m?.[2]);
  if (m === null || m[1]!.trim() === '' || !/^\d+$/.test(m[2]!) || port < 1 || port > 65535) {
    const from = addr === process.env.LEARNLOOP_ADDR ? ' (from LEARNLOOP_ADDR)' : '';
    throw new UserError(`--addr${from}: must be host[:port] with a host and a port from 1 to 65535 (no port means ${DEFAULT_PORT}); got ${JSON.stringify(addr)}`);
  }
}

function clientFrom(opts: { addr: string; token?: string; tlsCa?: string; tls?: boolean }) {
  checkAddr(opts.addr);
  const tls = opts.tlsCa ? { caPath: opts.tlsCa } : opts.tls === true;
  return createClient(opts.addr, { ...(opts.token ? { token: opts.token } : {}), tls });
}

/** Runs one call; an unreachable server is reported with where it was looked for and how to start one. */
async function calling<T>(addr: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if ((err as ServiceError).code === status.UNAVAILABLE) {
      const at = withDefaultPort(addr);
      throw new OperationError(`UNAVAILABLE: cannot reach ${at}: is a server running on ${at}? start one with learnloop serve`);
    }
    throw err;
  }
}

/** A flag's value as an integer in [0, 2^32), as the proto's uint32 fields take. */
function uint32(value: string, previous: unknown): number {
  void previous;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('must be a whole number from 0 to 4294967295');
  return n;
}

/** A flag's value as a count the server takes for attempt and retries: an integer in [0, MAX_RUN_COUNT]. */
function runCount(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > MAX_RUN_COUNT) throw new InvalidArgumentError(`must be a whole number from 0 to ${MAX_RUN_COUNT}`);
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds >= 0');
  return n;
}

function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--addr <host[:port]>', 'server address; without a port, port 50051', process.env.LEARNLOOP_ADDR ?? '127.0.0.1:50051')
    .option('--token <token>', 'bearer token [env LEARNLOOP_TOKEN]', process.env.LEARNLOOP_TOKEN)
    .option('--tls', 'connect with TLS (system roots)')
    .option('--tls-ca <file>', 'connect with TLS, trusting this PEM certificate')
    .option('--json', 'print JSON for scripts');
}

export function registerClientCommands(program: Command): void {
  addClientOptions(program.command('recommend').description('ask a running server which template to use'))
    .option('--task-class <class>', 'task class, e.g. bug-fix')
    .option('--repo <repo>', 'repository, e.g. org/repo')
    .option('--candidates <ids>', 'comma-separated template ids (default: every active template)')
    .option('--top-k <n>', 'ranked templates to show (default: 0 = all)', uint32)
    .option('--request-id <id>', 'idempotency key: the same id returns the same decision')
    .action(async (opts) => {
      const client = clientFrom(opts);
      try {
        const res = await calling(opts.addr, () =>
          client.recommend({
            taskClass: opts.taskClass ?? '',
            repo: opts.repo ?? '',
            candidateTemplateIds: commaList(String(opts.candidates ?? '')),
            topK: opts.topK ?? 0,
            requestId: opts.requestId ?? '',
          }),
        );
        const own = runsColumn('own runs', res.ranking.map((r) => r.ownRuns));
        print(opts.json === true, completeJson('learnloop.v1.RecommendResponse', RecommendResponse.toJSON(res)), () =>
          [
            `chosen: ${res.chosenTemplateId}  (propensity ${fixed(res.propensity)}, decision ${res.decisionId})`,
            ...(res.newTemplateIds.length > 0 ? [`new: ${res.newTemplateIds.join(', ')} (registered as candidates: ranked only where named until someone registers or activates them)`] : []),
            '',
            table(
              ['template', 'expected reward (95% CI)', 'pass rate (95% CI)', own.header, 'evidence', 'P(best)'],
              res.ranking.map((r, i) => [
                r.templateId,
                reward(r.posterior),
                passRate(r.posterior),
                own.cells[i]!,
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
    .option('--decision-id <id>', 'the decision that led to this run')
    .option('--template <id>', "template id (default: the decision's choice)")
    .option('--task-class <class>', 'task class')
    .option('--repo <repo>', 'repository')
    .option('--task-id <id>', 'task (bead) id')
    .option('--attempt <n>', `attempt number from 0 to ${MAX_RUN_COUNT}: 1 for the first attempt at the task, 0 = unknown (counted as a first attempt; the default)`, runCount)
    .option('--retries <n>', `retries within the run, from 0 to ${MAX_RUN_COUNT} (default: 0)`, runCount)
    .option('--duration <seconds>', 'run duration in seconds (default: 0)', seconds)
    .option('--failure-reason <text>', 'why it failed')
    .option('--finished-at <iso>', 'finish time, ISO 8601 (UTC without a zone); a date alone is the start of that UTC day (default: now)')
    .option('--agent <name>', 'agent')
    .option('--model <name>', 'model')
    .action(async (opts) => {
      const finishedAt = opts.finishedAt === undefined ? undefined : new Date(dateFlag('--finished-at', opts.finishedAt, 'start'));
      const outcome = outcomeFlag(opts.outcome);
      const client = clientFrom(opts);
      try {
        // Omitted flags are undefined here and take their proto3 defaults.
        const req = {
          runId: opts.runId,
          decisionId: opts.decisionId,
          templateId: opts.template,
          taskClass: opts.taskClass,
          repo: opts.repo,
          taskId: opts.taskId,
          attempt: opts.attempt,
          outcome,
          retries: opts.retries,
          durationSeconds: opts.duration,
          failureReason: opts.failureReason,
          finishedAt,
          agent: opts.agent,
          model: opts.model,
        };
        const res = await calling(opts.addr, () => client.observe(req));
        print(opts.json === true, completeJson('learnloop.v1.ObserveResponse', ObserveResponse.toJSON(res)), () => {
          const p = res.posterior;
          const state = res.duplicate ? 'duplicate (already recorded; nothing changed)' : 'recorded';
          const isNew = res.newTemplate ? `; ${req.templateId} is new: registered as a candidate (recommended only where named until someone registers or activates it)` : '';
          return `${state}; posterior now: expected reward ${reward(p)}, pass rate ${passRate(p)}, evidence worth ${fixed(p?.observations ?? 0, 1)} runs${isNew}`;
        });
      } finally {
        client.close();
      }
    });
}
