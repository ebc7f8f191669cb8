import { Server } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { LearnLoopServiceService } from '../gen/learnloop/v1/learnloop.js';
import { rmSync } from 'node:fs';
import { folderToCreate, openApp } from '../compose.js';
import type { LearnLoop } from '../service/learnloop.js';
import type { Store } from '../store/index.js';
import { authorized, callWrapper, tolerantDefinition } from './call.js';
import { handlers } from './handlers.js';
import { startDashboard, type DashboardServer } from '../dashboard/server.js';
import { learnLoopSource } from '../dashboard/source.js';
import type { RemediationRules } from '../reports/index.js';
import { createMetrics, startMetricsServer, type Metrics, type MetricsServer, type MetricsSource } from './metrics.js';
import { addReflection } from './reflection.js';
import { assertDashboardGuarded, listenError, serverCredentials, StartupError } from './startup.js';
import { FolderInUse, UnusableStore } from '../store/index.js';

export const SERVICE_NAME = 'learnloop.v1.LearnLoopService';

export interface RunningServer {
  readonly port: number;
  readonly learnloop: LearnLoop;
  readonly store: Store;
  /** Port of the Prometheus /metrics endpoint, when one is configured. */
  readonly metricsPort: number | undefined;
  /** Port of the dashboard's HTTP server, when one is configured. */
  readonly httpPort: number | undefined;
  /** Stops taking calls, lets in-flight ones finish (up to the grace period), closes the store. */
  shutdown(): Promise<void>;
}

export interface ServerExtras {
  /** Remediation rules for the dashboard's failure view (the command line reads the rules file). */
  readonly rules?: RemediationRules;
}

/**
 * Starts the gRPC server on the configured address with its store open, and the dashboard beside
 * it when config.httpPort is set.
 * @param config from loadConfig
 */
export async function startServer(config: Config, log: Logger, extras: ServerExtras = {}): Promise<RunningServer> {
  // Checked before anything opens, so a bad key or certificate leaves nothing behind.
  const credentials = serverCredentials(config.tlsCertPath, config.tlsKeyPath);
  if (config.httpPort !== 0) assertDashboardGuarded(config.host, config.token);
  // Nothing is written to the store until every port is bound (a start that fails writes nothing),
  // and a folder this start creates is removed if it fails: a failed start leaves no new store.
  const created = folderToCreate(config.dbPath);
  const { store, learnloop, refinements } = await openApp(config, { deferWrites: true }).catch((err: unknown) => {
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw err instanceof FolderInUse ? new StartupError(err.message) : err instanceof UnusableStore ? new StartupError(`--db ${err.message}`) : err;
  });
  let metricsServer: MetricsServer | null = null;
  let server: Server | undefined;
  let dashboard: DashboardServer | null = null;
  const abandon = async (err: unknown): Promise<never> => {
    server?.forceShutdown();
    await dashboard?.close();
    await metricsServer?.close();
    await store.close();
    if (created !== undefined) rmSync(created, { recursive: true, force: true });
    throw err;
  };
  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  // Calls can arrive once the port is bound; until the store is prepared (a fresh database has no
  // tables yet) they are refused UNAVAILABLE, as while draining.
  let prepared = false;
  let serving = false;
  let markPrepared = () => {};
  const storePrepared = new Promise<void>((resolve) => (markPrepared = resolve));
  let draining = false;
  const inFlight = { count: 0 };
  const bearer = (t: string) => (t === '' ? null : Buffer.from(`Bearer ${t}`));
  const token = bearer(config.token);
  const readToken = bearer(config.readToken);
  const metricsSource: MetricsSource = {
    eventLogSize: () => store.head(),
    // Two reads a scrape however many templates are registered: the whole-log segment holds one stats record per template with runs.
    newestObservations: async () => {
      const live = new Set((await store.templates()).filter((t) => t.status !== 'retired').map((t) => t.templateId));
      return (await store.statsForSegment('', ''))
        .filter(({ templateId, stats }) => live.has(templateId) && stats.counters.runs > 0)
        .map(({ templateId, stats: { counters } }) => ({ templateId, runs: counters.runs, finishedAtMs: counters.lastFinishedAtMs }));
    },
    serving: () => serving,
    now: Date.now,
  };
  metricsServer = config.metricsPort === 0 ? null : await startMetricsServer(config.host, config.metricsPort, metricsSource).catch(abandon);
  // The dashboard serves /metrics too, from the same registry (or its own when there is no metrics port).
  const ownMetrics = metricsServer === null && config.httpPort !== 0 ? createMetrics(metricsSource) : null;
  const metrics: Metrics | null = metricsServer ?? ownMetrics?.metrics ?? null;
  const registry = metricsServer?.registry ?? ownMetrics?.registry;

  const unary = callWrapper({ log, metrics, writeToken: token, readToken, refusing: () => (draining ? 'server is shutting down' : prepared ? undefined : 'server is starting'), inFlight });
  // Failure reasons may quote secrets or paths: with auth on but reads open, only token holders see them.
  const mayReadFailureText = (call: Parameters<typeof authorized>[0]) => token === null || readToken !== null || authorized(call, token);
  const impl = handlers(unary, { learnloop, refinements, metrics, mayReadFailureText });

  server = new Server({
    'grpc.max_receive_message_length': config.maxMessageBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  server.addService(tolerantDefinition(LearnLoopServiceService), impl);
  health.addToServer(server);
  // Reflection describes the health service too, so tools like grpcurl can call it.
  addReflection(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${config.host}:${config.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  ).catch((err: unknown) => abandon(listenError('listen', config.host, config.port, err)));
  // The dashboard binds before the store is prepared too, and answers 'server is starting' until it is.
  if (config.httpPort !== 0) {
    dashboard = await startDashboard({
      ...learnLoopSource({ store, learnloop, refinements }),
      rules: extras.rules ?? { version: 1, rules: [] },
      host: config.host,
      port: config.httpPort,
      token: config.token,
      log,
      ready: storePrepared,
      ...(registry === undefined ? {} : { metrics: registry }),
    }).catch((err: unknown) => abandon(listenError('serve the dashboard', config.host, config.httpPort, err)));
  }
  // Every port bound and every check passed: now the store may write (initialise, migrate, rebuild, register).
  await store.prepare?.().catch((err: unknown) => abandon(err instanceof FolderInUse ? new StartupError(err.message) : err));
  prepared = true;
  markPrepared();
  const setHealth = (status: 'SERVING' | 'NOT_SERVING') => {
    serving = status === 'SERVING';
    health.setStatus('', status);
    health.setStatus(SERVICE_NAME, status);
  };
  setHealth('SERVING');
  const probe = store.healthProblem === undefined ? undefined : watchStore(store.healthProblem.bind(store), (problem) => {
    if (draining) return;
    if (problem === undefined) log.info({ db: store.location }, 'store can serve again: health SERVING');
    else log.warn({ db: store.location, problem }, 'store cannot serve: health NOT_SERVING until it can');
    setHealth(problem === undefined ? 'SERVING' : 'NOT_SERVING');
  });
  log.info(
    { host: config.host, port, db: store.location, tls: config.tlsCertPath !== '', auth: token !== null, readAuth: readToken !== null, metricsPort: metricsServer?.port, httpPort: dashboard?.port },
    'learnloop serving',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      draining = true;
      probe?.stop();
      setHealth('NOT_SERVING');
      log.info({ inFlight: inFlight.count }, 'shutting down: waiting for in-flight calls');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ inFlight: inFlight.count }, 'grace period over: cancelling remaining calls');
          server.forceShutdown();
          resolve();
        }, config.shutdownGraceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await dashboard?.close();
      await metricsServer?.close();
      await store.close();
      log.info('learnloop stopped');
    })());
  return { port, learnloop, store, metricsPort: metricsServer?.port, httpPort: dashboard?.port, shutdown };
}

/** How often a store behind a network is asked whether it answers. */
const STORE_PROBE_MS = 1000;

/** Asks `healthProblem` every STORE_PROBE_MS (one at a time) and reports each change between none and some. */
function watchStore(healthProblem: () => Promise<string | undefined>, changed: (problem: string | undefined) => void): { stop(): void } {
  let up = true;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    const problem = await healthProblem().catch((e: unknown) => String(e));
    if (stopped) return;
    if ((problem === undefined) !== up) {
      up = problem === undefined;
      changed(problem);
    }
    timer = setTimeout(tick, STORE_PROBE_MS).unref();
  };
  timer = setTimeout(tick, STORE_PROBE_MS).unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
