import type { ServiceError } from '@grpc/grpc-js';
import { BadRequest } from '../../src/gen/google/rpc/error_details.js';
import { Status } from '../../src/gen/google/rpc/status.js';

/** The error a call fails with (the test fails if it succeeds). */
export async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** The field violations in the BadRequest detail of an INVALID_ARGUMENT error. */
export function violations(err: ServiceError): Array<{ field: string; description: string }> {
  const raw = err.metadata.get('grpc-status-details-bin')[0] as Buffer;
  const st = Status.decode(raw);
  const bad = st.details.find((d) => d.typeUrl.endsWith('google.rpc.BadRequest'));
  return bad ? BadRequest.decode(bad.value).fieldViolations.map(({ field, description }) => ({ field, description })) : [];
}

/** The field paths in the BadRequest detail of an INVALID_ARGUMENT error. */
export function violatedFields(err: ServiceError): string[] {
  return violations(err).map((v) => v.field);
}
