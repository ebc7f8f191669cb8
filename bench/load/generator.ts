import { execFile, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { PatchedBody } from './frames.js';
import type { WorkerConfig, WorkerResult } from './gen-worker.js';

export interface LoadPoint {
  readonly generator: 'node' | 'h2load';
  readonly inFlight: number;
  readonly calls: number;
  readonly errors: number;
  readonly callsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Mean latency: with calls in flight fixed, calls/s × mean ≈ in flight (Little's law), a check on both. */
  readonly meanMs: number;
  readonly statuses: Record<string, number>;
}

export interface LoadSpec {
  readonly port: number;
  /** Replicas to spread the workers over (worker w calls ports[w % n]); `port` alone when absent. */
  readonly ports?: readonly number[];
  readonly path: string;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly bodies?: readonly Buffer[];
  readonly patched?: PatchedBody;
  readonly idPrefix?: string;
}

const WORKER = join(fileURLToPath(new URL('.', import.meta.url)), 'gen-worker.js');

/** Quantile of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Node generator: `workers` processes (one HTTP/2 connection each) share the calls in flight.
 * Two processes by default: one can push ~2× what one grpc-js server core answers.
 */
export async function runNode(spec: LoadSpec, workers = Math.min(2, spec.inFlight)): Promise<LoadPoint> {
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const inFlight = Math.floor(spec.inFlight / workers) + (w < spec.inFlight % workers ? 1 : 0);
      const cfg: WorkerConfig = {
        target: `http://127.0.0.1:${spec.ports ? spec.ports[w % spec.ports.length] : spec.port}`,
        path: spec.path,
        inFlight,
        warmupMs: spec.warmupMs,
        durationMs: spec.durationMs,
        ...(spec.bodies ? { bodies: spec.bodies.map((b) => b.toString('base64')) } : {}),
        ...(spec.patched ? { patched: spec.patched } : {}),
        idPrefix: `${spec.idPrefix ?? 'r'}${w.toString(36)}-`,
        startIndex: w * 7919,
      };
      return new Promise<WorkerResult>((resolve, reject) => {
        // Through a file: a few thousand bodies overflow the argument list.
        const cfgFile = join(tmpdir(), `learnloop-gen-${process.pid}-${w}-${Date.now()}.json`);
        writeFileSync(cfgFile, JSON.stringify(cfg));
        const child = spawn(process.execPath, [WORKER, cfgFile], { stdio: ['ignore', 'pipe', 'inherit'] });
        child.on('exit', () => rmSync(cfgFile, { force: true }));
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as WorkerResult) : reject(new Error(`gen-worker exited ${code}`))));
      });
    }),
  );
  const latencies = results.flatMap((r) => r.latenciesUs).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const calls = results.reduce((s, r) => s + r.calls, 0);
  return {
    generator: 'node',
    inFlight: spec.inFlight,
    calls,
    errors: results.reduce((s, r) => s + r.errors, 0),
    callsPerSec: calls / (spec.durationMs / 1000),
    p50Ms: quantile(latencies, 0.5) / 1000,
    p99Ms: quantile(latencies, 0.99) / 1000,
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length) / 1000,
    statuses,
  };
}

/**
 * h2load (nghttp2) posting one prepared frame. h2load sees only HTTP status (always 200 for
 * gRPC); the grpc-status of its calls is checked by the caller (server-side counts).
 * Latencies come from h2load's per-request log (--log-file), restricted to the measured window.
 */
export async function runH2load(spec: LoadSpec, scratch: string): Promise<LoadPoint> {
  const body = spec.bodies?.[0];
  if (body === undefined || spec.bodies!.length !== 1) throw new Error('h2load sends one fixed body');
  const bodyFile = join(scratch, 'h2load-body.bin');
  const logFile = join(scratch, 'h2load-log.tsv');
  writeFileSync(bodyFile, body);
  const clients = Math.min(2, spec.inFlight);
  const common = [
    `http://127.0.0.1:${spec.port}${spec.path}`,
    '-d', bodyFile,
    '-H', 'content-type: application/grpc',
    '-H', 'te: trailers',
    '-c', String(clients),
    '-m', String(Math.ceil(spec.inFlight / clients)),
    '-t', '1',
  ];
  const h2load = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('h2load', args, { maxBuffer: 1 << 24 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))),
    );
  // Warm-up is a separate h2load call, so the latency log holds only the measured calls.
  await h2load([...common, '-D', `${spec.warmupMs}ms`]);
  // h2load appends to its log file: start from an empty one so only this point's calls count.
  rmSync(logFile, { force: true });
  const stdout = await h2load([...common, '-D', `${spec.durationMs}ms`, '--log-file', logFile]);
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  if (m === null) throw new Error(`unexpected h2load output:\n${stdout}`);
  const done = Number(m[3]);
  const succeeded = Number(m[4]);
  const { readFileSync } = await import('node:fs');
  const latencies = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(l.split('\t')[2]))
    .sort((a, b) => a - b);
  return {
    generator: 'h2load',
    inFlight: clients * Math.ceil(spec.inFlight / clients),
    calls: done,
    errors: done - succeeded,
    callsPerSec: done / (spec.durationMs / 1000),
    p50Ms: quantile(latencies, 0.5) / 1000,
    p99Ms: quantile(latencies, 0.99) / 1000,
    meanMs: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length) / 1000,
    statuses: { [`http-2xx`]: succeeded },
  };
}
