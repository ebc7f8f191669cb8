/**
 * A read flood beside Observe load (issue 10): Observe alone, then the same Observe load while
 * eight clients loop GetScores on a folder with many segments. Reads must not starve writes:
 * the target is Observe p99 under the flood within 2x of its unloaded p99.
 */
import { createClient } from '../../src/client.js';
import { GetScoresRequest } from '../../src/gen/learnloop/v1/learnloop.js';
import { grpcFrame, type PatchedBody } from './frames.js';
import { runNode, type LoadPoint, type LoadSpec } from './generator.js';
import type { LearnLoopProcess } from './servers.js';

const OBSERVE_PATH = '/learnloop.v1.LearnLoopService/Observe';
const GET_SCORES_PATH = '/learnloop.v1.LearnLoopService/GetScores';
export const READ_FLOOD_CLIENTS = 8;

export interface ReadFloodResult {
  readonly observeInFlight: number;
  readonly readers: number;
  readonly unloaded: LoadPoint;
  readonly loaded: LoadPoint;
  readonly getScores: LoadPoint;
  /** The first GetScores of each segment, before the measurement (the first reads the whole log). */
  readonly primeMs: number;
  /** Observe p99 under the flood over Observe p99 alone. */
  readonly p99Ratio: number;
  readonly target: string;
}

/**
 * @param server a learnloop serving the folder to measure
 * @param observe the Observe body (run id patched per call)
 * @param segments GetScores segments the readers cycle through ('' widens, as a dashboard asks)
 */
export async function readFlood(
  server: LearnLoopProcess,
  observe: PatchedBody,
  segments: ReadonlyArray<{ taskClass: string; repo: string }>,
  timing: Pick<LoadSpec, 'warmupMs' | 'durationMs'>,
  observeInFlight = 4,
): Promise<ReadFloodResult> {
  const observeSpec = (idPrefix: string): LoadSpec => ({ port: server.port, path: OBSERVE_PATH, inFlight: observeInFlight, patched: observe, idPrefix, ...timing });
  // The server's first GetScores reads the whole log once (seconds at 100,000 runs; sliced, so writes
  // keep running); that is start-up, not the steady state this point measures.
  const client = createClient(`127.0.0.1:${server.port}`, { deadlineMs: 120_000 });
  const primeStarted = Date.now();
  try {
    for (const s of segments) await client.getScores(s);
  } finally {
    client.close();
  }
  const primeMs = Date.now() - primeStarted;
  const unloaded = await runNode(observeSpec('flood-alone-'), 1);
  const bodies = segments.map((s) => grpcFrame(GetScoresRequest.encode(GetScoresRequest.fromPartial(s)).finish()));
  // Eight clients, one call each in flight, looping for the whole Observe run (warm-up included).
  const [loaded, getScores] = await Promise.all([
    runNode(observeSpec('flood-loaded-'), 1),
    runNode({ port: server.port, path: GET_SCORES_PATH, inFlight: READ_FLOOD_CLIENTS, bodies, ...timing }, 2),
  ]);
  return {
    observeInFlight,
    readers: READ_FLOOD_CLIENTS,
    unloaded,
    loaded,
    getScores,
    primeMs,
    p99Ratio: loaded.p99Ms / unloaded.p99Ms,
    target: 'Observe p99 under 8 GetScores loopers <= 2x Observe p99 alone',
  };
}

