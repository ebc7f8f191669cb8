/**
 * One load-generator process: keeps `inFlight` unary gRPC calls open on one HTTP/2 connection for
 * the run's duration, sending prepared frames, and checks each call's grpc-status. Raw node:http2
 * rather than a grpc-js client: no per-call serialisation or channel machinery to slow it down.
 * Reads its WorkerConfig from the JSON file named by argv[2]; prints a WorkerResult as JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import type { PatchedBody } from './frames.js';

export interface WorkerConfig {
  readonly target: string; // http://host:port
  readonly path: string;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Framed bodies (base64), sent in turn; or one patched body for a fresh id per call. */
  readonly bodies?: readonly string[];
  readonly patched?: PatchedBody;
  /** Distinguishes this worker's ids from every other worker's and run's. */
  readonly idPrefix: string;
  /** Where in the body list this worker starts, so workers do not send the same sequence. */
  readonly startIndex: number;
}

export interface WorkerResult {
  readonly calls: number;
  readonly errors: number;
  readonly statuses: Record<string, number>;
  readonly seconds: number;
  /** Latency of every call finished inside the measured window, in microseconds. */
  readonly latenciesUs: number[];
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = constants;

async function main(): Promise<void> {
  const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as WorkerConfig;
  const session = connect(cfg.target);
  session.on('error', (err) => {
    process.stderr.write(`gen-worker: session error ${String(err)}\n`);
    process.exit(1);
  });
  await new Promise<void>((resolve) => session.once('connect', () => resolve()));
  const headers = {
    [HTTP2_HEADER_METHOD]: 'POST',
    [HTTP2_HEADER_PATH]: cfg.path,
    [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    [HTTP2_HEADER_TE]: 'trailers',
  };
  const bodies = (cfg.bodies ?? []).map((b) => Buffer.from(b, 'base64'));
  const template = cfg.patched ? Buffer.from(cfg.patched.body, 'base64') : null;
  let next = cfg.startIndex;
  let counter = 0;
  const body = (): Buffer => {
    if (template !== null) {
      const b = Buffer.from(template);
      const id = `${cfg.idPrefix}${(counter++).toString(36)}`;
      if (id.length > cfg.patched!.width) throw new Error('id longer than its placeholder');
      b.write(id.padEnd(cfg.patched!.width, '.'), cfg.patched!.offset, 'latin1');
      return b;
    }
    return bodies[next++ % bodies.length]!;
  };

  const start = performance.now();
  const measureFrom = start + cfg.warmupMs;
  const end = measureFrom + cfg.durationMs;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let calls = 0;
  let errors = 0;

  await new Promise<void>((resolve) => {
    let open = 0;
    const launch = () => {
      if (performance.now() >= end) {
        if (open === 0) resolve();
        return;
      }
      open++;
      const t0 = performance.now();
      const stream = session.request(headers);
      let grpcStatus: string | undefined;
      stream.on('response', (h) => {
        // Trailers-only responses (most errors) carry grpc-status in the headers.
        if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      });
      stream.on('trailers', (t) => {
        if (t['grpc-status'] !== undefined) grpcStatus = String(t['grpc-status']);
      });
      stream.on('data', () => {});
      stream.on('error', () => {});
      stream.on('close', () => {
        open--;
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) {
          const s = grpcStatus ?? `http-${stream.rstCode}`;
          statuses[s] = (statuses[s] ?? 0) + 1;
          calls++;
          if (s !== '0') errors++;
          latencies.push(Math.round((t1 - t0) * 1000));
        }
        launch();
      });
      stream.end(body());
    };
    for (let i = 0; i < cfg.inFlight; i++) launch();
  });
  session.close();
  const result: WorkerResult = { calls, errors, statuses, seconds: cfg.durationMs / 1000, latenciesUs: latencies };
  process.stdout.write(JSON.stringify(result));
}

main().catch((err: unknown) => {
  process.stderr.write(`gen-worker: ${String(err)}\n`);
  process.exit(1);
});
