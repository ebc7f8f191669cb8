import { readFileSync } from 'node:fs';
import { credentials, Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfo } from './gen/google/rpc/error_details.js';
import { Status } from './gen/google/rpc/status.js';
import {
  DecideRefinementRequest,
  GetScoresRequest,
  LearnLoopServiceClient,
  ListRefinementsRequest,
  ListTemplatesRequest,
  ObserveRequest,
  RecommendRequest,
  RegisterTemplateRequest,
  type DecideRefinementResponse,
  type GetScoresResponse,
  type ListRefinementsResponse,
  type ListTemplatesResponse,
  type ObserveResponse,
  type RecommendResponse,
  type RegisterTemplateResponse,
} from './gen/learnloop/v1/learnloop.js';

export interface ClientOptions {
  /** Bearer token sent on every call (the server checks it on write RPCs). */
  readonly token?: string;
  /** Use TLS; `caPath` trusts a private CA or self-signed certificate (PEM). */
  readonly tls?: boolean | { readonly caPath?: string; readonly serverNameOverride?: string };
  /** Deadline for each call, in ms (default 10 s). */
  readonly deadlineMs?: number;
}

/** Requests take plain objects; omitted fields get their proto3 defaults. */
type In<T> = Partial<T>;

/** A typed learnloop client: promises in, plain objects out, no generated code to touch. */
export interface LearnLoopClient {
  recommend(req: In<RecommendRequest>): Promise<RecommendResponse>;
  observe(req: In<ObserveRequest>): Promise<ObserveResponse>;
  registerTemplate(req: In<RegisterTemplateRequest>): Promise<RegisterTemplateResponse>;
  listTemplates(req?: In<ListTemplatesRequest>): Promise<ListTemplatesResponse>;
  getScores(req?: In<GetScoresRequest>): Promise<GetScoresResponse>;
  listRefinements(req?: In<ListRefinementsRequest>): Promise<ListRefinementsResponse>;
  decideRefinement(req: In<DecideRefinementRequest>): Promise<DecideRefinementResponse>;
  close(): void;
}

/** learnloop's port when an address names none (grpc-js alone would take 443). */
export const DEFAULT_PORT = 50051;

/**
 * The address with learnloop's default port when it names none: `localhost` -> `localhost:50051`,
 * `[::1]` or `::1` -> `[::1]:50051`. Target URIs (`dns:///...`, `unix:...`) are left as they are.
 */
export function withDefaultPort(addr: string): string {
  if (addr.includes('://') || /^unix(-abstract)?:/.test(addr)) return addr;
  if (addr.startsWith('[')) return /\]:\d+$/.test(addr) ? addr : `${addr}:${DEFAULT_PORT}`;
  const colons = addr.split(':').length - 1;
  if (colons === 0) return `${addr}:${DEFAULT_PORT}`;
  if (colons > 1) return `[${addr}]:${DEFAULT_PORT}`; // a bare IPv6 address
  return addr;
}

/**
 * Connects to a learnloop server.
 * @param addr host[:port], e.g. 127.0.0.1:50051; without a port, 50051. Default: the LEARNLOOP_ADDR
 *   environment variable, else 127.0.0.1:50051 (as the command line's --addr).
 */
export function createClient(addr: string = process.env.LEARNLOOP_ADDR ?? '127.0.0.1:50051', options: ClientOptions = {}): LearnLoopClient {
  const tls = options.tls;
  const creds =
    tls === undefined || tls === false
      ? credentials.createInsecure()
      : credentials.createSsl(typeof tls === 'object' && tls.caPath ? readFileSync(tls.caPath) : null);
  const channelOptions =
    typeof tls === 'object' && tls.serverNameOverride ? { 'grpc.ssl_target_name_override': tls.serverNameOverride } : {};
  const client = new LearnLoopServiceClient(withDefaultPort(addr), creds, channelOptions);
  const deadlineMs = options.deadlineMs ?? 10_000;

  function call<Req, Res>(
    method: (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
    req: Req,
  ): Promise<Res> {
    const md = new Metadata();
    if (options.token) md.set('authorization', `Bearer ${options.token}`);
    return new Promise((resolve, reject) =>
      method.call(client, req, md, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res))),
    );
  }

  return {
    recommend: (req) => call(client.recommend, RecommendRequest.fromPartial(req)),
    observe: (req) => call(client.observe, ObserveRequest.fromPartial(req)),
    registerTemplate: (req) => call(client.registerTemplate, RegisterTemplateRequest.fromPartial(req)),
    listTemplates: (req = {}) => call(client.listTemplates, ListTemplatesRequest.fromPartial(req)),
    getScores: (req = {}) => call(client.getScores, GetScoresRequest.fromPartial(req)),
    listRefinements: (req = {}) => call(client.listRefinements, ListRefinementsRequest.fromPartial(req)),
    decideRefinement: (req) => call(client.decideRefinement, DecideRefinementRequest.fromPartial(req)),
    close: () => client.close(),
  };
}

/**
 * The catalog code (docs/errors.md, e.g. `LL_TEMPLATE_LIMIT`) a learnloop server put in an error's
 * google.rpc.ErrorInfo, so a caller can tell "fix the request" from "retry later" without parsing the
 * message; undefined for an error that carries none (a transport failure, another server).
 */
export function errorCode(err: unknown): string | undefined {
  const raw = (err as { metadata?: Metadata }).metadata?.get?.('grpc-status-details-bin')[0];
  if (!(raw instanceof Uint8Array)) return undefined;
  try {
    const info = Status.decode(raw).details.find((d) => d.typeUrl.endsWith('/google.rpc.ErrorInfo'));
    return info === undefined ? undefined : ErrorInfo.decode(info.value).reason || undefined;
  } catch {
    return undefined; // details that do not decode say nothing about the cause
  }
}
