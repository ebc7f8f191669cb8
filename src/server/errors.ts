/** The single mapping from domain errors to gRPC statuses (docs/errors.md is the catalog). */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ERROR_CODES, InvalidArgument, LearnLoopError, violationText, type ErrorCode } from '../bandit/index.js';
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
// are quoted in messages and may be multi-byte (9 bytes each once percent-encoded), so the message
// and each field violation are bounded in UTF-8 bytes (what 200 and 100 characters of 3 bytes take,
// the budget these caps had when they counted characters). Quoted values are shortened first, so a
// long id never crowds out the sentence around it, the field names or the other value.
const MAX_MESSAGE_BYTES = 600;
const MAX_VIOLATIONS = 8;
const MAX_DESCRIPTION_BYTES = 300;
const MAX_VALUE_BYTES = 48;

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * At most `maxBytes` of UTF-8 ending in "…" when cut, never inside a character, and no lone
 * surrogates: grpc-js percent-encodes the message with encodeURIComponent, which throws on them
 * (an unhandled rejection that would end the process).
 */
function cutBytes(text: string, maxBytes: number): string {
  const clean = text.replace(/\p{Cs}/gu, '\uFFFD');
  if (utf8Bytes(clean) <= maxBytes) return clean;
  let out = '';
  let bytes = 0;
  for (const ch of clean) {
    const n = utf8Bytes(ch);
    if (bytes + n > maxBytes - 3) break; // "…" is 3 bytes
    out += ch;
    bytes += n;
  }
  return `${out}…`;
}

/** Every JSON-quoted value in `text` longer than MAX_VALUE_BYTES cut to it, still quoted. */
function shortenValues(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => {
    if (utf8Bytes(quoted) <= MAX_VALUE_BYTES + 2) return quoted;
    try {
      return JSON.stringify(cutBytes(JSON.parse(quoted) as string, MAX_VALUE_BYTES));
    } catch {
      return quoted; // quotes in prose, not a JSON string: the cut of the whole bounds it
    }
  });
}

/** A message or description within `maxBytes`: quoted values shortened, then cut if still too long. */
function fit(text: string, maxBytes: number): string {
  return cutBytes(shortenValues(text), maxBytes);
}

/** Bad input as one message: whole violations while they fit, then how many more there are. */
function invalidArgumentMessage(violations: InvalidArgument['violations']): string {
  const parts = violations.map((v) => shortenValues(violationText(v)));
  const withTail = (n: number) => {
    const rest = parts.length - n;
    return [...parts.slice(0, n), ...(rest > 0 ? [`and ${rest} more violation${rest === 1 ? '' : 's'}`] : [])].join('; ');
  };
  let shown = 0;
  while (shown < parts.length && utf8Bytes(withTail(shown + 1)) <= MAX_MESSAGE_BYTES) shown++;
  return shown === 0 ? cutBytes(withTail(parts.length), MAX_MESSAGE_BYTES) : withTail(shown);
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
  const message = code === status.INTERNAL ? GENERIC_MESSAGE : err instanceof InvalidArgument ? invalidArgumentMessage(err.violations) : fit(err.message, MAX_MESSAGE_BYTES);
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
  const shown = all.slice(0, MAX_VIOLATIONS).map((v) => ({ field: fit(v.field, MAX_DESCRIPTION_BYTES), description: fit(v.description, MAX_DESCRIPTION_BYTES) }));
  if (all.length > MAX_VIOLATIONS) shown.push({ field: '', description: `and ${all.length - MAX_VIOLATIONS} more violations` });
  return shown;
}
