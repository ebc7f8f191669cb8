import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { InvalidArgument, Unavailable } from '../bandit/index.js';
import type { Config } from '../config.js';
import { LearnLoopServiceService } from '../gen/learnloop/v1/learnloop.js';
import { LearnLoop } from '../service/learnloop.js';
import { RefinementQueue } from '../service/refinement-queue.js';
import { LmdbStore } from '../store/index.js';
import { toGrpcError } from './errors.js';
import { startMetricsServer, type MetricsServer } from './metrics.js';
import { addReflection } from './reflection.js';
import {
  decideRefinementFromProto,
  decisionToProto,
  observeFromProto,
  observeToProto,
  recommendFromProto,
  refinementStatusFromProto,
  refinementToProto,
  scoresToProto,
  statusFromProto,
  templateToProto,
} from './mapping.js';

export const SERVICE_NAME = 'learnloop.v1.LearnLoopService';

export interface RunningServer {
  readonly port: number;
  readonly learnloop: LearnLoop;
  /** Port of the Prometheus /metrics endpoint, when one is configured. */
  readonly metricsPort: number | undefined;
  /** Stops taking calls, lets in-flight ones finish (up to the grace period), closes the store. */
  shutdown(): Promise<void>;
}

/** Marks a request body that did not decode, so the handler can answer INVALID_ARGUMENT. */
class Malformed {
  constructor(readonly error: unknown) {}
}

/** The generated service definition, with decoding failures turned into values instead of throws. */
function tolerantDefinition(def: typeof LearnLoopServiceService): ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(def)) {
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer) => {
        try {
          return method.requestDeserialize(buf);
        } catch (error) {
          return new Malformed(error);
        }
      },
    };
  }
  return out as ServiceDefinition;
}

type Handler<Req, Res> = (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

/**
 * Starts the gRPC server on the configured address with its store open.
 * @param config from loadConfig
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const store = await LmdbStore.open(config.dbPath, { policy: config.policy });
  const learnloop = new LearnLoop({ store, limits: config.limits });
  const refinements = new RefinementQueue(learnloop);
  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  let draining = false;
  let inFlight = 0;
  const token = config.token === '' ? null : Buffer.from(`Bearer ${config.token}`);
  const metrics: MetricsServer | null =
    config.metricsPort === 0
      ? null
      : await startMetricsServer(config.host, config.metricsPort, {
          eventLogSize: () => store.head(),
          newestObservations: () =>
            store.templates().flatMap((t) => {
              const c = store.stats([t.templateId, '', ''])?.counters;
              return c !== undefined && c.runs > 0 ? [{ templateId: t.templateId, finishedAtMs: c.lastFinishedAtMs }] : [];
            }),
          now: Date.now,
        });

  function unary<Req, Res>(rpc: string, write: boolean, handler: Handler<Req, Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const started = process.hrtime.bigint();
      const clog = log.child({ rpc });
      inFlight++;
      const finish = (err: Parameters<sendUnaryData<Res>>[0], res?: Res) => {
        inFlight--;
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        clog.debug({ code: err?.code ?? 0, ms }, 'rpc');
        metrics?.call(rpc, err?.code ?? status.OK, ms / 1000);
        callback(err, res);
      };
      (async () => {
        if (draining) throw new Unavailable('server is shutting down');
        if (write && token !== null && !authorized(call, token)) {
          return finish({ code: status.UNAUTHENTICATED, details: 'missing or wrong bearer token (metadata "authorization: Bearer <token>")' });
        }
        if (call.request instanceof Malformed) {
          throw new InvalidArgument([{ field: '', description: `request body is not a valid ${rpc}Request message` }]);
        }
        // The client gave up already (deadline or cancel): do not start work it will never see.
        if (call.cancelled) return finish({ code: status.CANCELLED, details: 'call cancelled before it was handled' });
        finish(null, await handler(call.request, call));
      })().catch((err: unknown) => finish(toGrpcError(err, clog)));
    };
  }

  const impl: UntypedServiceImplementation = {
    recommend: unary('Recommend', true, async (req: Parameters<typeof recommendFromProto>[0]) => {
      const event = await learnloop.recommend(recommendFromProto(req));
      metrics?.decision(event.decision.chosen);
      return decisionToProto(event);
    }),
    observe: unary('Observe', true, async (req: Parameters<typeof observeFromProto>[0]) => {
      const params = observeFromProto(req);
      const reply = await learnloop.observe(params);
      metrics?.observation(params.outcome, reply.applied ? 'applied' : 'duplicate');
      return observeToProto(reply);
    }),
    registerTemplate: unary(
      'RegisterTemplate',
      true,
      async (req: { templateId: string; parentTemplateId: string; status: number; description: string }) => {
        const s = statusFromProto(req.status);
        if (s === null) throw new InvalidArgument([{ field: 'status', description: `unknown enum value ${req.status}` }]);
        const { record, created } = await learnloop.registerTemplate({ ...req, status: s ?? 'active' });
        return { template: templateToProto(record), created };
      },
    ),
    listTemplates: unary('ListTemplates', false, (req: { status: number }) => {
      const s = statusFromProto(req.status);
      if (s === null) throw new InvalidArgument([{ field: 'status', description: `unknown enum value ${req.status}` }]);
      return { templates: learnloop.listTemplates(s).map(templateToProto) };
    }),
    getScores: unary('GetScores', false, (req: { taskClass: string; repo: string }) =>
      scoresToProto(req.taskClass, req.repo, learnloop.scores(req.taskClass, req.repo)),
    ),
    listRefinements: unary('ListRefinements', false, (req: { status: number }) => {
      const s = refinementStatusFromProto(req.status);
      if (s === null) throw new InvalidArgument([{ field: 'status', description: `unknown enum value ${req.status}` }]);
      return { refinements: refinements.list(s).map(refinementToProto) };
    }),
    decideRefinement: unary('DecideRefinement', true, async (req: Parameters<typeof decideRefinementFromProto>[0]) => {
      const d = decideRefinementFromProto(req);
      if (d.kind === 'invalid') throw new InvalidArgument([{ field: d.field, description: d.description }]);
      if (d.kind === 'reject') return { refinement: refinementToProto(await refinements.reject(d.params)) };
      const { record, template } = await refinements.accept(d.params);
      return { refinement: refinementToProto(record), template: templateToProto(template) };
    }),
  };

  const server = new Server({
    'grpc.max_receive_message_length': config.maxMessageBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  server.addService(tolerantDefinition(LearnLoopServiceService), impl);
  health.addToServer(server);
  // Reflection describes the health service too, so tools like grpcurl can call it.
  addReflection(server);

  const credentials =
    config.tlsCertPath === ''
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(null, [
          { cert_chain: readFileSync(config.tlsCertPath), private_key: readFileSync(config.tlsKeyPath) },
        ]);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${config.host}:${config.port}`, credentials, (err, p) => (err ? reject(err) : resolve(p))),
  ).catch(async (err: unknown) => {
    // Leave nothing open behind a failed start (the port is taken, say).
    await metrics?.close();
    await store.close();
    throw new Error(`cannot listen on ${config.host}:${config.port} (is another server using that port?): ${(err as Error).message}`);
  });
  health.setStatus('', 'SERVING');
  health.setStatus(SERVICE_NAME, 'SERVING');
  log.info(
    { host: config.host, port, db: config.dbPath, tls: config.tlsCertPath !== '', auth: token !== null, metricsPort: metrics?.port },
    'learnloop serving',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      draining = true;
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(SERVICE_NAME, 'NOT_SERVING');
      log.info({ inFlight }, 'shutting down: waiting for in-flight calls');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ inFlight }, 'grace period over: cancelling remaining calls');
          server.forceShutdown();
          resolve();
        }, config.shutdownGraceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await metrics?.close();
      await store.close();
      log.info('learnloop stopped');
    })());
  return { port, learnloop, metricsPort: metrics?.port, shutdown };
}

function authorized(call: ServerUnaryCall<unknown, unknown>, expected: Buffer): boolean {
  const given = call.metadata.get('authorization')[0];
  if (typeof given !== 'string') return false;
  const buf = Buffer.from(given);
  return buf.length === expected.length && timingSafeEqual(buf, expected);
}
