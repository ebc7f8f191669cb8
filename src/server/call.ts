/**
 * The call wrapper every RPC goes through: refuses calls while starting or draining, checks the bearer token on
 * writes (and on reads when they are protected), turns undecodable bodies into INVALID_ARGUMENT, skips calls the client gave up on, and
 * logs, measures and maps errors once for all handlers.
 */
import { timingSafeEqual } from 'node:crypto';
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { InvalidArgument, Unavailable } from '../bandit/index.js';
import type { LearnLoopServiceService } from '../gen/learnloop/v1/learnloop.js';
import { cancelledError, OK, toGrpcError, unauthenticatedError } from './errors.js';
import { decodeRequest } from './mapping.js';
import type { Metrics } from './metrics.js';

/** Marks a request body that did not decode, so the wrapper can answer INVALID_ARGUMENT. */
class Malformed {
  constructor(readonly error: unknown) {}
}

/**
 * The generated service definition, decoding strictly (strings must be UTF-8) and with decoding
 * failures turned into values instead of throws.
 */
export function tolerantDefinition(def: typeof LearnLoopServiceService): ServiceDefinition {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(def)) {
    const rpc = method.path.slice(method.path.lastIndexOf('/') + 1);
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer) => {
        try {
          return decodeRequest(rpc, buf);
        } catch (error) {
          return new Malformed(error);
        }
      },
    };
  }
  return out as ServiceDefinition;
}

export type Handler<Req, Res> = (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

/** What the wrapper needs from the server around it. */
export interface CallContext {
  readonly log: Logger;
  readonly metrics: Metrics | null;
  /** `Bearer <token>` that write calls must present, or null when writes are open. */
  readonly writeToken: Buffer | null;
  /** `Bearer <token>` that read calls must present, or null when reads are open. */
  readonly readToken: Buffer | null;
  /** Why new calls are refused now ('server is starting': the store is not prepared yet; 'server is shutting down'), or undefined. */
  refusing(): string | undefined;
  /** Counts calls in flight (for the shutdown log). */
  readonly inFlight: { count: number };
}

/** Wraps a typed handler into a grpc-js unary handler. */
export type Unary = <Req, Res>(rpc: string, write: boolean, handler: Handler<Req, Res>) => handleUnaryCall<Req, Res>;

/** Longest a read waits for the writes in flight when it arrived (writes stuck on a failing disk must not stop reads). */
const READ_WAITS_FOR_WRITES_MS = 100;

/**
 * Writes first: a read starts once the writes in flight when it arrived have answered (or after
 * READ_WAITS_FOR_WRITES_MS), never waiting for later ones. A write takes many event-loop turns (plan,
 * commit, flush, the reply's posterior); a flood of reads queued between those turns stretched each
 * of them (issue 10: Observe p99 4x beside eight GetScores loopers). Reads are delayed by at most
 * one write's time, and a read flood is paced by the writes instead of crowding them out.
 */
export class WritesFirst {
  private readonly writes = new Set<Promise<unknown>>();

  /** Runs a write, noting it in flight until it settles. */
  write<T>(run: () => Promise<T>): Promise<T> {
    const p = run();
    const noted = p.then(
      () => undefined,
      () => undefined,
    );
    this.writes.add(noted);
    void noted.then(() => this.writes.delete(noted));
    return p;
  }

  /** Resolves once every write in flight now has settled, or after READ_WAITS_FOR_WRITES_MS. */
  async quiet(): Promise<void> {
    if (this.writes.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.writes]), new Promise((resolve) => (timer = setTimeout(resolve, READ_WAITS_FOR_WRITES_MS)))]);
    clearTimeout(timer);
  }
}

export function callWrapper(ctx: CallContext): Unary {
  const gate = new WritesFirst();
  return <Req, Res>(rpc: string, write: boolean, handler: Handler<Req, Res>): handleUnaryCall<Req, Res> =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const started = process.hrtime.bigint();
      const clog = ctx.log.child({ rpc });
      ctx.inFlight.count++;
      const finish = (err: Parameters<sendUnaryData<Res>>[0], res?: Res) => {
        ctx.inFlight.count--;
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        clog.debug({ code: err?.code ?? OK, ms }, 'rpc');
        ctx.metrics?.call(rpc, err?.code ?? OK, ms / 1000);
        callback(err, res);
      };
      (async () => {
        const refusal = ctx.refusing();
        if (refusal !== undefined) throw new Unavailable(refusal);
        const token = write ? ctx.writeToken : ctx.readToken;
        if (token !== null && !authorized(call, token)) return finish(unauthenticatedError());
        const request = call.request as unknown;
        if (request instanceof Malformed) {
          // A string that is not UTF-8 is named; anything else the decoder refused is the whole body.
          if (request.error instanceof InvalidArgument) throw request.error;
          throw new InvalidArgument([{ field: '', description: `request body is not a valid ${rpc}Request message` }]);
        }
        if (!write) await gate.quiet();
        // The client gave up already (deadline or cancel): do not start work it will never see.
        if (call.cancelled) return finish(cancelledError());
        finish(null, await (write ? gate.write(async () => handler(call.request, call)) : handler(call.request, call)));
      })().catch((err: unknown) => finish(toGrpcError(err, clog)));
    };
}

/** True when the call carries `expected` (`Bearer <token>`) in its authorization metadata. */
export function authorized(call: ServerUnaryCall<unknown, unknown>, expected: Buffer): boolean {
  const given = call.metadata.get('authorization')[0];
  if (typeof given !== 'string') return false;
  const buf = Buffer.from(given);
  return buf.length === expected.length && timingSafeEqual(buf, expected);
}
