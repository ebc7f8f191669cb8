/** Path of the echo server's one method (the ceiling). */
export const ECHO_PATH = '/bench.v1.Echo/Echo';

/** gRPC length-prefixed message framing: 1 byte compressed flag (0) + 4-byte big-endian length + message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** A framed body with a fixed-width placeholder whose bytes each call overwrites (distinct run ids). */
export interface PatchedBody {
  readonly body: string; // base64
  readonly offset: number;
  readonly width: number;
}

/** Finds `placeholder` inside a framed body so a worker can overwrite it per call. */
export function patchable(framed: Buffer, placeholder: string): PatchedBody {
  const offset = framed.indexOf(Buffer.from(placeholder, 'latin1'));
  if (offset < 0) throw new Error(`placeholder ${placeholder} not in the encoded message`);
  return { body: framed.toString('base64'), offset, width: placeholder.length };
}
