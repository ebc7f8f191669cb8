import { createServer, type Server as HttpServer } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { StartupError } from './startup.js';

/** What the scrape-time gauges read; the service provides it. */
export interface MetricsSource {
  /** Sequence number of the newest event: the event log's length. */
  eventLogSize(): Promise<number>;
  /** Per template not retired with at least one run: its runs, and when its newest run finished (ms since the epoch). */
  newestObservations(): Promise<Array<{ templateId: string; runs: number; finishedAtMs: number }>>;
  /** Whether the gRPC health service answers SERVING for '' now. */
  serving(): boolean;
  now(): number;
}

/** The counters the gRPC layer feeds; every method is cheap enough for the hot path. */
export interface Metrics {
  /** One finished call: its RPC name, gRPC status code and duration. */
  call(rpc: string, code: number, seconds: number): void;
  /** One Observe answered: its outcome, and whether it was applied or a duplicate. */
  observation(outcome: string, result: 'applied' | 'duplicate'): void;
  /** One Recommend answered, by the template it chose. */
  decision(templateId: string): void;
}

export interface MetricsServer extends Metrics {
  readonly port: number;
  readonly registry: Registry;
  close(): Promise<void>;
}

// Latency buckets from 100 µs to 10 s: loopback Recommend sits near the bottom, fsync-bound
// Observe in the low milliseconds, and anything over a second is an incident.
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE',
  'DATA_LOSS', 'UNAUTHENTICATED',
];

/**
 * Most template label values a family carries. A series per template would make a folder of 10,000
 * registered ids a 10,000-series scrape; beyond this many, templates share one series, OTHER_TEMPLATES.
 */
export const TEMPLATE_SERIES_LIMIT = 100;
/** The template label of the shared series (a template whose id is this counts there too). */
export const OTHER_TEMPLATES = 'other';

/** Builds the metric families in their own registry, so several servers in one process do not clash. */
/**
 * A gauge's store read, undefined when the store cannot be read (a database down, a server still
 * starting): the gauge then says so, and the scrape still answers with every other family, the call
 * counters and learnloop_serving being what an operator alerts on then.
 */
async function fromStore<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

export function createMetrics(source: MetricsSource): { metrics: Metrics; registry: Registry } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'learnloop_' });
  const calls = new Counter({
    name: 'learnloop_rpc_calls_total',
    help: 'gRPC calls handled, by method and status code.',
    labelNames: ['rpc', 'code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'learnloop_rpc_duration_seconds',
    help: 'Time from a call reaching the handler to its answer, by method and status code.',
    labelNames: ['rpc', 'code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const observations = new Counter({
    name: 'learnloop_observations_total',
    help: 'Observe calls answered, by outcome and whether the run was new (applied) or a repeat (duplicate).',
    labelNames: ['outcome', 'result'] as const,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'learnloop_decisions_total',
    help: `Recommend decisions, by chosen template: the first ${TEMPLATE_SERIES_LIMIT} chosen since start, the rest as template="${OTHER_TEMPLATES}".`,
    labelNames: ['template'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'learnloop_serving',
    help: "1 while the gRPC health service answers SERVING, 0 while NOT_SERVING (starting, draining, or its store cannot serve: a database that does not answer, a folder's disk full, a replica under an old policy).",
    registers: [registry],
    collect() {
      this.set(source.serving() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'learnloop_event_log_events',
    help: 'Events in the log (sequence number of the newest), including those written by other processes. NaN while the store cannot be read.',
    registers: [registry],
    async collect() {
      this.set((await fromStore(() => source.eventLogSize())) ?? NaN);
    },
  });
  new Gauge({
    name: 'learnloop_newest_observation_age_seconds',
    help: `Seconds since the newest run of each template not retired finished: the ${TEMPLATE_SERIES_LIMIT} with the most runs, and for the rest the newest of theirs as template="${OTHER_TEMPLATES}". No samples while the store cannot be read.`,
    labelNames: ['template'] as const,
    registers: [registry],
    async collect() {
      const newest = await fromStore(() => source.newestObservations());
      // Reset first so a template whose records disappear (rebuild under a new policy) stops reporting.
      this.reset();
      if (newest === undefined) return;
      const now = source.now();
      const busiest = [...newest].sort((a, b) => b.runs - a.runs || b.finishedAtMs - a.finishedAtMs || (a.templateId < b.templateId ? -1 : 1));
      let others: number | undefined;
      for (const [i, { templateId, finishedAtMs }] of busiest.entries()) {
        if (i < TEMPLATE_SERIES_LIMIT && templateId !== OTHER_TEMPLATES) this.set({ template: templateId }, Math.max(0, (now - finishedAtMs) / 1000));
        else others = Math.max(others ?? finishedAtMs, finishedAtMs);
      }
      if (others !== undefined) this.set({ template: OTHER_TEMPLATES }, Math.max(0, (now - others) / 1000));
    },
  });
  // Counters cannot move a template from its series to another, so the first chosen keep theirs until restart.
  const chosen = new Set<string>();
  const templateLabel = (templateId: string): string => {
    if (templateId !== OTHER_TEMPLATES && chosen.size < TEMPLATE_SERIES_LIMIT) chosen.add(templateId);
    return chosen.has(templateId) ? templateId : OTHER_TEMPLATES;
  };
  const metrics: Metrics = {
    call(rpc, code, seconds) {
      const labels = { rpc, code: CODE_NAMES[code] ?? String(code) };
      calls.inc(labels);
      latency.observe(labels, seconds);
    },
    observation(outcome, result) {
      observations.inc({ outcome, result });
    },
    decision(templateId) {
      decisions.inc({ template: templateLabel(templateId) });
    },
  };
  return { metrics, registry };
}

/**
 * Serves GET /metrics (Prometheus text format) on its own HTTP port, apart from gRPC.
 * @param port 0 picks a free one (tests); the caller decides whether metrics are on at all.
 */
export async function startMetricsServer(host: string, port: number, source: MetricsSource): Promise<MetricsServer> {
  const { metrics, registry } = createMetrics(source);
  const http: HttpServer = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  const bound = await new Promise<number>((resolve, reject) => {
    const refuse = (err: NodeJS.ErrnoException) =>
      reject(new StartupError(`--metrics-port: cannot listen on ${host}:${port}${err.code === 'EADDRINUSE' ? ' (is another process using that port?)' : ''}: ${err.code ?? err.message}`));
    http.once('error', refuse);
    http.listen(port, host, () => {
      http.off('error', refuse);
      const addr = http.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });
  return {
    ...metrics,
    port: bound,
    registry,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
