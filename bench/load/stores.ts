/**
 * The store comparison: Recommend and Observe on LMDB and on PostgreSQL in the same run, with one
 * replica and with two on the same data (two processes on one folder; two on one database). Each
 * point runs the Node generator with its calls split evenly over the replicas.
 */
import { join } from 'node:path';
import pg from 'pg';
import { startPgCluster } from '../pg-cluster.js';
import { runNode, type LoadPoint, type LoadSpec } from './generator.js';
import type { PatchedBody } from './frames.js';
import { seedObservations } from './seed.js';
import { startLearnLoop } from './servers.js';

export interface StoreScenario {
  readonly scratch: string;
  readonly candidates: readonly string[];
  readonly recommendPath: string;
  readonly observePath: string;
  readonly recommendBody: Buffer;
  readonly observeBody: PatchedBody;
  readonly inFlight: number;
  readonly spec: (port: number, path: string, inFlight: number, extra?: Partial<LoadSpec>) => LoadSpec;
  readonly log: (msg: string) => void;
  readonly add: (server: string, p: LoadPoint) => void;
}

export interface StorePoint {
  readonly store: 'lmdb' | 'postgres';
  readonly replicas: number;
  readonly rpc: 'recommend' | 'observe';
  readonly callsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** Runs the comparison; PostgreSQL runs in a throwaway cluster with fsync on (commits as durable as LMDB's). */
export async function compareStores(s: StoreScenario): Promise<{ points: StorePoint[]; postgres: string }> {
  const cluster = await startPgCluster({ fsync: true });
  const points: StorePoint[] = [];
  try {
    const admin = new pg.Client(cluster.url);
    // Stopping the cluster ends this session: an 'error' event nobody listens to would end the run.
    admin.on('error', () => {});
    await admin.connect();
    const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    for (const store of ['lmdb', 'postgres'] as const) {
      let db = join(s.scratch, 'store-lmdb');
      if (store === 'postgres') {
        await admin.query('CREATE DATABASE learnloop_bench');
        db = cluster.url.replace(/\/postgres$/, '/learnloop_bench');
      }
      await seedObservations(db, s.candidates.length * 200, (i) => ({ templateId: s.candidates[i % s.candidates.length]!, taskClass: 'bug-fix', repo: 'org/app' }));
      for (const replicas of [1, 2]) {
        s.log(`${store}, ${replicas} replica(s): Recommend and Observe`);
        const servers = await Promise.all(Array.from({ length: replicas }, () => startLearnLoop(db)));
        const ports = servers.map((x) => x.port);
        try {
          for (const rpc of ['recommend', 'observe'] as const) {
            const extra: Partial<LoadSpec> =
              rpc === 'recommend' ? { bodies: [s.recommendBody], ports } : { patched: s.observeBody, idPrefix: `${store}${replicas}-`, ports };
            const p = await runNode(s.spec(ports[0]!, rpc === 'recommend' ? s.recommendPath : s.observePath, s.inFlight, extra));
            s.add(`${store}-${replicas}r-${rpc}`, p);
            points.push({ store, replicas, rpc, callsPerSec: p.callsPerSec, p50Ms: p.p50Ms, p99Ms: p.p99Ms, errors: p.errors });
          }
        } finally {
          for (const x of servers) await x.stop();
        }
      }
    }
    await admin.end().catch(() => {});
    return { points, postgres: version };
  } finally {
    await cluster.destroy();
  }
}
