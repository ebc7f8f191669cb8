/** The single mapping from domain errors to gRPC statuses (docs/errors.md is the catalog). */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ERROR_CODES, InvalidArgument, LearnLoopError, type ErrorCode } from '../bandit/index.js';
import { Any } from '../gen/google/protobuf/any.js';
import { BadRequest, ErrorInfo } from '../gen/google/rpc/error_details.js';
import { Status } from '../gen/google/rpc/status.js';

export const STATUS_BY_CODE: Record<ErrorCode, status> = {
  [ERROR_CODES.invalidArgument]: status.INVALID_ARGUMENT,
  [ERROR_CODES.decisionNotFound]: status.NOT_FOUND,
  [ERROR_CODES.observationConflict]: status.ALREADY_EXISTS,
  [ERROR_CODES.templateConflict]: status.ALREADY_EXISTS,
  [ERROR_CODES.noCandidates]: status.FAILED_PRECONDITION,
  [ERROR_CODES.unavailable]: status.UNAVAILABLE,
  [ERROR_CODES.invariantViolation]: status.INTERNAL,
  [ERROR_CODES.refinementNotFound]: status.NOT_FOUND,
  [ERROR_CODES.refinementNotOpen]: status.FAILED_PRECONDITION,
  [ERROR_CODES.requestConflict]: status.ALREADY_EXISTS,
  [ERROR_CODES.templateNotFound]: status.NOT_FOUND,
  [ERROR_CODES.templateLimit]: status.RESOURCE_EXHAUSTED,
  [ERROR_CODES.storageFull]: status.RESOURCE_EXHAUSTED,
};

const GENERIC_MESSAGE = 'internal error';

/** The status of a call that succeeded. */
export const OK = status.OK;

/** A write call without the right bearer token. */
export function unauthenticatedError(): Partial<ServiceError> {
  return { code: status.UNAUTHENTICATED, details: 'missing or wrong bearer token (metadata "authorization: Bearer <token>")' };
}

/** A call the client cancelled (or let time out) before the server began it. */
export function cancelledError(): Partial<ServiceError> {
  return { code: status.CANCELLED, details: 'call cancelled before it was handled' };
}

// Status, message and details travel in HTTP/2 trailers, which clients cap (grpc-js: 8 KB of
// metadata); an answer past the cap never arrives and the call hangs until its deadline. Bad ids
// are quoted in messages and may be multi-byte (9 bytes each once percent-encoded), so both the
// message and the field violations are cut to sizes that fit whatever they hold.
const MAX_MESSAGE_CHARS = 200;
const MAX_VIOLATIONS = 8;
const MAX_DESCRIPTION_CHARS = 100;

/**
 * At most `max` UTF-16 units, never ending inside a surrogate pair, and no lone surrogates: grpc-js
 * percent-encodes the message with encodeURIComponent, which throws on them (an unhandled
 * rejection that would end the process).
 */
function cut(text: string, max: number): string {
  let out = text;
  if (text.length > max) {
    const end = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
    out = `${text.slice(0, end)}…`;
  }
  return out.replace(/\p{Cs}/gu, '\uFFFD');
}

function pack(typeName: string, value: Uint8Array): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(value) };
}

/**
 * Turns anything thrown by a handler into a gRPC error. Domain errors keep their message and
 * carry google.rpc.ErrorInfo (reason = LL_* code) and, for bad input, google.rpc.BadRequest in
 * grpc-status-details-bin. Anything else is logged in full and answered INTERNAL "internal error".
 */
export function toGrpcError(err: unknown, log: Logger): Partial<ServiceError> {
  if (!(err instanceof LearnLoopError)) {
    log.error({ err }, 'unhandled error in RPC');
    return { code: status.INTERNAL, details: GENERIC_MESSAGE };
  }
  const code = STATUS_BY_CODE[err.code];
  if (code === status.INTERNAL) log.error({ err }, 'invariant violated');
  const message = code === status.INTERNAL ? GENERIC_MESSAGE : cut(err.message, MAX_MESSAGE_CHARS);
  const details: Any[] = [
    pack('google.rpc.ErrorInfo', ErrorInfo.encode({ reason: err.code, domain: 'learnloop', metadata: {} }).finish()),
  ];
  if (err instanceof InvalidArgument) {
    details.push(
      pack(
        'google.rpc.BadRequest',
        BadRequest.encode({ fieldViolations: reportedViolations(err.violations) }).finish(),
      ),
    );
  }
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(Status.encode({ code, message, details }).finish()));
  return { code, details: message, metadata };
}

/** The first violations, cut to fit a trailer; the rest counted in a last entry. */
function reportedViolations(all: InvalidArgument['violations']): Array<{ field: string; description: string }> {
  const shown = all.slice(0, MAX_VIOLATIONS).map((v) => ({ field: cut(v.field, MAX_DESCRIPTION_CHARS), description: cut(v.description, MAX_DESCRIPTION_CHARS) }));
  if (all.length > MAX_VIOLATIONS) shown.push({ field: '', description: `and ${all.length - MAX_VIOLATIONS} more violations` });
  return shown;
}
